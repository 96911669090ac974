/// Turns tokens back into text, keyed in tokenizer.json by `decoder.type`. Like `tokenizers`' `decode_chain`,
/// each stage maps a list of token strings to another list; the results are finally concatenated.
protocol TokenDecoder: Sendable {
    func decodeChain(_ tokens: [String]) -> [String]
}

enum Decoders {
    static let supported = [
        "Sequence", "ByteLevel", "Metaspace", "Replace", "ByteFallback", "Fuse", "Strip", "BPEDecoder",
    ]

    static func make(_ node: JSONNode) throws(TokenizerError) -> any TokenDecoder {
        switch try node.componentType(kind: "decoder", supported: supported) {
        case "Sequence":
            var stages: [any TokenDecoder] = []
            for stage in try node.required("decoders").array() { stages.append(try make(stage)) }
            return SequenceDecoder(stages: stages)
        case "ByteLevel":
            return ByteLevelDecoder()
        case "Metaspace":
            let replacementNode = try node.required("replacement")
            let replacement = try replacementNode.string()
            guard replacement.unicodeScalars.count == 1 else {
                throw replacementNode.invalid("expected a single character")
            }
            let scheme = try MetaspacePreTokenizer.prependScheme(node)
            return MetaspaceDecoder(replacement: replacement.unicodeScalars.first!, stripsFirst: scheme != .never)
        case "Replace":
            return ReplaceDecoder(
                pattern: try makePattern(try node.required("pattern")),
                content: Array(try node.string("content").unicodeScalars))
        case "ByteFallback":
            return ByteFallbackDecoder()
        case "Fuse":
            return FuseDecoder()
        case "Strip":
            let contentNode = try node.required("content")
            let content = try contentNode.string()
            guard content.unicodeScalars.count == 1 else { throw contentNode.invalid("expected a single character") }
            let start = try node.optionalInt("start") ?? 0
            let stop = try node.optionalInt("stop") ?? 0
            guard start >= 0, stop >= 0 else { throw node.invalid("start and stop must not be negative") }
            return StripDecoder(content: content.unicodeScalars.first!, start: start, stop: stop)
        default:  // BPEDecoder
            return SuffixDecoder(suffix: try node.optionalString("suffix") ?? "</w>")
        }
    }
}

extension Decoders {
    static func containsByteFallback(_ decoder: any TokenDecoder) -> Bool {
        if decoder is ByteFallbackDecoder { return true }
        if let sequence = decoder as? SequenceDecoder { return sequence.stages.contains(where: containsByteFallback) }
        return false
    }
}

struct SequenceDecoder: TokenDecoder {
    let stages: [any TokenDecoder]

    func decodeChain(_ tokens: [String]) -> [String] {
        var current = tokens
        for stage in stages { current = stage.decodeChain(current) }
        return current
    }
}

/// Maps the GPT-2 table characters back to bytes and decodes the whole byte string at once, so characters split
/// across tokens come back whole. A token with a character outside the table contributes its own UTF-8.
struct ByteLevelDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for token in tokens {
            let start = bytes.count
            var complete = true
            for scalar in token.unicodeScalars {
                guard let byte = ByteLevelTable.byte(for: scalar) else {
                    complete = false
                    break
                }
                bytes.append(byte)
            }
            if !complete {
                bytes.removeSubrange(start...)
                bytes.append(contentsOf: token.utf8)
            }
        }
        return [UTF8Repair.decode(bytes)]
    }
}

/// The Metaspace decoder: `▁` becomes a space, except in the first token, where every `▁` is dropped (unless
/// the prepend scheme is `never`).
struct MetaspaceDecoder: TokenDecoder {
    let replacement: Unicode.Scalar
    let stripsFirst: Bool

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { index, token in
            var view = String.UnicodeScalarView()
            for scalar in token.unicodeScalars {
                if scalar == replacement {
                    if index == 0 && stripsFirst { continue }
                    view.append(" ")
                } else {
                    view.append(scalar)
                }
            }
            return String(view)
        }
    }
}

/// Replaces a pattern in every token (Llama-2's `▁` → space).
struct ReplaceDecoder: TokenDecoder {
    let pattern: any MatchPattern
    let content: [Unicode.Scalar]

    func decodeChain(_ tokens: [String]) -> [String] {
        // The usual case, one scalar for another (`▁` → space), without a round trip through arrays.
        if let literal = pattern as? LiteralPattern, literal.literal.count == 1, content.count == 1 {
            let target = literal.literal[0]
            let replacement = content[0]
            return tokens.map { token in
                guard token.unicodeScalars.contains(target) else { return token }
                var view = String.UnicodeScalarView()
                for scalar in token.unicodeScalars { view.append(scalar == target ? replacement : scalar) }
                return String(view)
            }
        }
        let replace = ReplaceNormalizer(pattern: pattern, content: content)
        return tokens.map { String(scalars: replace.normalize(Array($0.unicodeScalars))) }
    }
}

