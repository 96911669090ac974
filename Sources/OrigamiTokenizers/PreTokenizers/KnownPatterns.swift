/// Hand-written matchers for the split regexes that real checkpoints ship. Each reproduces what Oniguruma (the
/// engine `tokenizers` uses) finds for that exact pattern, leftmost-first alternation and backtracking included,
/// in one pass over the scalars; Swift's `Regex` would be one to two orders of magnitude slower on the same text.
enum KnownPatterns {
    static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    /// tiktoken's spelling of the same regex (used by some converted GPT-2 style files).
    static let gpt2Tiktoken = #"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3 =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2 =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let bloom = #" ?[^(\s|[.,!?…。，、।۔،])]+"#
    static let threeDigits = "[0-9][0-9][0-9]"

    /// The matcher for `pattern` if it is one of the known spellings.
    static func matcher(for pattern: String) -> (any MatchPattern)? {
        switch pattern {
        case gpt2, gpt2Tiktoken: return GPT2Pattern()
        case llama3: return Llama3Pattern(maximumDigits: 3)
        case qwen2: return Llama3Pattern(maximumDigits: 1)
        case bloom: return BloomPattern()
        case threeDigits: return ThreeDigitsPattern()
        default: return nil
        }
    }
}

private let apostrophe: Unicode.Scalar = "'"
private let space: Unicode.Scalar = " "
private let carriageReturn: Unicode.Scalar = "\r"
private let lineFeed: Unicode.Scalar = "\n"

extension CharacterClass {
    /// `[^\s\p{L}\p{N}]`
    @inline(__always)
    func isOther(_ scalar: Unicode.Scalar) -> Bool {
        !isWhitespace(scalar) && !isLetter(scalar) && !isNumber(scalar)
    }
}

@inline(__always)
private func run(in text: [Unicode.Scalar], from start: Int, while predicate: (Unicode.Scalar) -> Bool) -> Int {
    var end = start
    while end < text.count && predicate(text[end]) { end += 1 }
    return end
}

/// The end of `'s|'t|'re|'ve|'m|'ll|'d` at `index` (which holds an apostrophe), or nil. `caseInsensitive`
/// follows Oniguruma's case folding, under which `ſ` (U+017F) is an `s`.
@inline(__always)
private func contractionEnd(in text: [Unicode.Scalar], at index: Int, caseInsensitive: Bool) -> Int? {
    guard index + 1 < text.count else { return nil }
    func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        guard caseInsensitive else { return scalar }
        if scalar.value >= 0x41 && scalar.value <= 0x5A { return Unicode.Scalar(scalar.value + 0x20)! }
        if scalar.value == 0x17F { return "s" }
        return scalar
    }
    let first = fold(text[index + 1])
    if first == "s" || first == "t" || first == "m" || first == "d" { return index + 2 }
    guard index + 2 < text.count else { return nil }
    let second = fold(text[index + 2])
    if (first == "r" && second == "e") || (first == "v" && second == "e") || (first == "l" && second == "l") {
        return index + 3
    }
    return nil
}

/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
struct GPT2Pattern: MatchPattern {
    private let classes = CharacterClass.shared

    func appendMatches(in text: [Unicode.Scalar], to matches: inout [Range<Int>]) {
        var index = 0
        while index < text.count {
            let end = matchEnd(in: text, at: index)
            matches.append(index..<end)
            index = end
        }
    }

    private func matchEnd(in text: [Unicode.Scalar], at index: Int) -> Int {
        let scalar = text[index]
        if scalar == apostrophe, let end = contractionEnd(in: text, at: index, caseInsensitive: false) {
            return end
        }
        // ` ?X+`: with the optional space when one is there and X follows it; without it, X must start here.
        let start = scalar == space && index + 1 < text.count ? index + 1 : index
        let first = text[start]
        if classes.isLetter(first) { return run(in: text, from: start, while: classes.isLetter) }
        if classes.isNumber(first) { return run(in: text, from: start, while: classes.isNumber) }
        if classes.isOther(first) { return run(in: text, from: start, while: classes.isOther) }
        return whitespaceEnd(in: text, at: index, classes)
    }
}

/// `\s+(?!\S)|\s+` at a whitespace scalar: the run minus its last scalar when a non-space follows (so that
/// scalar can lead the next word), unless the run is a single scalar.
@inline(__always)
private func whitespaceEnd(in text: [Unicode.Scalar], at index: Int, _ classes: CharacterClass) -> Int {
    let end = run(in: text, from: index, while: classes.isWhitespace)
    if end == text.count || end - 1 == index { return end }
    return end - 1
}

