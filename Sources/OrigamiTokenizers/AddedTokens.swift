/// A token the vocabulary gained on top of the model (`added_tokens` in tokenizer.json): special tokens such as
/// `<s>` and `<|im_start|>`, or plain additions. They are cut out of the text before BPE ever sees it.
struct AddedToken: Sendable {
    var id: Int
    var content: String
    /// Skipped by `decode(skipSpecialTokens: true)`.
    var special: Bool
    /// Swallows the whitespace before it.
    var lstrip: Bool
    /// Swallows the whitespace after it.
    var rstrip: Bool
    /// Matches only between non-word characters.
    var singleWord: Bool
    /// Matched in normalized text (with its own content normalized) rather than in the raw input.
    var normalized: Bool

    init(
        id: Int, content: String, special: Bool, lstrip: Bool = false, rstrip: Bool = false,
        singleWord: Bool = false, normalized: Bool
    ) {
        self.id = id
        self.content = content
        self.special = special
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.singleWord = singleWord
        self.normalized = normalized
    }

    init(_ node: JSONNode) throws(TokenizerError) {
        let special = try node.bool("special", default: false)
        self.init(
            id: try node.required("id").int(),
            content: try node.string("content"),
            special: special,
            lstrip: try node.bool("lstrip", default: false),
            rstrip: try node.bool("rstrip", default: false),
            singleWord: try node.bool("single_word", default: false),
            normalized: try node.bool("normalized", default: !special))
    }
}

/// A stretch of the input after added tokens have been cut out.
enum Segment: Sendable {
    case text(Piece)
    case token(Int)
}

/// Finds added tokens in text as `tokenizers` does: Aho-Corasick leftmost-longest over the contents, then the
/// per-token rules (single_word rejects matches inside words, lstrip/rstrip absorb neighbouring whitespace).
struct AddedTokenMatcher: Sendable {
    private struct Pattern: Sendable {
        var scalars: [Unicode.Scalar]
        var token: AddedToken
    }

    /// Candidate patterns by first scalar, longest first.
    private let patternsByFirst: [Unicode.Scalar: [Pattern]]
    /// Whether a Basic Multilingual Plane scalar starts any pattern: most text scalars are rejected with one
    /// load instead of a dictionary lookup.
    private let startsPattern: [Bool]

    init?(_ entries: [(pattern: [Unicode.Scalar], token: AddedToken)]) {
        var byFirst: [Unicode.Scalar: [Pattern]] = [:]
        for entry in entries {
            guard let first = entry.pattern.first else { continue }
            byFirst[first, default: []].append(Pattern(scalars: entry.pattern, token: entry.token))
        }
        if byFirst.isEmpty { return nil }
        for key in byFirst.keys {
            byFirst[key]!.sort { $0.scalars.count > $1.scalars.count }
        }
        patternsByFirst = byFirst
        var starts = [Bool](repeating: false, count: 0x10000)
        for first in byFirst.keys where first.value < 0x10000 { starts[Int(first.value)] = true }
        startsPattern = starts
    }

    /// The longest pattern that occurs at `index`.
    private func longestMatch(in text: [Unicode.Scalar], at index: Int) -> Pattern? {
        let first = text[index]
        if first.value < 0x10000 && !startsPattern[Int(first.value)] { return nil }
        guard let candidates = patternsByFirst[first] else { return nil }
        for candidate in candidates {
            let end = index + candidate.scalars.count
            if end <= text.count && text[index..<end].elementsEqual(candidate.scalars) { return candidate }
        }
        return nil
    }

    /// Splits `piece` into text and added-token segments (`AddedVocabulary::find_matches`).
    func split(_ piece: Piece, into segments: inout [Segment]) {
        let text = piece.scalars
        var startOffset = 0
        var index = 0
        func appendText(_ range: Range<Int>) {
            segments.append(
                .text(Piece(Array(text[range]), startsAtOrigin: piece.startsAtOrigin && range.lowerBound == 0)))
        }
        while index < text.count {
            guard let match = longestMatch(in: text, at: index) else {
                index += 1
                continue
            }
            var start = index
            var stop = index + match.scalars.count
            // The search resumes after the match as found, whatever stripping does to its bounds.
            index = stop
            let token = match.token
            if token.singleWord {
                let startsWord = start == 0 || !CharacterClass.isWord(text[start - 1])
                let endsWord = stop == text.count || !CharacterClass.isWord(text[stop])
                if !startsWord || !endsWord { continue }
            }
            if token.lstrip {
                var newStart = start
                while newStart > 0 && CharacterClass.isWhitespace(text[newStart - 1]) { newStart -= 1 }
                start = max(newStart, startOffset)
            }
            if token.rstrip {
                while stop < text.count && CharacterClass.isWhitespace(text[stop]) { stop += 1 }
            }
            if startOffset < start { appendText(startOffset..<start) }
            segments.append(.token(token.id))
            startOffset = stop
        }
        if startOffset < text.count { appendText(startOffset..<text.count) }
    }
}
