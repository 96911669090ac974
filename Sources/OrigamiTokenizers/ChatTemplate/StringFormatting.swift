internal import Foundation

extension Jinja {
    /// Python's printf-style `text % values`, behind the `%` operator on strings and the `format` filter.
    enum PercentFormat {
        static func format(_ template: String, _ arguments: Value, at location: SourceLocation) throws(ChatTemplateError) -> String {
            var positional: [Value] = []
            var mapping: PythonDict?
            // CPython treats any non-tuple, non-str argument that supports subscription (a dict, but also a
            // list) as a mapping: it never complains that such an argument went unused.
            var mappingLike = false
            switch arguments {
            case .tuple(let items):
                positional = items
            case .dict(let dict):
                mapping = dict
                mappingLike = true
                positional = [arguments]
            case .list, .object:
                mappingLike = true
                positional = [arguments]
            default:
                positional = [arguments]
            }
            let scalars = Array(template.unicodeScalars)
            var result = ""
            var next = 0
            var i = 0
            func take() throws(ChatTemplateError) -> Value {
                guard next < positional.count else { throw .runtime("not enough arguments for format string", at: location) }
                defer { next += 1 }
                return positional[next]
            }
            func readNumber() -> Int? {
                var value: Int?
                while i < scalars.count, let digit = scalars[i].properties.numericType == .decimal ? Int(String(scalars[i])) : nil {
                    value = (value ?? 0) * 10 + digit
                    i += 1
                }
                return value
            }
            var usedMapping = false
            while i < scalars.count {
                let c = scalars[i]
                guard c == "%" else {
                    result.unicodeScalars.append(c)
                    i += 1
                    continue
                }
                i += 1
                guard i < scalars.count else { throw .runtime("incomplete format", at: location) }
                var value: Value?
                if scalars[i] == "(" {
                    guard let mapping else { throw .runtime("format requires a mapping", at: location) }
                    var depth = 1
                    let start = i + 1
                    i += 1
                    while i < scalars.count, depth > 0 {
                        if scalars[i] == "(" { depth += 1 }
                        if scalars[i] == ")" { depth -= 1 }
                        i += 1
                    }
                    guard depth == 0 else { throw .runtime("incomplete format key", at: location) }
                    let key = PythonString.make(scalars[start..<(i - 1)])
                    guard let found = mapping.get(key) else { throw .runtime("'\(key)'", at: location) }
                    value = found
                    usedMapping = true
                }
                var flags = Set<Unicode.Scalar>()
                while i < scalars.count, "-+ #0".unicodeScalars.contains(scalars[i]) {
                    flags.insert(scalars[i])
                    i += 1
                }
                var width: Int?
                if i < scalars.count, scalars[i] == "*" {
                    i += 1
                    guard let star = Python.integer(try take()) else { throw .runtime("* wants int", at: location) }
                    width = star
                } else {
                    width = readNumber()
                }
                var precision: Int?
                if i < scalars.count, scalars[i] == "." {
                    i += 1
                    if i < scalars.count, scalars[i] == "*" {
                        i += 1
                        guard let star = Python.integer(try take()) else { throw .runtime("* wants int", at: location) }
                        precision = star
                    } else {
                        precision = readNumber() ?? 0
                    }
                }
                while i < scalars.count, "hlL".unicodeScalars.contains(scalars[i]) { i += 1 }
                guard i < scalars.count else { throw .runtime("incomplete format", at: location) }
                let type = scalars[i]
                i += 1
                if type == "%" {
                    result += "%"
                    continue
                }
                let argument: Value
                if let value { argument = value } else { argument = try take() }
                var body: String
                switch type {
                case "s":
                    body = try Python.str(argument, at: location)
                    if let precision { body = PythonString.make(body.unicodeScalars.prefix(precision)) }
                case "r", "a":
                    body = try Python.repr(argument, at: location)
                    if let precision { body = PythonString.make(body.unicodeScalars.prefix(precision)) }
                case "d", "i", "u":
                    guard let number = Python.number(argument) else {
                        throw .runtime("%\(type) format: a real number is required, not \(argument.typeName)", at: location)
                    }
                    let integer: Int
                    switch number {
                    case .int(let value): integer = value
                    case .double(let value):
                        guard value.isFinite else { throw .runtime("cannot convert float to integer", at: location) }
                        integer = Int(value.rounded(.towardZero))
                    }
                    body = signed(String(integer.magnitude), negative: integer < 0, flags)
                    if let precision { body = padDigits(body, precision) }
                case "x", "X", "o":
                    guard let integer = Python.integer(argument) else {
                        throw .runtime("%\(type) format: an integer is required, not \(argument.typeName)", at: location)
                    }
                    var digits = String(integer.magnitude, radix: type == "o" ? 8 : 16, uppercase: type == "X")
                    if let precision { digits = String(repeating: "0", count: max(0, precision - digits.count)) + digits }
                    if flags.contains("#") { digits = (type == "o" ? "0o" : type == "x" ? "0x" : "0X") + digits }
                    body = signed(digits, negative: integer < 0, flags)
                case "e", "E", "f", "F", "g", "G":
                    guard let number = Python.number(argument) else {
                        throw .runtime("must be real number, not \(argument.typeName)", at: location)
                    }
                    let double = number.double
                    let spec = "%" + (flags.contains("#") ? "#" : "") + ".\(precision ?? 6)" + String(type)
                    if double.isFinite {
                        body = signed(String(format: spec, double.magnitude), negative: double.sign == .minus, flags)
                    } else {
                        let text = double.isNaN ? "nan" : "inf"
                        body = signed(type.properties.isUppercase ? text.uppercased() : text, negative: double < 0, flags)
                    }
                case "c":
                    if let integer = Python.integer(argument), let scalar = Unicode.Scalar(UInt32(clamping: integer)) {
                        body = String(scalar)
                    } else if let text = argument.stringValue, text.unicodeScalars.count == 1 {
                        body = text
                    } else {
                        throw .runtime("%c requires int or char", at: location)
                    }
                default:
                    throw .runtime("unsupported format character '\(type)' (0x\(String(type.value, radix: 16)))", at: location)
                }
                if let width, PythonString.length(body) < width {
                    let padding = width - PythonString.length(body)
                    if flags.contains("-") {
                        body += String(repeating: " ", count: padding)
                    } else if flags.contains("0"), "dDiuxXoeEfFgG".unicodeScalars.contains(type) {
                        let signLength = body.hasPrefix("-") || body.hasPrefix("+") || body.hasPrefix(" ") ? 1 : 0
                        let prefixLength = signLength + (flags.contains("#") && "xXo".unicodeScalars.contains(type) ? 2 : 0)
                        let split = body.index(body.startIndex, offsetBy: prefixLength)
                        body = body[..<split] + String(repeating: "0", count: padding) + body[split...]
                    } else {
                        body = String(repeating: " ", count: padding) + body
                    }
                }
                result += body
            }
            if !usedMapping, !mappingLike, next < positional.count {
                throw .runtime("not all arguments converted during string formatting", at: location)
            }
            return result
        }

