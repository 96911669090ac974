internal import Foundation

extension Jinja {
    /// Python's semantics for the values a template handles: how they print, compare, iterate and combine.
    /// Prompts depend on these details (`True`, `None`, `1.0`, `['a']`), so they follow CPython exactly.
    enum Python {
        /// Containers nested deeper than this are refused rather than risking the stack.
        static let maximumDepth = 256
        /// Strings and lists built by `*` beyond this many elements are refused (hostile templates).
        static let maximumRepeatedLength = 1 << 26

        static func undefinedError(_ undefined: Undefined, at location: SourceLocation) -> ChatTemplateError {
            .runtime(undefined.message, at: location)
        }

        // MARK: Printing

        /// `str(value)`, which `{{ value }}` prints; undefined prints as nothing.
        static func str(_ value: Value, at location: SourceLocation) throws(ChatTemplateError) -> String {
            switch value {
            case .string(let text), .markup(let text): text
            case .undefined: ""
            default: try repr(value, at: location)
            }
        }

        /// `repr(value)`, which is how values print inside lists, tuples and dicts.
        static func repr(_ value: Value, at location: SourceLocation = SourceLocation(line: 0, column: 0), depth: Int = 0) throws(ChatTemplateError) -> String {
            guard depth < maximumDepth else { throw .runtime("maximum recursion depth exceeded while printing", at: location) }
            switch value {
            case .none: return "None"
            case .bool(let flag): return flag ? "True" : "False"
            case .int(let integer): return String(integer)
            case .double(let double): return floatRepr(double)
            case .string(let text): return PythonString.repr(text)
            case .markup(let text): return "Markup(\(PythonString.repr(text)))"
            case .undefined: return "Undefined"
            case .list(let items):
                var parts: [String] = []
                for item in items { parts.append(try repr(item, at: location, depth: depth + 1)) }
                return "[" + parts.joined(separator: ", ") + "]"
            case .tuple(let items):
                var parts: [String] = []
                for item in items { parts.append(try repr(item, at: location, depth: depth + 1)) }
                return items.count == 1 ? "(\(parts[0]),)" : "(" + parts.joined(separator: ", ") + ")"
            case .dict(let dict):
                var parts: [String] = []
                for (key, item) in dict.items {
                    parts.append(try repr(key, at: location, depth: depth + 1) + ": " + repr(item, at: location, depth: depth + 1))
                }
                return "{" + parts.joined(separator: ", ") + "}"
            case .object(let object):
                return try object.repr(at: location)
            }
        }

        /// `repr(float)`: the shortest digits that read back to the same double, in fixed notation when the
        /// decimal exponent is in [-4, 16) and in scientific notation (`1e+16`, `1e-05`) otherwise.
        static func floatRepr(_ double: Double) -> String {
            if double.isNaN { return "nan" }
            if double.isInfinite { return double < 0 ? "-inf" : "inf" }
            if double == 0 { return double.sign == .minus ? "-0.0" : "0.0" }
            // Swift's description also gives the shortest round-tripping digits; only the layout differs.
            var text = Substring(double.description)
            var negative = false
            if text.hasPrefix("-") {
                negative = true
                text = text.dropFirst()
            }
            var exponent = 0
            if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
                exponent = Int(text[text.index(after: e)...]) ?? 0
                text = text[..<e]
            }
            var digits = ""
            var pointPosition = text.count
            if let dot = text.firstIndex(of: ".") {
                pointPosition = text.distance(from: text.startIndex, to: dot)
                digits = String(text[..<dot]) + String(text[text.index(after: dot)...])
            } else {
                digits = String(text)
            }
            var decimalPoint = pointPosition + exponent
            while digits.hasPrefix("0"), digits.count > 1 {
                digits.removeFirst()
                decimalPoint -= 1
            }
            while digits.hasSuffix("0"), digits.count > 1 { digits.removeLast() }
            var result = negative ? "-" : ""
            if decimalPoint <= -4 || decimalPoint > 16 {
                let exponentValue = decimalPoint - 1
                result += String(digits.first!)
                if digits.count > 1 { result += "." + digits.dropFirst() }
                let magnitude = abs(exponentValue)
                result += (exponentValue < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + String(magnitude)
            } else if decimalPoint <= 0 {
                result += "0." + String(repeating: "0", count: -decimalPoint) + digits
            } else if decimalPoint >= digits.count {
                result += digits + String(repeating: "0", count: decimalPoint - digits.count) + ".0"
            } else {
                let split = digits.index(digits.startIndex, offsetBy: decimalPoint)
                result += digits[..<split] + "." + digits[split...]
            }
            return result
        }

