/// A config.json that cannot be used, with the file and the JSON path of the offending value.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case notJSON(file: String, byteOffset: Int, reason: String)
    case invalidValue(file: String, path: String, reason: String)
    case missingKey(file: String, path: String)
    case unsupportedModelType(file: String, modelType: String, supported: [String])
    case unsupported(file: String, path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let f, let r): "\(f): cannot read: \(r)"
        case .notJSON(let f, let o, let r): "\(f): not valid JSON: \(r) at byte \(o)"
        case .invalidValue(let f, let p, let r): "\(f): \(p): \(r)"
        case .missingKey(let f, let p): "\(f): \(p): required key is missing"
        case .unsupportedModelType(let f, let t, let s):
            "\(f): $.model_type: unsupported model_type '\(t)'; supported: \(s.joined(separator: ", "))"
        case .unsupported(let f, let p, let r): "\(f): \(p): \(r)"
        }
    }
}

/// Typed access to a JSON object, producing `ConfigError`s that carry the JSON path. Also used for the other small
/// JSON files of a model directory.
public struct JSONObjectReader {
    public let file: String
    public let path: String
    public let value: JSONValue

    public init(file: String, path: String = "$", value: JSONValue) throws {
        guard value.objectValue != nil else { throw ConfigError.invalidValue(file: file, path: path, reason: "expected an object, found \(value.kindName)") }
        self.file = file
        self.path = path
        self.value = value
    }

    public func has(_ key: String) -> Bool {
        if let v = value[key], v != .null { return true }
        return false
    }

    public func keyPath(_ key: String) -> String { "\(path).\(key)" }

    private func present(_ key: String) -> JSONValue? {
        guard let v = value[key], v != .null else { return nil }
        return v
    }

    public func int(_ key: String) throws -> Int? {
        guard let v = present(key) else { return nil }
        guard let i = v.intValue else { throw ConfigError.invalidValue(file: file, path: keyPath(key), reason: "expected an integer, found \(v.kindName)") }
        return i
    }

    public func int(_ key: String, default d: Int) throws -> Int { try int(key) ?? d }

    /// A required positive integer (sizes and counts).
    public func positiveInt(_ key: String, default d: Int? = nil) throws -> Int {
        guard let v = try int(key) ?? d else { throw ConfigError.missingKey(file: file, path: keyPath(key)) }
        guard v > 0 else { throw ConfigError.invalidValue(file: file, path: keyPath(key), reason: "must be positive, found \(v)") }
        return v
    }

    public func double(_ key: String) throws -> Double? {
        guard let v = present(key) else { return nil }
        guard let d = v.doubleValue else { throw ConfigError.invalidValue(file: file, path: keyPath(key), reason: "expected a number, found \(v.kindName)") }
        return d
    }

    public func double(_ key: String, default d: Double) throws -> Double { try double(key) ?? d }

    public func bool(_ key: String) throws -> Bool? {
        guard let v = present(key) else { return nil }
        guard case .bool(let b) = v else { throw ConfigError.invalidValue(file: file, path: keyPath(key), reason: "expected a boolean, found \(v.kindName)") }
        return b
    }

    public func bool(_ key: String, default d: Bool) throws -> Bool { try bool(key) ?? d }

    public func string(_ key: String) throws -> String? {
        guard let v = present(key) else { return nil }
        guard let s = v.stringValue else { throw ConfigError.invalidValue(file: file, path: keyPath(key), reason: "expected a string, found \(v.kindName)") }
        return s
    }

    public func strings(_ key: String) throws -> [String]? {
        guard let v = present(key) else { return nil }
        guard let a = v.arrayValue else { throw ConfigError.invalidValue(file: file, path: keyPath(key), reason: "expected an array, found \(v.kindName)") }
        var out: [String] = []
        for (i, x) in a.enumerated() {
            guard let s = x.stringValue else { throw ConfigError.invalidValue(file: file, path: "\(keyPath(key))[\(i)]", reason: "expected a string, found \(x.kindName)") }
            out.append(s)
        }
        return out
    }

    /// An integer or a list of integers (e.g. `eos_token_id`).
    public func intList(_ key: String) throws -> [Int]? {
        guard let v = present(key) else { return nil }
        if let i = v.intValue { return [i] }
        guard let a = v.arrayValue else {
            throw ConfigError.invalidValue(file: file, path: keyPath(key), reason: "expected an integer or a list of integers, found \(v.kindName)")
        }
        var out: [Int] = []
        for (i, x) in a.enumerated() {
            guard let n = x.intValue else { throw ConfigError.invalidValue(file: file, path: "\(keyPath(key))[\(i)]", reason: "expected an integer, found \(x.kindName)") }
            out.append(n)
        }
        return out
    }

    public func object(_ key: String) throws -> JSONObjectReader? {
        guard let v = present(key) else { return nil }
        return try JSONObjectReader(file: file, path: keyPath(key), value: v)
    }
}