/// Turns runs of `<0xAB>` tokens into the text their bytes spell. A run that is not valid UTF-8 becomes one
/// U+FFFD per byte, as in `tokenizers`.
struct ByteFallbackDecoder: TokenDecoder {
    /// The byte a `<0xAB>` token stands for. Matches Rust's `u8::from_str_radix` on the two characters, which
    /// also accepts a leading `+`.
    static func byte(of token: String) -> UInt8? {
        guard token.utf8.count == 6 else { return nil }
        let utf8 = Array(token.utf8)
        guard utf8[0] == UInt8(ascii: "<"), utf8[1] == UInt8(ascii: "0"),
            utf8[2] == UInt8(ascii: "x"), utf8[5] == UInt8(ascii: ">")
        else { return nil }
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        if utf8[3] == UInt8(ascii: "+") { return hex(utf8[4]) }
        guard let high = hex(utf8[3]), let low = hex(utf8[4]) else { return nil }
        return high << 4 | low
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        var output: [String] = []
        output.reserveCapacity(tokens.count)
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let string = String(validating: pending, as: UTF8.self) {
                output.append(string)
            } else {
                output.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
            }
            pending.removeAll(keepingCapacity: true)
        }
        for token in tokens {
            if let byte = Self.byte(of: token) {
                pending.append(byte)
            } else {
                flush()
                output.append(token)
            }
        }
        flush()
        return output
    }
}

struct FuseDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        [tokens.joined()]
    }
}

/// Removes up to `start` leading and `stop` trailing `content` characters from each token.
struct StripDecoder: TokenDecoder {
    let content: Unicode.Scalar
    let start: Int
    let stop: Int

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            let scalars = Array(token.unicodeScalars)
            var lower = 0
            while lower < min(start, scalars.count) && scalars[lower] == content { lower += 1 }
            var upper = scalars.count
            var removed = 0
            while removed < stop && upper > lower && scalars[upper - 1] == content {
                upper -= 1
                removed += 1
            }
            return String(scalars: Array(scalars[lower..<upper]))
        }
    }
}

/// `BPEDecoder`: the end-of-word suffix becomes a space, or nothing in the last token.
struct SuffixDecoder: TokenDecoder {
    let suffix: String

    func decodeChain(_ tokens: [String]) -> [String] {
        let pattern = LiteralPattern(literal: Array(suffix.unicodeScalars))
        let space = ReplaceNormalizer(pattern: pattern, content: [" "])
        let nothing = ReplaceNormalizer(pattern: pattern, content: [])
        return tokens.enumerated().map { index, token in
            let replace = index == tokens.count - 1 ? nothing : space
            return String(scalars: replace.normalize(Array(token.unicodeScalars)))
        }
    }
}

/// UTF-8 decoding that replaces each maximal invalid subsequence with one U+FFFD, as Rust's
/// `String::from_utf8_lossy` does.
enum UTF8Repair {
    static func decode(_ bytes: [UInt8]) -> String {
        if let valid = String(validating: bytes, as: UTF8.self) { return valid }
        var view = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            let (scalar, length) = decodeOne(bytes, at: index)
            view.append(scalar ?? "\u{FFFD}")
            index += length
        }
        return String(view)
    }

    private static func isLead(_ byte: UInt8) -> Bool { byte >= 0xC2 && byte <= 0xF4 }

    private static func expectedLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 1
        }
    }

    /// One scalar at `index`, or nil and the length of the maximal invalid subpart to replace.
    private static func decodeOne(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar?, Int) {
        let lead = bytes[index]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        guard isLead(lead) else { return (nil, 1) }
        let length = expectedLength(lead)
        var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        var consumed = 1
        while consumed < length {
            let position = index + consumed
            guard position < bytes.count else { return (nil, consumed) }
            let byte = bytes[position]
            // The second byte's range depends on the lead (no overlongs, surrogates or values past U+10FFFF).
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            if consumed == 1 {
                switch lead {
                case 0xE0: low = 0xA0
                case 0xED: high = 0x9F
                case 0xF0: low = 0x90
                case 0xF4: high = 0x8F
                default: break
                }
            }
            guard byte >= low && byte <= high else { return (nil, consumed) }
            value = value << 6 | UInt32(byte & 0x3F)
            consumed += 1
        }
        return (Unicode.Scalar(value), length)
    }
}