        // MARK: Truth, equality, ordering

        static func isTrue(_ value: Value) -> Bool {
            switch value {
            case .none, .undefined: false
            case .bool(let flag): flag
            case .int(let integer): integer != 0
            case .double(let double): double != 0
            case .string(let text), .markup(let text): !text.isEmpty
            case .list(let items), .tuple(let items): !items.isEmpty
            case .dict(let dict): dict.count > 0
            case .object(let object): object.isTrue
            }
        }

        /// A number's value when it is `bool`, `int` or `float` (Python's numeric tower).
        enum Number {
            case int(Int)
            case double(Double)

            var double: Double {
                switch self {
                case .int(let integer): Double(integer)
                case .double(let double): double
                }
            }
        }

        static func number(_ value: Value) -> Number? {
            switch value {
            case .bool(let flag): .int(flag ? 1 : 0)
            case .int(let integer): .int(integer)
            case .double(let double): .double(double)
            default: nil
            }
        }

        /// An index: `int` or `bool`.
        static func integer(_ value: Value) -> Int? {
            switch value {
            case .bool(let flag): flag ? 1 : 0
            case .int(let integer): integer
            default: nil
            }
        }

        /// Exact comparison of two numbers, as Python compares an int with a float. Nil when unordered (NaN).
        static func compareNumbers(_ lhs: Number, _ rhs: Number) -> Int? {
            switch (lhs, rhs) {
            case (.int(let a), .int(let b)):
                return a < b ? -1 : a == b ? 0 : 1
            case (.double(let a), .double(let b)):
                if a.isNaN || b.isNaN { return nil }
                return a < b ? -1 : a == b ? 0 : 1
            case (.int(let a), .double(let b)):
                return compareNumbers(.double(b), .int(a)).map { -$0 }
            case (.double(let a), .int(let b)):
                if a.isNaN { return nil }
                if a.isInfinite { return a < 0 ? -1 : 1 }
                let floor = a.rounded(.down)
                if floor >= 9.3e18 { return 1 }
                if floor <= -9.3e18 { return -1 }
                let whole = Int(floor)
                if whole != b { return whole < b ? -1 : 1 }
                return a == floor ? 0 : 1
            }
        }

        static func equal(_ lhs: Value, _ rhs: Value, depth: Int = 0) -> Bool {
            guard depth < maximumDepth else { return false }
            if let a = number(lhs), let b = number(rhs) { return compareNumbers(a, b) == 0 }
            switch (lhs, rhs) {
            case (.none, .none), (.undefined, .undefined):
                return true
            case (.string(let a), .string(let b)), (.string(let a), .markup(let b)), (.markup(let a), .string(let b)),
                (.markup(let a), .markup(let b)):
                return PythonString.equal(a, b)
            case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
                guard a.count == b.count else { return false }
                for (x, y) in zip(a, b) where !equal(x, y, depth: depth + 1) { return false }
                return true
            case (.dict(let a), .dict(let b)):
                guard a.count == b.count else { return false }
                for (key, value) in a.items {
                    guard let hashKey = HashKey(key), let other = b.get(hashKey), equal(value, other, depth: depth + 1) else {
                        return false
                    }
                }
                return true
            case (.object(let a), .object(let b)):
                if let x = a as? RangeObject, let y = b as? RangeObject { return x.values.count == y.values.count && equal(.list(x.values), .list(y.values)) }
                if let x = a as? DictViewObject, let y = b as? DictViewObject, x.typeName == y.typeName, x.typeName != "dict_values" {
                    return equal(.list(x.items), .list(y.items))
                }
                return a === b
            default:
                return false
            }
        }

