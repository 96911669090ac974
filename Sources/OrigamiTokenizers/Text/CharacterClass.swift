/// The character classes the Hugging Face pipeline tests, under the names of the engines that define them:
/// Oniguruma's `\s`, `\p{L}`, `\p{N}` (Split regexes), Rust's `char` predicates (Digits, Punctuation,
/// WhitespaceSplit) and the Rust `regex` crate's `\w` (Whitespace pre-tokenizer, single-word added tokens).
///
/// Looked up per scalar on the hot path, so the Basic Multilingual Plane is precomputed into one flag byte each.
/// Matchers keep a copy of `shared` so the table is reached without a lazy-global check per scalar.
struct CharacterClass: Sendable {
    static let shared = CharacterClass()

    private static let letter: UInt8 = 1 << 0
    private static let number: UInt8 = 1 << 1
    private static let whitespace: UInt8 = 1 << 2
    private static let punctuation: UInt8 = 1 << 3
    private static let word: UInt8 = 1 << 4
    private static let alphanumeric: UInt8 = 1 << 5

    private let planeZero: [UInt8]

    private init() {
        planeZero = (0..<0x10000).map { value in
            guard let scalar = Unicode.Scalar(UInt32(value)) else { return 0 }
            return Self.computeFlags(scalar)
        }
    }

    private static func computeFlags(_ scalar: Unicode.Scalar) -> UInt8 {
        let properties = scalar.properties
        var flags: UInt8 = 0
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            flags |= letter
        case .decimalNumber, .letterNumber, .otherNumber:
            flags |= number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            // `tokenizers` takes P* from the `unicode_categories` crate, whose tables stop at Unicode 8.0.
            if let age = properties.age, age.major < 9 { flags |= punctuation }
        default:
            break
        }
        if scalar.isASCII
            && (0x21...0x2F ~= scalar.value || 0x3A...0x40 ~= scalar.value
                || 0x5B...0x60 ~= scalar.value || 0x7B...0x7E ~= scalar.value)
        {
            flags |= punctuation
        }
        if properties.isWhitespace { flags |= whitespace }
        if properties.isAlphabetic || flags & number != 0 { flags |= alphanumeric }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation:
            flags |= word
        default:
            if properties.isAlphabetic || properties.isJoinControl { flags |= word }
        }
        return flags
    }

    @inline(__always)
    private func flags(_ scalar: Unicode.Scalar) -> UInt8 {
        scalar.value < 0x10000 ? planeZero[Int(scalar.value)] : Self.computeFlags(scalar)
    }

    /// `\p{L}`: general category L*.
    @inline(__always) func isLetter(_ scalar: Unicode.Scalar) -> Bool { flags(scalar) & Self.letter != 0 }

    /// `\p{N}` and Rust's `char::is_numeric`: general category N*.
    @inline(__always) func isNumber(_ scalar: Unicode.Scalar) -> Bool { flags(scalar) & Self.number != 0 }

    /// `\s` in Oniguruma and Rust, and `char::is_whitespace`: the White_Space property.
    @inline(__always) func isWhitespace(_ scalar: Unicode.Scalar) -> Bool { flags(scalar) & Self.whitespace != 0 }

    /// What the Punctuation pre-tokenizer splits on: ASCII punctuation (which includes symbols like `$+<=>^|~`)
    /// and general category P*.
    @inline(__always) func isPunctuation(_ scalar: Unicode.Scalar) -> Bool { flags(scalar) & Self.punctuation != 0 }

    /// The `regex` crate's Unicode `\w`: alphabetic, marks, decimal digits, connector punctuation, join controls.
    @inline(__always) func isWord(_ scalar: Unicode.Scalar) -> Bool { flags(scalar) & Self.word != 0 }

    /// Rust's `char::is_alphanumeric`: Alphabetic or N*.
    @inline(__always) func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool { flags(scalar) & Self.alphanumeric != 0 }

    // The same predicates through the shared table, for code off the hot path and for closures.
    static func isLetter(_ scalar: Unicode.Scalar) -> Bool { shared.isLetter(scalar) }
    static func isNumber(_ scalar: Unicode.Scalar) -> Bool { shared.isNumber(scalar) }
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool { shared.isWhitespace(scalar) }
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool { shared.isPunctuation(scalar) }
    static func isWord(_ scalar: Unicode.Scalar) -> Bool { shared.isWord(scalar) }
}
