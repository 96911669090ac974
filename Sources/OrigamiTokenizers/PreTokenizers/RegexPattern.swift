/// Any other regex, run by Swift's `Regex` over Unicode scalars. Swift's syntax covers what tokenizer files use
/// (`\p{L}`, `\p{N}`, `(?i:...)`, `(?!\S)`, nested classes), but it is an ICU-flavoured engine, not Oniguruma:
/// exotic constructs may differ (case-insensitive groups do not fold `ſ` to `s` as Oniguruma does), and it is
/// far slower than the hand-written matchers in `KnownPatterns`.
struct RegexPattern: MatchPattern, @unchecked Sendable {
    // `Regex` is immutable after construction and safe to use from several threads; the standard library does
    // not declare it Sendable on every platform yet.
    private let regex: Regex<AnyRegexOutput>
    let pattern: String

    /// Compiles `pattern`, or throws `unsupportedRegex` naming the file and JSON path in `node`.
    init(pattern: String, node: JSONNode) throws(TokenizerError) {
        self.pattern = pattern
        do {
            regex = try Regex(Self.translatingOnigurumaShorthands(pattern)).matchingSemantics(.unicodeScalar)
        } catch {
            throw .unsupportedRegex(file: node.file, path: node.path, pattern: pattern, reason: "\(error)")
        }
    }

    /// Rewrites the shorthand classes whose meaning differs between Oniguruma (Ruby syntax, Unicode) and
    /// Swift: `\d` is only decimal digits (Swift also takes `²`), `\w` is letters, marks, decimal digits and
    /// connector punctuation, `\s` is White_Space, and `\h` is a hexadecimal digit (Swift: horizontal space).
    static func translatingOnigurumaShorthands(_ pattern: String) -> String {
        var output = ""
        var classDepth = 0
        var characters = pattern.makeIterator()
        while let character = characters.next() {
            switch character {
            case "\\":
                guard let escaped = characters.next() else {
                    output.append(character)
                    break
                }
                let inClass = classDepth > 0
                switch escaped {
                case "d": output += #"\p{Nd}"#
                case "D": output += #"\P{Nd}"#
                case "s": output += #"\p{White_Space}"#
                case "S": output += #"\P{White_Space}"#
                case "w": output += inClass ? #"\p{L}\p{M}\p{Nd}\p{Pc}"# : #"[\p{L}\p{M}\p{Nd}\p{Pc}]"#
                case "W" where !inClass: output += #"[^\p{L}\p{M}\p{Nd}\p{Pc}]"#
                case "h": output += inClass ? "0-9a-fA-F" : "[0-9a-fA-F]"
                case "H" where !inClass: output += "[^0-9a-fA-F]"
                default:
                    output.append(character)
                    output.append(escaped)
                }
            case "[":
                classDepth += 1
                output.append(character)
            case "]" where classDepth > 0:
                classDepth -= 1
                output.append(character)
            default:
                output.append(character)
            }
        }
        return output
    }

    func appendMatches(in text: [Unicode.Scalar], to matches: inout [Range<Int>]) {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: text)
        let string = String(view)
        let scalars = string.unicodeScalars
        var cursor = scalars.startIndex
        var offset = 0
        var lastMatchEnd: Int?
        var searchFrom = string.startIndex
        while searchFrom <= string.endIndex {
            guard let match = try? regex.firstMatch(in: string[searchFrom...]) else { break }
            offset += scalars.distance(from: cursor, to: match.range.lowerBound)
            cursor = match.range.lowerBound
            let start = offset
            let length = scalars.distance(from: match.range.lowerBound, to: match.range.upperBound)
            let end = start + length
            offset = end
            cursor = match.range.upperBound
            if length == 0 && lastMatchEnd == end {
                // As Oniguruma's iterator: no empty match right after the previous match; step one scalar on.
                guard match.range.upperBound < string.endIndex else { break }
                searchFrom = scalars.index(after: match.range.upperBound)
                continue
            }
            matches.append(start..<end)
            lastMatchEnd = end
            if length == 0 {
                guard match.range.upperBound < string.endIndex else { break }
                searchFrom = scalars.index(after: match.range.upperBound)
            } else {
                searchFrom = match.range.upperBound
            }
        }
    }
}