        /// `lhs < rhs` (and friends) with Python's rules: numbers with numbers, strings with strings, lists and
        /// tuples lexicographically; anything else is a TypeError.
        static func order(_ lhs: Value, _ rhs: Value, _ symbol: String, at location: SourceLocation) throws(ChatTemplateError) -> Int? {
            if case .undefined(let undefined) = lhs { throw undefinedError(undefined, at: location) }
            if case .undefined(let undefined) = rhs { throw undefinedError(undefined, at: location) }
            if let a = number(lhs), let b = number(rhs) { return compareNumbers(a, b) }
            switch (lhs, rhs) {
            case (.string(let a), .string(let b)), (.string(let a), .markup(let b)), (.markup(let a), .string(let b)),
                (.markup(let a), .markup(let b)):
                return PythonString.less(a, b) ? -1 : PythonString.equal(a, b) ? 0 : 1
            case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
                for (x, y) in zip(a, b) where !equal(x, y) {
                    return try order(x, y, symbol, at: location)
                }
                return a.count < b.count ? -1 : a.count == b.count ? 0 : 1
            default:
                throw .runtime("'\(symbol)' not supported between instances of '\(lhs.typeName)' and '\(rhs.typeName)'", at: location)
            }
        }

        static func compare(_ op: CompareOperator, _ lhs: Value, _ rhs: Value, at location: SourceLocation) throws(ChatTemplateError) -> Bool {
            switch op {
            case .equal: return equal(lhs, rhs)
            case .notEqual: return !equal(lhs, rhs)
            case .contains: return try contains(rhs, lhs, at: location)
            case .notContains: return !(try contains(rhs, lhs, at: location))
            case .less: return try order(lhs, rhs, "<", at: location).map { $0 < 0 } ?? false
            case .lessOrEqual: return try order(lhs, rhs, "<=", at: location).map { $0 <= 0 } ?? false
            case .greater: return try order(lhs, rhs, ">", at: location).map { $0 > 0 } ?? false
            case .greaterOrEqual: return try order(lhs, rhs, ">=", at: location).map { $0 >= 0 } ?? false
            }
        }

        /// `item in container`.
        static func contains(_ container: Value, _ item: Value, at location: SourceLocation) throws(ChatTemplateError) -> Bool {
            switch container {
            case .string(let text), .markup(let text):
                guard let needle = item.stringValue else {
                    if case .undefined(let undefined) = item { throw undefinedError(undefined, at: location) }
                    throw .runtime("'in <string>' requires string as left operand, not \(item.typeName)", at: location)
                }
                return PythonString.contains(needle, in: text)
            case .list(let items), .tuple(let items):
                for element in items where equal(element, item) { return true }
                return false
            case .dict(let dict):
                guard let key = HashKey(item) else {
                    throw .runtime("unhashable type: '\(item.typeName)'", at: location)
                }
                return dict.get(key) != nil
            case .undefined:
                return false
            case .object(let object):
                if let range = object as? RangeObject {
                    guard let number = number(item) else { return false }
                    for element in range.values where compareNumbers(.int(integer(element)!), number) == 0 { return true }
                    return false
                }
                guard let items = try object.iterate(at: location) else {
                    throw .runtime("argument of type '\(object.typeName)' is not iterable", at: location)
                }
                for element in items where equal(element, item) { return true }
                return false
            default:
                throw .runtime("argument of type '\(container.typeName)' is not iterable", at: location)
            }
        }

        // MARK: Iteration and length

        /// The items `for x in value` visits: characters of a string, keys of a dict, nothing for undefined.
        static func iterate(_ value: Value, at location: SourceLocation) throws(ChatTemplateError) -> [Value] {
            switch value {
            case .string(let text), .markup(let text):
                return text.unicodeScalars.map { .string(String($0)) }
            case .list(let items), .tuple(let items):
                return items
            case .dict(let dict):
                return dict.keys
            case .undefined:
                return []
            case .object(let object):
                guard let items = try object.iterate(at: location) else {
                    throw .runtime("'\(object.typeName)' object is not iterable", at: location)
                }
                return items
            default:
                throw .runtime("'\(value.typeName)' object is not iterable", at: location)
            }
        }

