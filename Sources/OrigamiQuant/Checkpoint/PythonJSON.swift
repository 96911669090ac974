public import OrigamiFormats

/// Writes JSON as transformers writes config.json (`json.dumps(d, indent=2, sort_keys=True) + "\n"`): two-space
/// indentation, `", "`-free item separators at line ends, keys sorted by code point, non-ASCII escaped as `\uXXXX`,
/// numbers kept as the source spelled them. A config rewritten this way only differs where its values do.
public enum PythonJSON {
    public static func dumps(_ value: JSONValue, indent: Int = 2, sortKeys: Bool = true) -> String {
        var out = ""
        write(value, level: 0, indent: indent, sortKeys: sortKeys, into: &out)
        return out
    }

    static func write(_ value: JSONValue, level: Int, indent: Int, sortKeys: Bool, into out: inout String) {
        let pad = String(repeating: " ", count: (level + 1) * indent)
        let close = String(repeating: " ", count: level * indent)
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(_, let text): out += text
        case .string(let s): out += quote(s)
        case .array(let items):
            guard !items.isEmpty else {
                out += "[]"
                return
            }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                write(item, level: level + 1, indent: indent, sortKeys: sortKeys, into: &out)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += close + "]"
        case .object(let fields):
            guard !fields.isEmpty else {
                out += "{}"
                return
            }
            let ordered = sortKeys ? fields.sorted { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) } : fields
            out += "{\n"
            for (i, f) in ordered.enumerated() {
                out += pad + quote(f.key) + ": "
                write(f.value, level: level + 1, indent: indent, sortKeys: sortKeys, into: &out)
                out += i + 1 < ordered.count ? ",\n" : "\n"
            }
            out += close + "}"
        }
    }

    /// Python's `json.dumps` string escaping with `ensure_ascii=True`.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 || u.value > 0x7E {
                    if u.value > 0xFFFF {
                        let v = u.value - 0x10000
                        out += hex4(0xD800 + (v >> 10)) + hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        out += hex4(u.value)
                    }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - h.count) + h
    }

    /// A JSON number from a Swift value, spelled as Python would (`6.0`, `64`).
    public static func number(_ d: Double) -> JSONValue {
        .number(d, text: d == d.rounded() && abs(d) < 1e16 ? String(format: "%.1f", d) : "\(d)")
    }

    public static func number(_ i: Int) -> JSONValue { .number(Double(i), text: String(i)) }
}