        private static func signed(_ digits: String, negative: Bool, _ flags: Set<Unicode.Scalar>) -> String {
            if negative { return "-" + digits }
            if flags.contains("+") { return "+" + digits }
            if flags.contains(" ") { return " " + digits }
            return digits
        }

        private static func padDigits(_ body: String, _ precision: Int) -> String {
            let sign = body.hasPrefix("-") || body.hasPrefix("+") || body.hasPrefix(" ") ? String(body.first!) : ""
            let digits = sign.isEmpty ? body : String(body.dropFirst())
            return sign + String(repeating: "0", count: max(0, precision - digits.count)) + digits
        }
    }

    /// Python's `str.format` with the format-spec mini-language for strings and numbers.
    enum BraceFormat {
        static func format(_ template: String, _ arguments: CallArguments, at location: SourceLocation) throws(ChatTemplateError) -> String {
            let scalars = Array(template.unicodeScalars)
            var result = ""
            var automatic = 0
            var i = 0
            while i < scalars.count {
                let c = scalars[i]
                if c == "}" {
                    guard i + 1 < scalars.count, scalars[i + 1] == "}" else {
                        throw .runtime("Single '}' encountered in format string", at: location)
                    }
                    result += "}"
                    i += 2
                    continue
                }
                guard c == "{" else {
                    result.unicodeScalars.append(c)
                    i += 1
                    continue
                }
                if i + 1 < scalars.count, scalars[i + 1] == "{" {
                    result += "{"
                    i += 2
                    continue
                }
                var j = i + 1
                var depth = 1
                while j < scalars.count {
                    if scalars[j] == "{" { depth += 1 }
                    if scalars[j] == "}" {
                        depth -= 1
                        if depth == 0 { break }
                    }
                    j += 1
                }
                guard j < scalars.count else { throw .runtime("Single '{' encountered in format string", at: location) }
                let field = PythonString.make(scalars[(i + 1)..<j])
                i = j + 1
                var name = field
                var conversion: Character?
                var spec = ""
                if let colon = name.firstIndex(of: ":") {
                    spec = String(name[name.index(after: colon)...])
                    name = String(name[..<colon])
                }
                if let bang = name.firstIndex(of: "!") {
                    conversion = name[name.index(after: bang)...].first
                    name = String(name[..<bang])
                }
                guard !name.contains("."), !name.contains("["), !spec.contains("{") else {
                    throw .unsupported(construct: "str.format field '{\(field)}'", at: location)
                }
                let value: Value
                if name.isEmpty {
                    guard automatic < arguments.positional.count else {
                        throw .runtime("Replacement index \(automatic) out of range for positional args tuple", at: location)
                    }
                    value = arguments.positional[automatic]
                    automatic += 1
                } else if let index = Int(name) {
                    guard index < arguments.positional.count else {
                        throw .runtime("Replacement index \(index) out of range for positional args tuple", at: location)
                    }
                    value = arguments.positional[index]
                } else {
                    guard let found = arguments.keyword.last(where: { $0.name == name }) else {
                        throw .runtime("'\(name)'", at: location)
                    }
                    value = found.value
                }
                switch conversion {
                case "r", "a": result += try apply(spec: spec, to: .string(try Python.repr(value, at: location)), at: location)
                case "s": result += try apply(spec: spec, to: .string(try Python.str(value, at: location)), at: location)
                case nil: result += try apply(spec: spec, to: value, at: location)
                default: throw .runtime("Unknown conversion specifier \(conversion!)", at: location)
                }
            }
            return result
        }