        static func isIterable(_ value: Value) -> Bool {
            switch value {
            case .string, .markup, .list, .tuple, .dict, .undefined: true
            case .object(let object):
                object is GeneratorObject || object is RangeObject || object is DictViewObject || object is NamespaceObject
            default: false
            }
        }

        static func length(_ value: Value, at location: SourceLocation) throws(ChatTemplateError) -> Int {
            switch value {
            case .string(let text), .markup(let text): return PythonString.length(text)
            case .list(let items), .tuple(let items): return items.count
            case .dict(let dict): return dict.count
            case .undefined: return 0
            case .object(let object):
                guard let length = object.length else {
                    throw .runtime("object of type '\(object.typeName)' has no len()", at: location)
                }
                return length
            default:
                throw .runtime("object of type '\(value.typeName)' has no len()", at: location)
            }
        }

        static func hashKey(_ value: Value, at location: SourceLocation) throws(ChatTemplateError) -> HashKey {
            guard let key = HashKey(value) else { throw .runtime("unhashable type: '\(value.typeName)'", at: location) }
            return key
        }

        // MARK: Arithmetic

        static func checkUndefined(_ values: Value..., at location: SourceLocation) throws(ChatTemplateError) {
            for value in values {
                if case .undefined(let undefined) = value { throw undefinedError(undefined, at: location) }
            }
        }

        static func unsupportedOperands(_ symbol: String, _ lhs: Value, _ rhs: Value, at location: SourceLocation) -> ChatTemplateError {
            .runtime("unsupported operand type(s) for \(symbol): '\(lhs.typeName)' and '\(rhs.typeName)'", at: location)
        }

        static func overflow(at location: SourceLocation) -> ChatTemplateError {
            .runtime("integer result does not fit in 64 bits", at: location)
        }

        static func binary(_ op: BinaryOperator, _ lhs: Value, _ rhs: Value, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            try checkUndefined(lhs, rhs, at: location)
            if let a = number(lhs), let b = number(rhs) {
                return try arithmetic(op, a, b, at: location)
            }
            switch op {
            case .add:
                switch (lhs, rhs) {
                case (.string(let a), .string(let b)): return .string(a + b)
                case (.markup(let a), .markup(let b)): return .markup(a + b)
                case (.markup(let a), .string(let b)): return .markup(a + PythonString.htmlEscape(b))
                case (.string(let a), .markup(let b)): return .markup(PythonString.htmlEscape(a) + b)
                case (.list(let a), .list(let b)): return .list(a + b)
                case (.tuple(let a), .tuple(let b)): return .tuple(a + b)
                case (.string, _), (.markup, _):
                    throw .runtime("can only concatenate str (not \"\(rhs.typeName)\") to str", at: location)
                case (.list, _):
                    throw .runtime("can only concatenate list (not \"\(rhs.typeName)\") to list", at: location)
                case (.tuple, _):
                    throw .runtime("can only concatenate tuple (not \"\(rhs.typeName)\") to tuple", at: location)
                default:
                    throw unsupportedOperands("+", lhs, rhs, at: location)
                }
            case .multiply:
                if let count = integer(rhs) { return try repeatSequence(lhs, count, rhs: rhs, at: location) }
                if let count = integer(lhs) { return try repeatSequence(rhs, count, rhs: lhs, at: location) }
                throw unsupportedOperands("*", lhs, rhs, at: location)
            case .modulo:
                if let format = lhs.stringValue {
                    if case .markup = lhs {
                        // Markup % values escapes the values it formats.
                        func escaped(_ value: Value) -> Value {
                            if case .string(let string) = value { return .markup(PythonString.htmlEscape(string)) }
                            return value
                        }
                        var arguments = rhs
                        if case .tuple(let items) = rhs { arguments = .tuple(items.map(escaped)) } else { arguments = escaped(rhs) }
                        return .markup(try PercentFormat.format(format, arguments, at: location))
                    }
                    return .string(try PercentFormat.format(format, rhs, at: location))
                }
                throw unsupportedOperands("%", lhs, rhs, at: location)
            default:
                throw unsupportedOperands(op.rawValue, lhs, rhs, at: location)
            }
        }

