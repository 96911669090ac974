extension Jinja {
    /// The `tojson` filter transformers installs: `json.dumps(value, ensure_ascii=False, indent=indent,
    /// separators=separators, sort_keys=sort_keys)`, without jinja2's HTML escaping. Byte-exact output matters:
    /// Llama 3.1 and Mistral write tool schemas into the prompt with it.
    enum JSONWriter {
        static func dumps(_ value: Value, ensureASCII: Bool, indent: Value?, separators: Value?, sortKeys: Bool, at location: SourceLocation) throws(ChatTemplateError) -> String {
            var indentText: String?
            switch indent {
            case nil, .none?:
                indentText = nil
            case .string(let text)?:
                indentText = text
            case let .some(other):
                guard let width = Python.integer(other) else {
                    throw .runtime("indent must be an int or a string", at: location)
                }
                indentText = String(repeating: " ", count: max(0, width))
            }
            var itemSeparator = indentText == nil ? ", " : ","
            var keySeparator = ": "
            if let separators, !isNone(separators) {
                let parts = try Python.iterate(separators, at: location)
                guard parts.count == 2, let item = parts[0].stringValue, let key = parts[1].stringValue else {
                    throw .runtime("separators must be a pair of strings", at: location)
                }
                itemSeparator = item
                keySeparator = key
            }
            var writer = Writer(ensureASCII: ensureASCII, indent: indentText, itemSeparator: itemSeparator,
                                keySeparator: keySeparator, sortKeys: sortKeys, location: location)
            try writer.write(value, level: 0)
            return writer.output
        }

        private static func isNone(_ value: Value) -> Bool {
            if case .none = value { return true }
            return false
        }

        private struct Writer {
            let ensureASCII: Bool
            let indent: String?
            let itemSeparator: String
            let keySeparator: String
            let sortKeys: Bool
            let location: SourceLocation
            var output = ""

            mutating func newline(_ level: Int) {
                guard let indent else { return }
                output += "\n" + String(repeating: indent, count: level)
            }

            mutating func write(_ value: Value, level: Int) throws(ChatTemplateError) {
                guard level < Python.maximumDepth else { throw .runtime("maximum recursion depth exceeded while encoding JSON", at: location) }
                switch value {
                case .none: output += "null"
                case .bool(let flag): output += flag ? "true" : "false"
                case .int(let integer): output += String(integer)
                case .double(let double): output += number(double)
                case .string(let text), .markup(let text): output += quote(text)
                case .list(let items), .tuple(let items):
                    try writeArray(items, level: level)
                case .dict(let dict):
                    try writeObject(dict, level: level)
                case .undefined:
                    throw .runtime("Object of type Undefined is not JSON serializable", at: location)
                case .object(let object):
                    throw .runtime("Object of type \(object.typeName) is not JSON serializable", at: location)
                }
            }

            func number(_ double: Double) -> String {
                if double.isNaN { return "NaN" }
                if double.isInfinite { return double < 0 ? "-Infinity" : "Infinity" }
                return Python.floatRepr(double)
            }

            mutating func writeArray(_ items: [Value], level: Int) throws(ChatTemplateError) {
                guard !items.isEmpty else {
                    output += "[]"
                    return
                }
                output += "["
                for (index, item) in items.enumerated() {
                    if index > 0 { output += itemSeparator }
                    newline(level + 1)
                    try write(item, level: level + 1)
                }
                newline(level)
                output += "]"
            }

            mutating func writeObject(_ dict: PythonDict, level: Int) throws(ChatTemplateError) {
                guard dict.count > 0 else {
                    output += "{}"
                    return
                }
                var entries: [(key: String, value: Value)] = []
                for (key, value) in dict.items {
                    let text: String
                    switch key {
                    case .string(let string), .markup(let string): text = string
                    case .int(let integer): text = String(integer)
                    case .double(let double): text = number(double)
                    case .bool(let flag): text = flag ? "true" : "false"
                    case .none: text = "null"
                    default:
                        throw .runtime("keys must be str, int, float, bool or None, not \(key.typeName)", at: location)
                    }
                    entries.append((text, value))
                }
                if sortKeys {
                    let order = try Filters.stableOrder(entries.map { .string($0.key) }, reverse: false, at: location)
                    entries = order.map { entries[$0] }
                }
                output += "{"
                for (index, entry) in entries.enumerated() {
                    if index > 0 { output += itemSeparator }
                    newline(level + 1)
                    output += quote(entry.key) + keySeparator
                    try write(entry.value, level: level + 1)
                }
                newline(level)
                output += "}"
            }

            func quote(_ text: String) -> String {
                var result = "\""
                for scalar in text.unicodeScalars {
                    switch scalar {
                    case "\"": result += "\\\""
                    case "\\": result += "\\\\"
                    case "\n": result += "\\n"
                    case "\r": result += "\\r"
                    case "\t": result += "\\t"
                    case "\u{08}": result += "\\b"
                    case "\u{0C}": result += "\\f"
                    default:
                        if scalar.value < 0x20 {
                            result += PythonString.hexEscape(scalar.value, prefix: "u", digits: 4)
                        } else if ensureASCII, scalar.value > 0x7E {
                            if scalar.value > 0xFFFF {
                                let offset = scalar.value - 0x10000
                                result += PythonString.hexEscape(0xD800 + (offset >> 10), prefix: "u", digits: 4)
                                result += PythonString.hexEscape(0xDC00 + (offset & 0x3FF), prefix: "u", digits: 4)
                            } else {
                                result += PythonString.hexEscape(scalar.value, prefix: "u", digits: 4)
                            }
                        } else {
                            result.unicodeScalars.append(scalar)
                        }
                    }
                }
                return result + "\""
            }
        }
    }
}
