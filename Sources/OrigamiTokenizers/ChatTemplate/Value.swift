extension Jinja {
    /// A runtime value while rendering: the Python objects a jinja2 template handles, as far as chat templates
    /// use them.
    enum Value {
        case none
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        /// markupsafe's `Markup`, made by `safe` and `escape`: a string that escapes what is `+`-ed to it.
        case markup(String)
        case list([Value])
        case tuple([Value])
        case dict(PythonDict)
        case undefined(Undefined)
        /// Namespaces, loops, macros, functions, generators, ranges, dict views: objects with identity.
        case object(any TemplateObject)

        init(_ constant: Constant) {
            switch constant {
            case .none: self = .none
            case .bool(let value): self = .bool(value)
            case .int(let value): self = .int(value)
            case .double(let value): self = .double(value)
            case .string(let value): self = .string(value)
            case .markup(let value): self = .markup(value)
            case .list(let items): self = .list(items.map(Value.init))
            case .tuple(let items): self = .tuple(items.map(Value.init))
            case .dict(let items):
                var dict = PythonDict()
                for item in items {
                    let key = Value(item.key)
                    if let hashKey = HashKey(key) { dict.set(key, Value(item.value), key: hashKey) }
                }
                self = .dict(dict)
            }
        }

        init(_ value: TemplateValue) {
            switch value {
            case .none: self = .none
            case .bool(let value): self = .bool(value)
            case .int(let value): self = .int(value)
            case .double(let value): self = .double(value)
            case .string(let value): self = .string(value)
            case .array(let items): self = .list(items.map(Value.init))
            case .dictionary(let dictionary):
                var dict = PythonDict()
                for (key, item) in dictionary {
                    dict.set(.string(key), Value(item), key: .string(HashableString(key)))
                }
                self = .dict(dict)
            }
        }

        /// The text of a `str` or `Markup`.
        var stringValue: String? {
            switch self {
            case .string(let text), .markup(let text): text
            default: nil
            }
        }

        var isUndefined: Bool {
            if case .undefined = self { return true }
            return false
        }

        /// Python's type name, for error messages that match jinja2's.
        var typeName: String {
            switch self {
            case .none: "NoneType"
            case .bool: "bool"
            case .int: "int"
            case .double: "float"
            case .string: "str"
            case .markup: "Markup"
            case .list: "list"
            case .tuple: "tuple"
            case .dict: "dict"
            case .undefined: "Undefined"
            case .object(let object): object.typeName
            }
        }

        /// jinja2's `object_type_repr`, used in "has no attribute" messages.
        var objectTypeDescription: String {
            if case .none = self { return "None" }
            return "\(typeName) object"
        }
    }

    /// jinja2's default `Undefined`: prints as nothing, is false, iterates as empty, and fails with `message`
    /// when used any other way.
    struct Undefined {
        var message: String
        /// Blocked sandbox access: fails with a security error instead.
        var isUnsafe = false

        static func name(_ name: String) -> Undefined {
            Undefined(message: "'\(name)' is undefined")
        }

        static func attribute(_ name: String, of value: Value) -> Undefined {
            Undefined(message: "'\(value.objectTypeDescription)' has no attribute '\(name)'")
        }

        static func element(_ key: Value, of value: Value) -> Undefined {
            if case .string(let name) = key { return attribute(name, of: value) }
            return Undefined(message: "\(value.objectTypeDescription) has no element \((try? Python.repr(key)) ?? "?")")
        }
    }

    /// A string compared and hashed by code points, as Python dict keys are.
    struct HashableString: Hashable {
        let value: String

        init(_ value: String) {
            self.value = value
        }

        static func == (lhs: HashableString, rhs: HashableString) -> Bool {
            PythonString.equal(lhs.value, rhs.value)
        }

        func hash(into hasher: inout Hasher) {
            for byte in value.utf8 { hasher.combine(byte) }
        }
    }

    /// A dict key normalised the way Python hashes: `1`, `1.0` and `True` are the same key.
    enum HashKey: Hashable {
        case none
        case int(Int)
        case double(Double)
        case string(HashableString)
        case tuple([HashKey])
        case undefined

        init?(_ value: Value) {
            switch value {
            case .none: self = .none
            case .bool(let flag): self = .int(flag ? 1 : 0)
            case .int(let integer): self = .int(integer)
            case .double(let double):
                if double.rounded() == double, let integer = Int(exactly: double) {
                    self = .int(integer)
                } else {
                    self = .double(double)
                }
            case .string(let text), .markup(let text): self = .string(HashableString(text))
            case .tuple(let items):
                var keys: [HashKey] = []
                for item in items {
                    guard let key = HashKey(item) else { return nil }
                    keys.append(key)
                }
                self = .tuple(keys)
            case .undefined: self = .undefined
            case .list, .dict, .object: return nil
            }
        }
    }

    /// An insertion-ordered dict, as Python's.
    struct PythonDict {
        private(set) var keys: [Value] = []
        private(set) var values: [Value] = []
        private var index: [HashKey: Int] = [:]

        var count: Int { keys.count }

        /// Sets `value` for `original`, whose normalised form is `key`; an existing key keeps its place.
        mutating func set(_ original: Value, _ value: Value, key: HashKey) {
            if let position = index[key] {
                values[position] = value
            } else {
                index[key] = keys.count
                keys.append(original)
                values.append(value)
            }
        }

        func get(_ key: HashKey) -> Value? {
            index[key].map { values[$0] }
        }

        func get(_ name: String) -> Value? {
            get(.string(HashableString(name)))
        }

        var items: [(key: Value, value: Value)] {
            Array(zip(keys, values)).map { ($0.0, $0.1) }
        }
    }

    /// Arguments of a call, filter or test after evaluation.
    struct CallArguments {
        var positional: [Value] = []
        var keyword: [(name: String, value: Value)] = []

        init(positional: [Value] = [], keyword: [(name: String, value: Value)] = []) {
            self.positional = positional
            self.keyword = keyword
        }

        /// Matches the arguments to `parameters` like a Python call: positional first, then by name. Missing
        /// ones are nil. Fails on unknown names, duplicates and surplus positional arguments.
        func bind(_ function: String, _ parameters: [String], at location: SourceLocation) throws(ChatTemplateError) -> [Value?] {
            guard positional.count <= parameters.count else {
                throw .runtime("\(function)() takes at most \(parameters.count) arguments (\(positional.count) given)", at: location)
            }
            var bound: [Value?] = positional.map { Optional($0) }
            bound += Array(repeating: nil, count: parameters.count - positional.count)
            for (name, value) in keyword {
                guard let position = parameters.firstIndex(of: name) else {
                    throw .runtime("\(function)() got an unexpected keyword argument '\(name)'", at: location)
                }
                guard bound[position] == nil else {
                    throw .runtime("\(function)() got multiple values for argument '\(name)'", at: location)
                }
                bound[position] = value
            }
            return bound
        }
    }

    /// Values with identity and behaviour of their own.
    protocol TemplateObject: AnyObject {
        var typeName: String { get }
        /// `obj.name`; nil when there is no such attribute.
        func attribute(_ name: String) -> Value?
        /// `obj[key]`; nil when there is no such item.
        func item(_ key: Jinja.Value, at location: SourceLocation) throws(ChatTemplateError) -> Value?
        var isCallable: Bool { get }
        func call(_ arguments: CallArguments, _ renderer: Renderer, at location: SourceLocation) throws(ChatTemplateError) -> Value
        /// The items of `for x in obj`, or nil when the object is not iterable.
        func iterate(at location: SourceLocation) throws(ChatTemplateError) -> [Value]?
        /// `len(obj)`, or nil when it has none.
        var length: Int? { get }
        var isTrue: Bool { get }
        /// `repr(obj)`; throws when Python's would hold a memory address and so cannot be reproduced.
        func repr(at location: SourceLocation) throws(ChatTemplateError) -> String
    }
}

extension Jinja.TemplateObject {
    func attribute(_ name: String) -> Jinja.Value? { nil }
    func item(_ key: Jinja.Value, at location: SourceLocation) throws(ChatTemplateError) -> Jinja.Value? { nil }
    var isCallable: Bool { false }
    func call(_ arguments: Jinja.CallArguments, _ renderer: Jinja.Renderer, at location: SourceLocation) throws(ChatTemplateError) -> Jinja.Value {
        throw .runtime("'\(typeName)' object is not callable", at: location)
    }
    func iterate(at location: SourceLocation) throws(ChatTemplateError) -> [Jinja.Value]? { nil }
    var length: Int? { nil }
    var isTrue: Bool { length.map { $0 > 0 } ?? true }
    func repr(at location: SourceLocation) throws(ChatTemplateError) -> String {
        throw .unsupported(construct: "printing a \(typeName) object", at: location)
    }
}