        /// `format(value, spec)` for str, int, float and bool.
        static func apply(spec: String, to value: Value, at location: SourceLocation) throws(ChatTemplateError) -> String {
            if spec.isEmpty { return try Python.str(value, at: location) }
            var s = Array(spec.unicodeScalars)
            var fill: Unicode.Scalar = " "
            var align: Unicode.Scalar?
            if s.count >= 2, "<>=^".unicodeScalars.contains(s[1]) {
                fill = s[0]
                align = s[1]
                s.removeFirst(2)
            } else if let first = s.first, "<>=^".unicodeScalars.contains(first) {
                align = first
                s.removeFirst()
            }
            var sign: Unicode.Scalar = "-"
            if let first = s.first, "+- ".unicodeScalars.contains(first) {
                sign = first
                s.removeFirst()
            }
            var alternate = false
            if s.first == "#" {
                alternate = true
                s.removeFirst()
            }
            if s.first == "0" {
                if align == nil {
                    fill = "0"
                    align = "="
                }
                s.removeFirst()
            }
            var width = 0
            while let first = s.first, first.properties.numericType == .decimal, let digit = Int(String(first)) {
                width = width * 10 + digit
                s.removeFirst()
            }
            var grouping: Unicode.Scalar?
            if let first = s.first, first == "," || first == "_" {
                grouping = first
                s.removeFirst()
            }
            var precision: Int?
            if s.first == "." {
                s.removeFirst()
                var digits = 0
                while let first = s.first, first.properties.numericType == .decimal, let digit = Int(String(first)) {
                    digits = digits * 10 + digit
                    s.removeFirst()
                }
                precision = digits
            }
            guard s.count <= 1, grouping == nil else {
                throw .unsupported(construct: "format spec '\(spec)'", at: location)
            }
            let type = s.first
            var body: String
            var negative = false
            switch value {
            case .string(let text), .markup(let text):
                guard type == nil || type == "s" else {
                    throw .runtime("Unknown format code '\(type!)' for object of type 'str'", at: location)
                }
                body = precision.map { PythonString.make(text.unicodeScalars.prefix($0)) } ?? text
                if align == nil { align = "<" }
            default:
                guard let number = Python.number(value) else {
                    throw .unsupported(construct: "format spec for \(value.typeName)", at: location)
                }
                if case .bool(let flag) = value, type == nil {
                    body = flag ? "True" : "False"
                    break
                }
                switch (number, type) {
                case (.int(let integer), nil), (.int(let integer), "d"):
                    body = String(integer.magnitude)
                    negative = integer < 0
                case (.int(let integer), "x"), (.int(let integer), "X"), (.int(let integer), "o"), (.int(let integer), "b"):
                    let radix = type == "o" ? 8 : type == "b" ? 2 : 16
                    body = String(integer.magnitude, radix: radix, uppercase: type == "X")
                    if alternate { body = (type == "o" ? "0o" : type == "b" ? "0b" : type == "X" ? "0X" : "0x") + body }
                    negative = integer < 0
                case (.double(let double), nil):
                    if let precision {
                        body = String(format: "%.\(max(precision, 1))g", double.magnitude)
                    } else {
                        body = Python.floatRepr(double.magnitude)
                    }
                    negative = double.sign == .minus
                case (_, "f"), (_, "F"), (_, "e"), (_, "E"), (_, "g"), (_, "G"), (_, "%"):
                    var double = number.double
                    var code = type!
                    if code == "%" {
                        double *= 100
                        code = "f"
                    }
                    negative = double.sign == .minus
                    if double.isFinite {
                        body = String(format: "%\(alternate ? "#" : "").\(precision ?? 6)\(code)", double.magnitude)
                    } else {
                        body = double.isNaN ? "nan" : "inf"
                        if code.properties.isUppercase { body = body.uppercased() }
                    }
                    if type == "%" { body += "%" }
                default:
                    throw .unsupported(construct: "format spec '\(spec)'", at: location)
                }
                if align == nil { align = ">" }
            }
            let signText = negative ? "-" : sign == "+" ? "+" : sign == " " ? " " : ""
            let length = PythonString.length(signText) + PythonString.length(body)
            let padding = max(0, width - length)
            let pad = { (count: Int) in PythonString.make(repeatElement(fill, count: count)) }
            switch align {
            case "<": return signText + body + pad(padding)
            case "^": return pad(padding / 2) + signText + body + pad(padding - padding / 2)
            case "=": return signText + pad(padding) + body
            default: return pad(padding) + signText + body
            }
        }
    }
}