/// Llama 3 (`\p{N}{1,3}`) and Qwen2 (`\p{N}`):
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
struct Llama3Pattern: MatchPattern {
    private let classes = CharacterClass.shared

    let maximumDigits: Int

    func appendMatches(in text: [Unicode.Scalar], to matches: inout [Range<Int>]) {
        var index = 0
        while index < text.count {
            let end = matchEnd(in: text, at: index)
            matches.append(index..<end)
            index = end
        }
    }

    private func matchEnd(in text: [Unicode.Scalar], at index: Int) -> Int {
        let scalar = text[index]
        if scalar == apostrophe, let end = contractionEnd(in: text, at: index, caseInsensitive: true) {
            return end
        }
        if classes.isLetter(scalar) { return run(in: text, from: index, while: classes.isLetter) }
        let isNewline = scalar == carriageReturn || scalar == lineFeed
        if !isNewline && !classes.isNumber(scalar) && index + 1 < text.count
            && classes.isLetter(text[index + 1])
        {
            return run(in: text, from: index + 1, while: classes.isLetter)
        }
        if classes.isNumber(scalar) {
            let end = run(in: text, from: index, while: classes.isNumber)
            return min(end, index + maximumDigits)
        }
        let start = scalar == space && index + 1 < text.count ? index + 1 : index
        if classes.isOther(text[start]) {
            let end = run(in: text, from: start, while: classes.isOther)
            return run(in: text, from: end, while: { $0 == carriageReturn || $0 == lineFeed })
        }
        // Whitespace. `\s*[\r\n]+` backtracks to end just after the run's last line break.
        let end = run(in: text, from: index, while: classes.isWhitespace)
        var last = end - 1
        while last >= index {
            if text[last] == carriageReturn || text[last] == lineFeed { return last + 1 }
            last -= 1
        }
        return whitespaceEnd(in: text, at: index, classes)
    }
}

/// BLOOM's ` ?[^(\s|[.,!?…。，、।۔،])]+`. Oniguruma reads the brackets as one negated class with a nested
/// class, so the excluded set is whitespace plus `( | ) . , ! ? … 。 ， 、 । ۔ ،`. Text outside matches stays
/// as gaps (whitespace and those punctuation marks).
struct BloomPattern: MatchPattern {
    private let classes = CharacterClass.shared

    @inline(__always)
    private func allowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x28, 0x29, 0x7C, 0x2E, 0x2C, 0x21, 0x3F, 0x2026, 0x3002, 0xFF0C, 0x3001, 0x0964, 0x06D4, 0x060C:
            return false
        default:
            return !classes.isWhitespace(scalar)
        }
    }

    func appendMatches(in text: [Unicode.Scalar], to matches: inout [Range<Int>]) {
        var index = 0
        while index < text.count {
            if text[index] == space && index + 1 < text.count && allowed(text[index + 1]) {
                let end = run(in: text, from: index + 1, while: allowed)
                matches.append(index..<end)
                index = end
            } else if allowed(text[index]) {
                let end = run(in: text, from: index, while: allowed)
                matches.append(index..<end)
                index = end
            } else {
                index += 1
            }
        }
    }
}

/// Falcon's `[0-9][0-9][0-9]`: ASCII digit triples, leftmost first.
struct ThreeDigitsPattern: MatchPattern {
    func appendMatches(in text: [Unicode.Scalar], to matches: inout [Range<Int>]) {
        func isDigit(_ scalar: Unicode.Scalar) -> Bool { scalar.value >= 0x30 && scalar.value <= 0x39 }
        var index = 0
        while index + 3 <= text.count {
            if isDigit(text[index]) && isDigit(text[index + 1]) && isDigit(text[index + 2]) {
                matches.append(index..<index + 3)
                index += 3
            } else {
                index += 1
            }
        }
    }
}

/// The Whitespace pre-tokenizer's `\w+|[^\w\s]+` (Rust `regex` crate classes).
struct WordsAndSymbolsPattern: MatchPattern {
    private let classes = CharacterClass.shared

    func appendMatches(in text: [Unicode.Scalar], to matches: inout [Range<Int>]) {
        func isSymbol(_ scalar: Unicode.Scalar) -> Bool {
            !classes.isWord(scalar) && !classes.isWhitespace(scalar)
        }
        var index = 0
        while index < text.count {
            let scalar = text[index]
            if classes.isWord(scalar) {
                let end = run(in: text, from: index, while: classes.isWord)
                matches.append(index..<end)
                index = end
            } else if isSymbol(scalar) {
                let end = run(in: text, from: index, while: isSymbol)
                matches.append(index..<end)
                index = end
            } else {
                index += 1
            }
        }
    }
}
