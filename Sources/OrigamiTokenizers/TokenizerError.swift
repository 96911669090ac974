/// What went wrong while reading a tokenizer's files. Every case names the file and, for JSON content, the path
/// inside it (`$.model.merges[12]`), so a broken download or an unsupported model can be diagnosed from the
/// message alone.
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read at all (missing, unreadable).
    case unreadableFile(file: String, reason: String)
    /// The bytes are not JSON.
    case malformedJSON(file: String, line: Int, column: Int, reason: String)
    /// A key the format requires is absent.
    case missingKey(file: String, path: String)
    /// A value has the wrong JSON type, e.g. a number where a string belongs.
    case wrongType(file: String, path: String, expected: String, found: String)
    /// A value has the right type but cannot be used (a merge naming a token missing from the vocabulary...).
    case invalidValue(file: String, path: String, reason: String)
    /// A component `type` this library does not implement.
    case unsupportedComponent(file: String, path: String, kind: String, type: String, supported: [String])
    /// A `Regex` pattern neither a hand-written matcher nor Swift's regex engine can run.
    case unsupportedRegex(file: String, path: String, pattern: String, reason: String)

    public var description: String {
        switch self {
        case .unreadableFile(let file, let reason):
            return "\(file): cannot read: \(reason)"
        case .malformedJSON(let file, let line, let column, let reason):
            return "\(file): line \(line), column \(column): malformed JSON: \(reason)"
        case .missingKey(let file, let path):
            return "\(file): \(path): missing"
        case .wrongType(let file, let path, let expected, let found):
            return "\(file): \(path): expected \(expected), found \(found)"
        case .invalidValue(let file, let path, let reason):
            return "\(file): \(path): \(reason)"
        case .unsupportedComponent(let file, let path, let kind, let type, let supported):
            let list = supported.joined(separator: ", ")
            return "\(file): \(path): unsupported \(kind) type \"\(type)\" (supported: \(list))"
        case .unsupportedRegex(let file, let path, let pattern, let reason):
            return "\(file): \(path): unsupported regex \(pattern.debugDescription): \(reason)"
        }
    }
}
