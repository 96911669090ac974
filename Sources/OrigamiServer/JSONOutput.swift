public import OrigamiFormats

/// Building and writing JSON responses as `JSONValue`s: keys stay in the order written, nulls are explicit.
extension JSONValue {
    static func int(_ n: Int) -> JSONValue { .number(Double(n), text: String(n)) }

    /// A finite float as JSON (non-finite values, which JSON cannot carry, become the most negative finite one).
    static func float(_ x: Float) -> JSONValue {
        let v = x.isFinite ? x : (x > 0 ? Float.greatestFiniteMagnitude : -Float.greatestFiniteMagnitude)
        return .number(Double(v), text: "\(v)")
    }

    static func double(_ x: Double) -> JSONValue {
        let v = x.isFinite ? x : 0
        return .number(v, text: "\(v)")
    }

    static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    /// Compact JSON text.
    public var serialized: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(_, let text): out += text
        case .string(let s): out += JSONWriter.quote(s)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let entries):
            out += "{"
            for (i, entry) in entries.enumerated() {
                if i > 0 { out += "," }
                out += JSONWriter.quote(entry.key)
                out += ":"
                entry.value.write(into: &out)
            }
            out += "}"
        }
    }
}
