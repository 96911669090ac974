/// A JSON value together with where it came from, so that every accessor can throw an error naming the file and
/// the JSON path (`tokenizer.json: $.model.merges[12]: expected a string, found a number`).
struct JSONNode: Sendable {
    let value: JSONValue
    let path: String
    let file: String

    init(value: JSONValue, path: String = "$", file: String) {
        self.value = value
        self.path = path
        self.file = file
    }

    /// Parses `bytes` as the content of `file`.
    static func parse(_ bytes: [UInt8], file: String) throws(TokenizerError) -> JSONNode {
        do {
            return JSONNode(value: try JSONParser.parse(bytes), file: file)
        } catch {
            let (line, column) = JSONParser.lineAndColumn(of: error.offset, in: bytes)
            throw .malformedJSON(file: file, line: line, column: column, reason: error.reason)
        }
    }

    var isNull: Bool {
        if case .null = value { return true }
        return false
    }

    func wrongType(_ expected: String) -> TokenizerError {
        .wrongType(file: file, path: path, expected: expected, found: value.typeName)
    }

    func invalid(_ reason: String) -> TokenizerError {
        .invalidValue(file: file, path: path, reason: reason)
    }

    func child(_ key: String, _ value: JSONValue) -> JSONNode {
        let isIdentifier =
            !key.isEmpty
            && key.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
            }
        let component = isIdentifier ? ".\(key)" : "[\(key.debugDescription)]"
        return JSONNode(value: value, path: path + component, file: file)
    }

    func element(_ index: Int, _ value: JSONValue) -> JSONNode {
        JSONNode(value: value, path: "\(path)[\(index)]", file: file)
    }

    func object() throws(TokenizerError) -> JSONObject {
        guard case .object(let object) = value else { throw wrongType("an object") }
        return object
    }

    /// The value under `key`; absent keys throw `missingKey`, and so does `null` unless the caller allows it.
    func required(_ key: String) throws(TokenizerError) -> JSONNode {
        let object = try object()
        guard let value = object[key] else {
            throw .missingKey(file: file, path: child(key, .null).path)
        }
        return child(key, value)
    }

    /// The value under `key`, or nil when the key is absent or `null`.
    func optional(_ key: String) throws(TokenizerError) -> JSONNode? {
        let object = try object()
        guard let value = object[key] else { return nil }
        if case .null = value { return nil }
        return child(key, value)
    }

    func string() throws(TokenizerError) -> String {
        guard case .string(let string) = value else { throw wrongType("a string") }
        return string
    }

    func bool() throws(TokenizerError) -> Bool {
        guard case .bool(let bool) = value else { throw wrongType("a boolean") }
        return bool
    }

    func int() throws(TokenizerError) -> Int {
        switch value {
        case .integer(let integer): return integer
        case .double(let double) where double == double.rounded() && abs(double) < 9e15: return Int(double)
        default: throw wrongType("an integer")
        }
    }

    func double() throws(TokenizerError) -> Double {
        switch value {
        case .integer(let integer): return Double(integer)
        case .double(let double): return double
        default: throw wrongType("a number")
        }
    }

    func array() throws(TokenizerError) -> [JSONNode] {
        guard case .array(let elements) = value else { throw wrongType("an array") }
        return elements.enumerated().map { element($0.offset, $0.element) }
    }

    /// Key/value pairs in document order.
    func entries() throws(TokenizerError) -> [(key: String, node: JSONNode)] {
        let object = try object()
        return zip(object.keys, object.values).map { ($0, child($0, $1)) }
    }

    // Shorthands for optional scalar fields with defaults.

    func string(_ key: String) throws(TokenizerError) -> String {
        try required(key).string()
    }

    func bool(_ key: String, default fallback: Bool) throws(TokenizerError) -> Bool {
        try optional(key)?.bool() ?? fallback
    }

    func optionalString(_ key: String) throws(TokenizerError) -> String? {
        try optional(key)?.string()
    }

    func optionalInt(_ key: String) throws(TokenizerError) -> Int? {
        try optional(key)?.int()
    }

    func optionalBool(_ key: String) throws(TokenizerError) -> Bool? {
        try optional(key)?.bool()
    }

    func optionalDouble(_ key: String) throws(TokenizerError) -> Double? {
        try optional(key)?.double()
    }

    /// The component's `type` string, checked against the ones this library implements.
    func componentType(kind: String, supported: [String]) throws(TokenizerError) -> String {
        let type = try string("type")
        guard supported.contains(type) else {
            throw .unsupportedComponent(file: file, path: path, kind: kind, type: type, supported: supported)
        }
        return type
    }
}