        private static func repeatSequence(_ sequence: Value, _ count: Int, rhs: Value, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            let times = max(0, count)
            switch sequence {
            case .string(let text), .markup(let text):
                guard PythonString.length(text) * times <= maximumRepeatedLength else {
                    throw .runtime("repeated string is too long", at: location)
                }
                let repeated = String(repeating: text, count: times)
                if case .markup = sequence { return .markup(repeated) }
                return .string(repeated)
            case .list(let items), .tuple(let items):
                guard items.count * times <= maximumRepeatedLength else {
                    throw .runtime("repeated sequence is too long", at: location)
                }
                var result: [Value] = []
                for _ in 0..<times { result += items }
                if case .tuple = sequence { return .tuple(result) }
                return .list(result)
            default:
                throw unsupportedOperands("*", sequence, rhs, at: location)
            }
        }

        private static func arithmetic(_ op: BinaryOperator, _ a: Number, _ b: Number, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            if case .int(let x) = a, case .int(let y) = b {
                switch op {
                case .add:
                    let (result, overflow) = x.addingReportingOverflow(y)
                    if overflow { throw self.overflow(at: location) }
                    return .int(result)
                case .subtract:
                    let (result, overflow) = x.subtractingReportingOverflow(y)
                    if overflow { throw self.overflow(at: location) }
                    return .int(result)
                case .multiply:
                    let (result, overflow) = x.multipliedReportingOverflow(by: y)
                    if overflow { throw self.overflow(at: location) }
                    return .int(result)
                case .divide:
                    guard y != 0 else { throw .runtime("division by zero", at: location) }
                    return .double(Double(x) / Double(y))
                case .floorDivide:
                    guard y != 0 else { throw .runtime("integer division or modulo by zero", at: location) }
                    let (quotient, overflow) = x.dividedReportingOverflow(by: y)
                    if overflow { throw self.overflow(at: location) }
                    let remainder = x - quotient * y
                    return .int(remainder != 0 && (remainder < 0) != (y < 0) ? quotient - 1 : quotient)
                case .modulo:
                    guard y != 0 else { throw .runtime("integer modulo by zero", at: location) }
                    let (remainder, overflow) = x.remainderReportingOverflow(dividingBy: y)
                    if overflow { return .int(0) }
                    return .int(remainder != 0 && (remainder < 0) != (y < 0) ? remainder + y : remainder)
                case .power:
                    if y < 0 {
                        guard x != 0 else { throw .runtime("0.0 cannot be raised to a negative power", at: location) }
                        return .double(pow(Double(x), Double(y)))
                    }
                    var result = 1
                    var base = x
                    var exponent = y
                    while exponent > 0 {
                        if exponent & 1 == 1 {
                            let (product, overflow) = result.multipliedReportingOverflow(by: base)
                            if overflow { throw self.overflow(at: location) }
                            result = product
                        }
                        exponent >>= 1
                        if exponent > 0 {
                            let (square, overflow) = base.multipliedReportingOverflow(by: base)
                            if overflow { throw self.overflow(at: location) }
                            base = square
                        }
                    }
                    return .int(result)
                }
            }
            let x = a.double
            let y = b.double
            switch op {
            case .add: return .double(x + y)
            case .subtract: return .double(x - y)
            case .multiply: return .double(x * y)
            case .divide:
                guard y != 0 else { throw .runtime("float division by zero", at: location) }
                return .double(x / y)
            case .floorDivide:
                guard y != 0 else { throw .runtime("float floor division by zero", at: location) }
                return .double(floatDivMod(x, y).quotient)
            case .modulo:
                guard y != 0 else { throw .runtime("float modulo", at: location) }
                return .double(floatDivMod(x, y).remainder)
            case .power:
                if x == 0, y < 0 { throw .runtime("0.0 cannot be raised to a negative power", at: location) }
                if x < 0, y.rounded() != y {
                    throw .unsupported(construct: "complex result of a power", at: location)
                }
                let result = pow(x, y)
                if result.isInfinite, x.isFinite, y.isFinite { throw .runtime("(34, 'Numerical result out of range')", at: location) }
                return .double(result)
            }
        }

