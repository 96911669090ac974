extension Jinja {
    /// The template objects with identity: what `namespace()`, `loop`, macros, functions, generators, `range()`
    /// and dict views are in jinja2.

    /// Objects the renderer must unlink once a render ends: macros and loops hold the scope they were made in,
    /// and that scope holds them back.
    protocol Detachable: AnyObject {
        func detach()
    }

    /// `namespace(...)`: the one object whose attributes `{% set ns.attr = value %}` may change, which is how
    /// templates carry state out of a loop body.
    final class NamespaceObject: TemplateObject, Detachable {
        private(set) var attributes = PythonDict()
        private var printing = false

        var typeName: String { "TemplateNamespace" }

        func set(_ name: String, _ value: Value) {
            attributes.set(.string(name), value, key: .string(HashableString(name)))
        }

        func attribute(_ name: String) -> Value? { attributes.get(name) }

        func item(_ key: Value, at location: SourceLocation) throws(ChatTemplateError) -> Value? {
            guard let hashKey = HashKey(key) else { return nil }
            return attributes.get(hashKey)
        }

        func repr(at location: SourceLocation) throws(ChatTemplateError) -> String {
            guard !printing else { return "<Namespace {...}>" }
            printing = true
            defer { printing = false }
            return "<Namespace \(try Python.repr(.dict(attributes), at: location))>"
        }

        func detach() { attributes = PythonDict() }
    }

    /// The `loop` variable of a `for` body. One object serves every iteration, as in jinja2, so a saved
    /// `{% set outer = loop %}` follows the outer loop along.
    final class LoopObject: TemplateObject, Detachable {
        let items: [Value]
        let depth0: Int
        var index0 = 0
        private var lastChanged: [Value]?
        private var recurse: ((Value, SourceLocation) throws(ChatTemplateError) -> Value)?

        init(items: [Value], depth0: Int, recurse: ((Value, SourceLocation) throws(ChatTemplateError) -> Value)?) {
            self.items = items
            self.depth0 = depth0
            self.recurse = recurse
        }

        var typeName: String { "LoopContext" }

        func attribute(_ name: String) -> Value? {
            let count = items.count
            switch name {
            case "index": return .int(index0 + 1)
            case "index0": return .int(index0)
            case "revindex": return .int(count - index0)
            case "revindex0": return .int(count - index0 - 1)
            case "first": return .bool(index0 == 0)
            case "last": return .bool(index0 == count - 1)
            case "length": return .int(count)
            case "depth": return .int(depth0 + 1)
            case "depth0": return .int(depth0)
            case "previtem":
                return index0 > 0 ? items[index0 - 1] : .undefined(Undefined(message: "there is no previous item"))
            case "nextitem":
                return index0 + 1 < count ? items[index0 + 1] : .undefined(Undefined(message: "there is no next item"))
            case "cycle":
                return .object(FunctionObject(name: "cycle") { arguments, _, location throws(ChatTemplateError) in
                    guard !arguments.positional.isEmpty else {
                        throw .runtime("no items for cycling given", at: location)
                    }
                    return arguments.positional[self.index0 % arguments.positional.count]
                })
            case "changed":
                return .object(FunctionObject(name: "changed") { arguments, _, _ throws(ChatTemplateError) in
                    if let last = self.lastChanged, Python.equal(.list(last), .list(arguments.positional)) {
                        return .bool(false)
                    }
                    self.lastChanged = arguments.positional
                    return .bool(true)
                })
            default: return nil
            }
        }

        var isCallable: Bool { recurse != nil }

        func call(_ arguments: CallArguments, _ renderer: Renderer, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            guard let recurse else {
                throw .runtime("Tried to call non recursive loop. Maybe you forgot the 'recursive' modifier.", at: location)
            }
            guard arguments.positional.count == 1, arguments.keyword.isEmpty else {
                throw .runtime("loop() takes exactly one argument", at: location)
            }
            return try recurse(arguments.positional[0], location)
        }

        func repr(at location: SourceLocation) throws(ChatTemplateError) -> String {
            "<LoopContext \(index0 + 1)/\(items.count)>"
        }

        func detach() { recurse = nil }
    }

    /// A `{% macro %}` (or the body of a `{% call %}` block, which becomes the macro's `caller`).
    final class MacroObject: TemplateObject, Detachable {
        let macro: Macro
        private var closure: Scope?

        init(macro: Macro, closure: Scope) {
            self.macro = macro
            self.closure = closure
        }

        var typeName: String { "Macro" }
        var isCallable: Bool { true }

        func call(_ arguments: CallArguments, _ renderer: Renderer, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            guard let closure else { throw .runtime("macro '\(macro.name)' is no longer available", at: location) }
            return try renderer.invoke(macro, closure: closure, arguments, at: location)
        }

        func attribute(_ name: String) -> Value? {
            switch name {
            case "name": .string(macro.name)
            case "arguments": .tuple(macro.parameters.map { .string($0) })
            case "catch_kwargs": .bool(macro.takesKwargs)
            case "catch_varargs": .bool(macro.takesVarargs)
            case "caller": .bool(macro.takesCaller)
            default: nil
            }
        }

        func repr(at location: SourceLocation) throws(ChatTemplateError) -> String {
            "<Macro \(PythonString.repr(macro.name))>"
        }

        func detach() { closure = nil }
    }

    /// A built-in function or a bound method (`range`, `'text'.strip`, `loop.cycle`).
    final class FunctionObject: TemplateObject {
        typealias Body = (CallArguments, Renderer, SourceLocation) throws(ChatTemplateError) -> Value

        let name: String
        private let body: Body

        init(name: String, body: @escaping Body) {
            self.name = name
            self.body = body
        }

        var typeName: String { "builtin_function_or_method" }
        var isCallable: Bool { true }

        func call(_ arguments: CallArguments, _ renderer: Renderer, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            try body(arguments, renderer, location)
        }
    }

    /// A one-shot iterator: what `select`, `map`, `unique`, `items`, `batch` and `reverse` return in jinja2. It
    /// is always true, has no length, and a second loop over it sees nothing.
    final class GeneratorObject: TemplateObject {
        let typeName: String
        private var items: [Value]

        init(_ items: [Value], typeName: String = "generator") {
            self.items = items
            self.typeName = typeName
        }

        func iterate(at location: SourceLocation) throws(ChatTemplateError) -> [Value]? {
            defer { items = [] }
            return items
        }

        /// `next(generator)`: the first remaining item, which is then gone.
        func next() -> Value? {
            items.isEmpty ? nil : items.removeFirst()
        }

        var isTrue: Bool { true }
    }

    /// `range(start, stop, step)`.
    final class RangeObject: TemplateObject {
        let start: Int
        let stop: Int
        let step: Int

        init(start: Int, stop: Int, step: Int) {
            self.start = start
            self.stop = stop
            self.step = step
        }

        var typeName: String { "range" }

        var count: Int {
            if step > 0 { return stop > start ? (stop - start - 1) / step + 1 : 0 }
            return start > stop ? (start - stop - 1) / -step + 1 : 0
        }

        var values: [Value] { (0..<count).map { .int(start + $0 * step) } }

        var length: Int? { count }

        func iterate(at location: SourceLocation) throws(ChatTemplateError) -> [Value]? { values }

        func item(_ key: Value, at location: SourceLocation) throws(ChatTemplateError) -> Value? {
            guard let index = Python.integer(key) else { return nil }
            let position = index < 0 ? index + count : index
            guard position >= 0, position < count else { return nil }
            return .int(start + position * step)
        }

        func repr(at location: SourceLocation) throws(ChatTemplateError) -> String {
            step == 1 ? "range(\(start), \(stop))" : "range(\(start), \(stop), \(step))"
        }
    }

    /// `dict.keys()`, `dict.values()`, `dict.items()`.
    final class DictViewObject: TemplateObject {
        let typeName: String
        let items: [Value]

        init(typeName: String, items: [Value]) {
            self.typeName = typeName
            self.items = items
        }

        var length: Int? { items.count }

        func iterate(at location: SourceLocation) throws(ChatTemplateError) -> [Value]? { items }

        func repr(at location: SourceLocation) throws(ChatTemplateError) -> String {
            "\(typeName)(\(try Python.repr(.list(items), at: location)))"
        }
    }

    /// `cycler(*items)`.
    final class CyclerObject: TemplateObject {
        let items: [Value]
        private var position = 0

        init(items: [Value]) {
            self.items = items
        }

        var typeName: String { "Cycler" }

        func attribute(_ name: String) -> Value? {
            switch name {
            case "current":
                return items.isEmpty ? .undefined(Undefined(message: "cycler has no items")) : items[position]
            case "next":
                return .object(FunctionObject(name: "next") { _, _, location throws(ChatTemplateError) in
                    guard !self.items.isEmpty else { throw .runtime("cycler has no items", at: location) }
                    defer { self.position = (self.position + 1) % self.items.count }
                    return self.items[self.position]
                })
            case "reset":
                return .object(FunctionObject(name: "reset") { _, _, _ throws(ChatTemplateError) in
                    self.position = 0
                    return .none
                })
            default:
                return nil
            }
        }
    }

    /// `joiner(sep)`: returns "" the first time it is called and `sep` after that.
    final class JoinerObject: TemplateObject {
        let separator: String
        private var used = false

        init(separator: String) {
            self.separator = separator
        }

        var typeName: String { "Joiner" }
        var isCallable: Bool { true }

        func call(_ arguments: CallArguments, _ renderer: Renderer, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            defer { used = true }
            return .string(used ? separator : "")
        }
    }
}
