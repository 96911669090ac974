/// Splits normalized text into the words BPE sees, keyed in tokenizer.json by `pre_tokenizer.type`.
protocol PreTokenizer: Sendable {
    func preTokenize(_ pieces: [Piece]) -> [Piece]
}

enum PreTokenizers {
    static let supported = [
        "Sequence", "Split", "ByteLevel", "Metaspace", "Digits", "Punctuation", "Whitespace", "WhitespaceSplit",
        "BertPreTokenizer", "CharDelimiterSplit",
    ]

    /// Builds the pre-tokenizer described by `node` (an object with a `type`).
    static func make(_ node: JSONNode) throws(TokenizerError) -> any PreTokenizer {
        switch try node.componentType(kind: "pre-tokenizer", supported: supported) {
        case "Sequence":
            let stages = try node.required("pretokenizers").array()
            var built: [any PreTokenizer] = []
            for stage in stages { built.append(try make(stage)) }
            return SequencePreTokenizer(stages: built)
        case "Split":
            return try SplitPreTokenizer(node)
        case "ByteLevel":
            return ByteLevelPreTokenizer(
                addPrefixSpace: try node.bool("add_prefix_space", default: true),
                useRegex: try node.bool("use_regex", default: true))
        case "Metaspace":
            return try MetaspacePreTokenizer(node)
        case "Digits":
            return PredicatePreTokenizer(
                predicate: CharacterClass.isNumber,
                behavior: try node.bool("individual_digits", default: false) ? .isolated : .contiguous)
        case "Punctuation":
            let behavior = try node.optional("behavior").map { node throws(TokenizerError) in
                try SplitBehavior.parse(node)
            }
            return PredicatePreTokenizer(predicate: CharacterClass.isPunctuation, behavior: behavior ?? .isolated)
        case "Whitespace":
            return WhitespacePreTokenizer()
        case "WhitespaceSplit":
            return PredicatePreTokenizer(predicate: CharacterClass.isWhitespace, behavior: .removed)
        case "BertPreTokenizer":
            return SequencePreTokenizer(stages: [
                PredicatePreTokenizer(predicate: CharacterClass.isWhitespace, behavior: .removed),
                PredicatePreTokenizer(predicate: CharacterClass.isPunctuation, behavior: .isolated),
            ])
        default:  // CharDelimiterSplit
            let delimiterNode = try node.required("delimiter")
            let delimiter = try delimiterNode.string().unicodeScalars
            guard delimiter.count == 1, let scalar = delimiter.first else {
                throw delimiterNode.invalid("expected a single character")
            }
            return PredicatePreTokenizer(predicate: { $0 == scalar }, behavior: .removed)
        }
    }
}

struct SequencePreTokenizer: PreTokenizer {
    let stages: [any PreTokenizer]

    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        var current = pieces
        for stage in stages { current = stage.preTokenize(current) }
        return current
    }
}

/// `Split`: a regex or literal pattern with a split behavior, optionally inverted.
struct SplitPreTokenizer: PreTokenizer {
    let pattern: any MatchPattern
    let behavior: SplitBehavior
    let invert: Bool

    init(_ node: JSONNode) throws(TokenizerError) {
        pattern = try makePattern(try node.required("pattern"))
        behavior = try SplitBehavior.parse(try node.required("behavior"))
        invert = try node.bool("invert", default: false)
    }

    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        var output: [Piece] = []
        output.reserveCapacity(pieces.count * 4)
        for piece in pieces {
            piece.split(on: pattern, behavior: behavior, invert: invert, into: &output)
        }
        return output
    }
}

/// Reads a `{"String": ...}` or `{"Regex": ...}` pattern object.
func makePattern(_ node: JSONNode) throws(TokenizerError) -> any MatchPattern {
    if let literal = try node.optional("String") {
        return LiteralPattern(literal: Array(try literal.string().unicodeScalars))
    }
    if let regexNode = try node.optional("Regex") {
        let source = try regexNode.string()
        if let known = KnownPatterns.matcher(for: source) { return known }
        return try RegexPattern(pattern: source, node: regexNode)
    }
    throw node.invalid("expected a pattern object with a \"String\" or \"Regex\" key")
}

/// Splits on every scalar satisfying a predicate: Digits, Punctuation, WhitespaceSplit, CharDelimiterSplit.
struct PredicatePreTokenizer: PreTokenizer {
    let predicate: @Sendable (Unicode.Scalar) -> Bool
    let behavior: SplitBehavior

    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        let pattern = ScalarPredicatePattern(predicate: predicate)
        var output: [Piece] = []
        output.reserveCapacity(pieces.count * 2)
        for piece in pieces {
            piece.split(on: pattern, behavior: behavior, into: &output)
        }
        return output
    }
}

/// `Whitespace`: keeps `\w+|[^\w\s]+`, drops the whitespace between.
struct WhitespacePreTokenizer: PreTokenizer {
    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        var output: [Piece] = []
        for piece in pieces {
            piece.split(on: WordsAndSymbolsPattern(), behavior: .removed, invert: true, into: &output)
        }
        return output
    }
}

/// `Metaspace`: spaces become the replacement character (`▁`), which is prepended per `prepend_scheme` and,
/// with `split`, starts each word.
struct MetaspacePreTokenizer: PreTokenizer {
    enum PrependScheme: String {
        case first, always, never
    }

    let replacement: Unicode.Scalar
    let prependScheme: PrependScheme
    let split: Bool

    init(_ node: JSONNode) throws(TokenizerError) {
        let replacementNode = try node.required("replacement")
        let scalars = try replacementNode.string().unicodeScalars
        guard scalars.count == 1, let scalar = scalars.first else {
            throw replacementNode.invalid("expected a single character")
        }
        replacement = scalar
        prependScheme = try Self.prependScheme(node)
        split = try node.bool("split", default: true)
    }

    init(replacement: Unicode.Scalar, prependScheme: PrependScheme, split: Bool) {
        self.replacement = replacement
        self.prependScheme = prependScheme
        self.split = split
    }

    /// `prepend_scheme`, or the older `add_prefix_space` boolean (true meaning "always").
    static func prependScheme(_ node: JSONNode) throws(TokenizerError) -> PrependScheme {
        if let schemeNode = try node.optional("prepend_scheme") {
            let name = try schemeNode.string()
            guard let scheme = PrependScheme(rawValue: name) else {
                throw schemeNode.invalid("unknown prepend_scheme \"\(name)\" (supported: first, always, never)")
            }
            return scheme
        }
        return try node.bool("add_prefix_space", default: true) ? .always : .never
    }

    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        var output: [Piece] = []
        for var piece in pieces {
            for index in piece.scalars.indices where piece.scalars[index] == " " {
                piece.scalars[index] = replacement
            }
            let shouldPrepend: Bool
            switch prependScheme {
            case .always: shouldPrepend = true
            case .first: shouldPrepend = piece.startsAtOrigin
            case .never: shouldPrepend = false
            }
            if shouldPrepend && !piece.scalars.isEmpty && piece.scalars.first != replacement {
                piece.scalars.insert(replacement, at: 0)
            }
            if split {
                piece.split(on: LiteralPattern(literal: [replacement]), behavior: .mergedWithNext, into: &output)
            } else if !piece.scalars.isEmpty {
                output.append(piece)
            }
        }
        return output
    }
}
