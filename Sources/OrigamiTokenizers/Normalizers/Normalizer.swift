import Foundation

/// Rewrites text before pre-tokenization, keyed in tokenizer.json by `normalizer.type`.
protocol Normalizer: Sendable {
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar]
}

enum Normalizers {
    static let supported = [
        "Sequence", "Prepend", "Replace", "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Strip",
    ]

    static func make(_ node: JSONNode) throws(TokenizerError) -> any Normalizer {
        switch try node.componentType(kind: "normalizer", supported: supported) {
        case "Sequence":
            var stages: [any Normalizer] = []
            for stage in try node.required("normalizers").array() { stages.append(try make(stage)) }
            return SequenceNormalizer(stages: stages)
        case "Prepend":
            return PrependNormalizer(prefix: Array(try node.string("prepend").unicodeScalars))
        case "Replace":
            return ReplaceNormalizer(
                pattern: try makePattern(try node.required("pattern")),
                content: Array(try node.string("content").unicodeScalars))
        case "NFC": return UnicodeNormalizer(form: .nfc)
        case "NFD": return UnicodeNormalizer(form: .nfd)
        case "NFKC": return UnicodeNormalizer(form: .nfkc)
        case "NFKD": return UnicodeNormalizer(form: .nfkd)
        case "Lowercase": return LowercaseNormalizer()
        default:  // Strip
            return StripNormalizer(
                left: try node.bool("strip_left", default: true), right: try node.bool("strip_right", default: true))
        }
    }
}

struct SequenceNormalizer: Normalizer {
    let stages: [any Normalizer]

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var current = text
        for stage in stages { current = stage.normalize(current) }
        return current
    }
}

/// Prepends a string to non-empty text (Llama-2's `▁`).
struct PrependNormalizer: Normalizer {
    let prefix: [Unicode.Scalar]

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        text.isEmpty ? text : prefix + text
    }
}

/// Replaces every match of a literal or regex pattern.
struct ReplaceNormalizer: Normalizer {
    let pattern: any MatchPattern
    let content: [Unicode.Scalar]

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var matches: [Range<Int>] = []
        pattern.appendMatches(in: text, to: &matches)
        if matches.isEmpty { return text }
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count + matches.count * max(0, content.count - 1))
        var previous = 0
        for match in matches {
            output.append(contentsOf: text[previous..<match.lowerBound])
            output.append(contentsOf: content)
            previous = match.upperBound
        }
        output.append(contentsOf: text[previous...])
        return output
    }
}

/// NFC, NFD, NFKC, NFKD through Foundation.
struct UnicodeNormalizer: Normalizer {
    enum Form {
        case nfc, nfd, nfkc, nfkd
    }

    let form: Form

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        // ASCII is invariant under every form.
        if text.allSatisfy({ $0.isASCII }) { return text }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: text)
        let string = String(view)
        let normalized: String
        switch form {
        case .nfc: normalized = string.precomposedStringWithCanonicalMapping
        case .nfd: normalized = string.decomposedStringWithCanonicalMapping
        case .nfkc: normalized = string.precomposedStringWithCompatibilityMapping
        case .nfkd: normalized = string.decomposedStringWithCompatibilityMapping
        }
        return Array(normalized.unicodeScalars)
    }
}

/// Full per-scalar lowercase mapping, as Rust's `char::to_lowercase` (no context rules such as final sigma).
struct LowercaseNormalizer: Normalizer {
    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        for scalar in text {
            if scalar.isASCII {
                output.append(
                    scalar.value >= 0x41 && scalar.value <= 0x5A ? Unicode.Scalar(scalar.value + 0x20)! : scalar)
            } else {
                output.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return output
    }
}

/// Strips leading and/or trailing whitespace.
struct StripNormalizer: Normalizer {
    let left: Bool
    let right: Bool

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var start = 0
        var end = text.count
        if left { while start < end && CharacterClass.isWhitespace(text[start]) { start += 1 } }
        if right { while end > start && CharacterClass.isWhitespace(text[end - 1]) { end -= 1 } }
        return Array(text[start..<end])
    }
}