        /// CPython's float `divmod`: the remainder takes the divisor's sign, the quotient is floored.
        static func floatDivMod(_ x: Double, _ y: Double) -> (quotient: Double, remainder: Double) {
            var remainder = x.truncatingRemainder(dividingBy: y)
            var quotient = (x - remainder) / y
            if remainder != 0 {
                if (y < 0) != (remainder < 0) {
                    remainder += y
                    quotient -= 1
                }
            } else {
                remainder = Double(signOf: y, magnitudeOf: 0)
            }
            if quotient != 0 {
                var floored = quotient.rounded(.down)
                if quotient - floored > 0.5 { floored += 1 }
                quotient = floored
            } else {
                quotient = Double(signOf: x / y, magnitudeOf: 0)
            }
            return (quotient, remainder)
        }

        static func negate(_ value: Value, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            try checkUndefined(value, at: location)
            switch number(value) {
            case .int(let integer):
                guard integer != .min else { throw overflow(at: location) }
                return .int(-integer)
            case .double(let double):
                return .double(-double)
            case nil:
                throw .runtime("bad operand type for unary -: '\(value.typeName)'", at: location)
            }
        }

        static func plus(_ value: Value, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            try checkUndefined(value, at: location)
            switch number(value) {
            case .int(let integer): return .int(integer)
            case .double(let double): return .double(double)
            case nil: throw .runtime("bad operand type for unary +: '\(value.typeName)'", at: location)
            }
        }

        // MARK: Conversions

        /// `int(text)`: optional sign, `_` between digits, surrounding whitespace, a prefix matching `base`.
        static func parseInt(_ raw: String, base: Int) -> Int? {
            var text = Substring(PythonString.strip(raw, characters: nil))
            var negative = false
            if text.hasPrefix("-") || text.hasPrefix("+") {
                negative = text.hasPrefix("-")
                text = text.dropFirst()
            }
            var radix = base
            let lower = text.lowercased()
            for (prefix, value) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) && (base == 0 || base == value) {
                radix = value
                text = text.dropFirst(2)
                if text.hasPrefix("_") { text = text.dropFirst() }
                break
            }
            if radix == 0 {
                radix = 10
                if text.count > 1, text.hasPrefix("0"), text.contains(where: { $0 != "0" && $0 != "_" }) { return nil }
            }
            guard !text.isEmpty, !text.hasPrefix("_"), !text.hasSuffix("_"), !text.contains("__") else { return nil }
            guard let magnitude = Int(text.replacingOccurrences(of: "_", with: ""), radix: radix) else { return nil }
            return negative ? -magnitude : magnitude
        }

        /// `float(text)`, which also reads `inf`, `nan` and `_` separators.
        static func parseFloat(_ raw: String) -> Double? {
            let text = PythonString.strip(raw, characters: nil)
            let lower = text.lowercased()
            let unsigned = lower.hasPrefix("-") || lower.hasPrefix("+") ? String(lower.dropFirst()) : lower
            if ["inf", "infinity"].contains(unsigned) { return lower.hasPrefix("-") ? -.infinity : .infinity }
            if unsigned == "nan" { return .nan }
            guard !text.isEmpty, !text.contains("__"), !text.hasPrefix("_"), !text.hasSuffix("_") else { return nil }
            let cleaned = text.replacingOccurrences(of: "_", with: "")
            guard cleaned.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }) else { return nil }
            return Double(cleaned)
        }
    }
}
