extension Jinja {
    /// jinja2's built-in tests (`x is defined`, `x is string`, `select('equalto', ...)`).
    enum Tests {
        static let known: Set<String> = [
            "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "escaped", "even", "false", "filter", "float",
            "ge", "greaterthan", "gt", "in", "integer", "iterable", "le", "lessthan", "lower", "lt", "mapping", "ne", "none",
            "number", "odd", "sameas", "sequence", "string", "test", "true", "undefined", "upper",
            "==", "!=", "<", "<=", ">", ">=",
        ]

        static func apply(_ name: String, _ value: Value, _ arguments: CallArguments, _ renderer: Renderer, at location: SourceLocation) throws(ChatTemplateError) -> Bool {
            guard known.contains(name) else { throw .runtime("No test named '\(name)'.", at: location) }
            func argument() throws(ChatTemplateError) -> Value {
                let bound = try arguments.bind(name, ["other"], at: location)
                guard let other = bound[0] else { throw .runtime("\(name)() missing 1 required positional argument", at: location) }
                return other
            }
            func noArguments() throws(ChatTemplateError) {
                _ = try arguments.bind(name, [], at: location)
            }
            switch name {
            case "defined":
                try noArguments()
                return !value.isUndefined
            case "undefined":
                try noArguments()
                return value.isUndefined
            case "none":
                try noArguments()
                if case .none = value { return true }
                return false
            case "boolean":
                try noArguments()
                if case .bool = value { return true }
                return false
            case "true", "false":
                try noArguments()
                if case .bool(let flag) = value { return flag == (name == "true") }
                return false
            case "integer":
                try noArguments()
                if case .int = value { return true }
                return false
            case "float":
                try noArguments()
                if case .double = value { return true }
                return false
            case "number":
                try noArguments()
                return Python.number(value) != nil
            case "string":
                try noArguments()
                return value.stringValue != nil
            case "mapping":
                try noArguments()
                if case .dict = value { return true }
                return false
            case "iterable":
                try noArguments()
                return Python.isIterable(value)
            case "sequence":
                try noArguments()
                switch value {
                case .string, .markup, .list, .tuple, .dict, .undefined: return true
                case .object(let object): return object is RangeObject
                default: return false
                }
            case "callable":
                try noArguments()
                if case .object(let object) = value { return object.isCallable }
                return false
            case "escaped":
                try noArguments()
                if case .markup = value { return true }
                return false
            case "lower", "upper":
                try noArguments()
                let text = try Python.str(value, at: location)
                return name == "lower" ? PythonString.isLowerString(text) : PythonString.isUpperString(text)
            case "even", "odd":
                try noArguments()
                let remainder = try Python.binary(.modulo, value, .int(2), at: location)
                return Python.equal(remainder, .int(name == "even" ? 0 : 1))
            case "divisibleby":
                let remainder = try Python.binary(.modulo, value, try argument(), at: location)
                return Python.equal(remainder, .int(0))
            case "eq", "equalto", "==":
                return Python.equal(value, try argument())
            case "ne", "!=":
                return !Python.equal(value, try argument())
            case "lt", "lessthan", "<":
                return try Python.compare(.less, value, try argument(), at: location)
            case "le", "<=":
                return try Python.compare(.lessOrEqual, value, try argument(), at: location)
            case "gt", "greaterthan", ">":
                return try Python.compare(.greater, value, try argument(), at: location)
            case "ge", ">=":
                return try Python.compare(.greaterOrEqual, value, try argument(), at: location)
            case "in":
                return try Python.contains(try argument(), value, at: location)
            case "sameas":
                let other = try argument()
                switch (value, other) {
                case (.none, .none): return true
                case (.bool(let a), .bool(let b)): return a == b
                case (.object(let a), .object(let b)): return a === b
                case (.int(let a), .int(let b)): return a == b && (-5...256).contains(a)
                default: return false
                }
            case "filter":
                try noArguments()
                return Filters.known.contains(try Python.str(value, at: location))
            case "test":
                try noArguments()
                return known.contains(try Python.str(value, at: location))
            default:
                throw .unsupported(construct: "test '\(name)'", at: location)
            }
        }
    }
}
