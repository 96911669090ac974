extension Jinja {
    /// Variables visible at one point of a template. Reads fall through to the enclosing scope; writes stay
    /// in this one.
    ///
    /// This reproduces jinja2's scoping: `{% set %}` at the top level or inside `if` writes the template's
    /// scope, while every `for` iteration, macro call, `with`, `filter` and `set` block body gets a fresh child
    /// scope, so what it sets is gone when it ends (a `namespace()` is how templates carry values out).
    final class Scope {
        private var variables: [String: Value] = [:]
        let parent: Scope?

        init(parent: Scope?) {
            self.parent = parent
        }

        func lookup(_ name: String) -> Value? {
            var scope: Scope? = self
            while let current = scope {
                if let value = current.variables[name] { return value }
                scope = current.parent
            }
            return nil
        }

        func set(_ name: String, _ value: Value) {
            variables[name] = value
        }
    }

    /// What a statement list ended with: the end of its statements, or a `break`/`continue` on its way to the
    /// enclosing loop.
    enum Flow {
        case normal
        case breakLoop
        case continueLoop
    }

    /// Walks the syntax tree of one template for one render.
    final class Renderer {
        /// Macro calls nested deeper than this fail (a template recursing without end) instead of exhausting
        /// the stack; CPython would stop such a template with a RecursionError.
        static let maximumCallDepth = 100

        private let globals: Scope
        private var callDepth = 0
        private let stack = StackGuard()
        /// Set while evaluating an output the way jinja2's compiler folds constants (`as_const`).
        private(set) var folding = false
        /// Filters that take jinja2's context, which its compiler never folds.
        private static let contextFilters: Set<String> = ["map", "select", "reject", "selectattr", "rejectattr"]

        /// Objects that point back at the scopes that hold them; unlinked when the render ends.
        private var detachables: [any Detachable] = []

        init() {
            globals = Scope(parent: nil)
            Globals.install(in: globals)
        }

        private static func notConstant(_ location: SourceLocation) -> ChatTemplateError {
            .runtime("not a constant expression", at: location)
        }

        func render(_ nodes: [Node], context: [String: Value]) throws(ChatTemplateError) -> String {
            defer {
                for object in detachables { object.detach() }
                detachables.removeAll()
            }
            let scope = Scope(parent: globals)
            for (name, value) in context { scope.set(name, value) }
            var output = ""
            _ = try execute(nodes, scope, &output)
            return output
        }

        func track(_ object: some Detachable) {
            detachables.append(object)
        }

        // MARK: Statements

        func execute(_ nodes: [Node], _ scope: Scope, _ output: inout String) throws(ChatTemplateError) -> Flow {
            for node in nodes {
                let flow = try execute(node, scope, &output)
                if case .normal = flow { continue }
                return flow
            }
            return .normal
        }

        private func execute(_ node: Node, _ scope: Scope, _ output: inout String) throws(ChatTemplateError) -> Flow {
            guard stack.hasRoom() else { throw .runtime("the template nests too deeply for the available stack", at: SourceLocation(line: 0, column: 0)) }
            switch node {
            case .text(let text):
                output += text
            case .output(let expr):
                if let folded = try? foldConstant(expr, scope) {
                    output += folded
                } else {
                    output += try Python.str(try evaluate(expr, scope), at: expr.location)
                }
            case .ifBlock(let branches, let otherwise):
                for branch in branches where Python.isTrue(try evaluate(branch.test, scope)) {
                    return try execute(branch.body, scope, &output)
                }
                return try execute(otherwise, scope, &output)
            case .forLoop(let loop):
                let items = try Python.iterate(try evaluate(loop.iterable, scope), at: loop.iterable.location)
                try run(loop, items: items, scope: scope, depth0: 0, &output)
            case .set(let target, let expr, let location):
                try assign(target, try evaluate(expr, scope), in: scope, at: location)
            case .setBlock(let target, let filter, let body, let location):
                var captured = ""
                let flow = try execute(body, Scope(parent: scope), &captured)
                var value = Value.string(captured)
                if let filter { value = try applyFilterChain(filter, to: value, scope) }
                try assign(target, value, in: scope, at: location)
                return flow
            case .macro(let macro):
                let object = MacroObject(macro: macro, closure: scope)
                track(object)
                scope.set(macro.name, .object(object))
            case .callBlock(let call, let callerMacro):
                guard case .call(let calleeExpr, let argumentExprs) = call.kind else {
                    throw .syntax("expected call", at: call.location)
                }
                let caller = MacroObject(macro: callerMacro, closure: scope)
                track(caller)
                let callee = try evaluate(calleeExpr, scope)
                var arguments = try evaluate(argumentExprs, scope)
                arguments.keyword.append(("caller", .object(caller)))
                output += try Python.str(try callValue(callee, arguments, at: call.location), at: call.location)
            case .filterBlock(let filter, let body):
                var captured = ""
                let flow = try execute(body, Scope(parent: scope), &captured)
                output += try Python.str(try applyFilterChain(filter, to: .string(captured), scope), at: filter.location)
                return flow
            case .with(let assignments, let body, let location):
                let inner = Scope(parent: scope)
                for (target, expr) in assignments {
                    try assign(target, try evaluate(expr, scope), in: inner, at: location)
                }
                return try execute(body, inner, &output)
            case .loopControl(let isBreak):
                return isBreak ? .breakLoop : .continueLoop
            case .generation(let body):
                _ = try execute(body, Scope(parent: scope), &output)
            }
            return .normal
        }

        /// Evaluates a `{{ }}` expression the way jinja2's compiler tries first (`Node.as_const`): an output
        /// that only touches literals is computed ahead of time, and there a slice goes through jinja2's
        /// forgiving getitem (a bad slice prints as undefined instead of raising). Reaching a variable, a
        /// call or a context filter, an error, or an `if` without `else` that is false abandons the attempt
        /// before anything with side effects runs, and the expression is evaluated normally.
        /// The value of `expr` if jinja2 could compute it while compiling (no variables, calls or context
        /// filters, no error), else nil.
        func constantValue(_ expr: Expr) -> Value? {
            folding = true
            defer { folding = false }
            do {
                let value: Value = try evaluate(expr, Scope(parent: globals))
                return value
            } catch {
                return nil
            }
        }

        private func foldConstant(_ expr: Expr, _ scope: Scope) throws(ChatTemplateError) -> String {
            folding = true
            defer { folding = false }
            return try Python.str(try evaluate(expr, scope), at: expr.location)
        }

        /// One `for` loop over `items` (a recursive loop calls this again, one level deeper).
        private func run(_ loop: ForLoop, items: [Value], scope: Scope, depth0: Int, _ output: inout String) throws(ChatTemplateError) {
            var selected = items
            if let condition = loop.condition {
                selected = []
                for item in items {
                    let probe = Scope(parent: scope)
                    try assign(loop.target, item, in: probe, at: loop.location)
                    if Python.isTrue(try evaluate(condition, probe)) { selected.append(item) }
                }
            }
            var recurse: ((Value, SourceLocation) throws(ChatTemplateError) -> Value)?
            if loop.recursive {
                recurse = { value, location throws(ChatTemplateError) in
                    var nested = ""
                    try self.run(loop, items: try Python.iterate(value, at: location), scope: scope, depth0: depth0 + 1, &nested)
                    return .string(nested)
                }
            }
            let loopObject = LoopObject(items: selected, depth0: depth0, recurse: recurse)
            track(loopObject)
            // jinja2 runs `else` unless the last iteration that ran finished its body (break and continue skip
            // the bookkeeping), which is also "no iteration happened".
            var runElse = true
            for (index, item) in selected.enumerated() {
                loopObject.index0 = index
                let iteration = Scope(parent: scope)
                try assign(loop.target, item, in: iteration, at: loop.location)
                iteration.set("loop", .object(loopObject))
                let flow = try execute(loop.body, iteration, &output)
                if case .breakLoop = flow { break }
                if case .continueLoop = flow { continue }
                runElse = false
            }
            if runElse, !loop.otherwise.isEmpty {
                _ = try execute(loop.otherwise, Scope(parent: scope), &output)
            }
        }

        func assign(_ target: AssignTarget, _ value: Value, in scope: Scope, at location: SourceLocation) throws(ChatTemplateError) {
            switch target {
            case .name(let name):
                scope.set(name, value)
            case .tuple(let targets):
                switch value {
                case .string, .markup, .list, .tuple, .dict, .object: break
                default: throw .runtime("cannot unpack non-iterable \(value.typeName) object", at: location)
                }
                let items = try Python.iterate(value, at: location)
                guard items.count <= targets.count else {
                    throw .runtime("too many values to unpack (expected \(targets.count))", at: location)
                }
                guard items.count == targets.count else {
                    throw .runtime("not enough values to unpack (expected \(targets.count), got \(items.count))", at: location)
                }
                for (target, item) in zip(targets, items) {
                    try assign(target, item, in: scope, at: location)
                }
            case .namespaceAttribute(let name, let attribute):
                guard case .object(let object) = scope.lookup(name) ?? .none, let namespace = object as? NamespaceObject else {
                    throw .runtime("cannot assign attribute on non-namespace object", at: location)
                }
                guard !attribute.hasPrefix("_") else {
                    throw .runtime("Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(attribute)'. Please rename the attribute.", at: location)
                }
                namespace.set(attribute, value)
            }
        }

        /// Calls a macro: binds arguments like jinja2 (missing ones are undefined, extras need `varargs` or
        /// `kwargs` in the body) and renders the body in a fresh scope inside the one the macro was defined in.
        func invoke(_ macro: Macro, closure: Scope, _ arguments: CallArguments, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            guard callDepth < Self.maximumCallDepth else {
                throw .runtime("maximum recursion depth exceeded in macro '\(macro.name)'", at: location)
            }
            callDepth += 1
            defer { callDepth -= 1 }
            let scope = Scope(parent: closure)
            var keywords = arguments.keyword
            let firstDefault = macro.parameters.count - macro.defaults.count
            for (index, parameter) in macro.parameters.enumerated() {
                let keywordIndex = keywords.firstIndex { $0.name == parameter }
                if index < arguments.positional.count {
                    if keywordIndex != nil {
                        throw .runtime("macro '\(macro.name)' got multiple values for argument '\(parameter)'", at: location)
                    }
                    scope.set(parameter, arguments.positional[index])
                } else if let keywordIndex {
                    scope.set(parameter, keywords.remove(at: keywordIndex).value)
                } else if index >= firstDefault {
                    scope.set(parameter, try evaluate(macro.defaults[index - firstDefault], scope))
                } else {
                    scope.set(parameter, .undefined(Undefined(message: "parameter '\(parameter)' was not provided")))
                }
            }
            if arguments.positional.count > macro.parameters.count {
                guard macro.takesVarargs else {
                    throw .runtime("macro '\(macro.name)' takes not more than \(macro.parameters.count) argument(s)", at: location)
                }
                scope.set("varargs", .tuple(Array(arguments.positional[macro.parameters.count...])))
            } else if macro.takesVarargs {
                scope.set("varargs", .tuple([]))
            }
            if macro.takesCaller {
                if let index = keywords.firstIndex(where: { $0.name == "caller" }) {
                    scope.set("caller", keywords.remove(at: index).value)
                } else {
                    scope.set("caller", .undefined(Undefined(message: "No caller defined")))
                }
            }
            if macro.takesKwargs {
                var dict = PythonDict()
                for (name, value) in keywords { dict.set(.string(name), value, key: .string(HashableString(name))) }
                scope.set("kwargs", .dict(dict))
            } else if let first = keywords.first {
                if first.name == "caller" {
                    throw .runtime("macro '\(macro.name)' was invoked with two values for the special caller argument. This is most likely a bug.", at: location)
                }
                throw .runtime("macro '\(macro.name)' takes no keyword argument '\(first.name)'", at: location)
            }
            var output = ""
            _ = try execute(macro.body, scope, &output)
            return .string(output)
        }

        // MARK: Expressions

        func evaluate(_ expr: Expr, _ scope: Scope) throws(ChatTemplateError) -> Value {
            let location = expr.location
            guard stack.hasRoom() else { throw .runtime("the template nests too deeply for the available stack", at: location) }
            switch expr.kind {
            case .constant(let constant):
                return Value(constant)
            case .name(let name):
                if folding { throw Self.notConstant(location) }
                return scope.lookup(name) ?? .undefined(.name(name))
            case .list(let items):
                var values: [Value] = []
                for item in items { values.append(try evaluate(item, scope)) }
                return .list(values)
            case .tuple(let items):
                var values: [Value] = []
                for item in items { values.append(try evaluate(item, scope)) }
                return .tuple(values)
            case .dict(let items):
                var dict = PythonDict()
                for item in items {
                    let key = try evaluate(item.key, scope)
                    let value = try evaluate(item.value, scope)
                    dict.set(key, value, key: try Python.hashKey(key, at: item.key.location))
                }
                return .dict(dict)
            case .attribute(let base, let name):
                return try Access.attribute(try evaluate(base, scope), name, at: location)
            case .item(let base, let index):
                let container = try evaluate(base, scope)
                if case .slice(let start, let stop, let step) = index.kind {
                    return try Access.slice(container, try evaluate(start, scope), try evaluate(stop, scope),
                                            try evaluate(step, scope), forgiving: folding, at: location)
                }
                return try Access.item(container, try evaluate(index, scope), at: location)
            case .slice:
                throw .syntax("a slice is only valid inside []", at: location)
            case .call(let callee, let arguments):
                if folding { throw Self.notConstant(location) }
                let function = try evaluate(callee, scope)
                return try callValue(function, try evaluate(arguments, scope), at: location)
            case .filter(let base, let name, let arguments):
                guard let base else { throw .syntax("filter '\(name)' has no operand", at: location) }
                if folding, Self.contextFilters.contains(name) { throw Self.notConstant(location) }
                return try Filters.apply(name, try evaluate(base, scope), try evaluate(arguments, scope), self, at: location)
            case .test(let base, let name, let arguments):
                return .bool(try Tests.apply(name, try evaluate(base, scope), try evaluate(arguments, scope), self, at: location))
            case .not(let operand):
                return .bool(!Python.isTrue(try evaluate(operand, scope)))
            case .negate(let operand):
                return try Python.negate(try evaluate(operand, scope), at: location)
            case .plus(let operand):
                return try Python.plus(try evaluate(operand, scope), at: location)
            case .binary(let op, let left, let right):
                return try Python.binary(op, try evaluate(left, scope), try evaluate(right, scope), at: location)
            case .and(let left, let right):
                let value = try evaluate(left, scope)
                return Python.isTrue(value) ? try evaluate(right, scope) : value
            case .or(let left, let right):
                let value = try evaluate(left, scope)
                return Python.isTrue(value) ? value : try evaluate(right, scope)
            case .compare(let first, let operations):
                var left = try evaluate(first, scope)
                for (op, rightExpr) in operations {
                    let right = try evaluate(rightExpr, scope)
                    guard try Python.compare(op, left, right, at: rightExpr.location) else { return .bool(false) }
                    left = right
                }
                return .bool(true)
            case .concat(let items):
                var text = ""
                for item in items { text += try Python.str(try evaluate(item, scope), at: item.location) }
                return .string(text)
            case .conditional(let test, let then, let otherwise):
                if Python.isTrue(try evaluate(test, scope)) { return try evaluate(then, scope) }
                if let otherwise { return try evaluate(otherwise, scope) }
                if folding { throw Self.notConstant(location) }
                return .undefined(Undefined(message: "the inline if-expression on line \(location.line) evaluated to false and no else section was defined."))
            case .namespaceAttribute(let name, let attribute):
                return try Access.attribute(scope.lookup(name) ?? .undefined(.name(name)), attribute, at: location)
            }
        }

        private func evaluate(_ expr: Expr?, _ scope: Scope) throws(ChatTemplateError) -> Value? {
            guard let expr else { return nil }
            return try evaluate(expr, scope) as Value
        }

        func evaluate(_ arguments: Expr.Arguments, _ scope: Scope) throws(ChatTemplateError) -> CallArguments {
            var result = CallArguments()
            for expr in arguments.positional { result.positional.append(try evaluate(expr, scope)) }
            for (name, expr) in arguments.keyword { result.keyword.append((name, try evaluate(expr, scope))) }
            if let star = arguments.star {
                result.positional += try Python.iterate(try evaluate(star, scope), at: star.location)
            }
            if let doubleStar = arguments.doubleStar {
                guard case .dict(let dict) = try evaluate(doubleStar, scope) else {
                    throw .runtime("argument after ** must be a mapping", at: doubleStar.location)
                }
                for (key, value) in dict.items {
                    guard case .string(let name) = key else { throw .runtime("keywords must be strings", at: doubleStar.location) }
                    result.keyword.append((name, value))
                }
            }
            return result
        }

        func callValue(_ callee: Value, _ arguments: CallArguments, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            switch callee {
            case .object(let object) where object.isCallable:
                return try object.call(arguments, self, at: location)
            case .undefined(let undefined):
                throw Python.undefinedError(undefined, at: location)
            default:
                throw .runtime("'\(callee.typeName)' object is not callable", at: location)
            }
        }

        /// Applies the filters of a `{% filter %}` or `{% set x | f %}` block to the block's rendered text.
        private func applyFilterChain(_ expr: Expr, to input: Value, _ scope: Scope) throws(ChatTemplateError) -> Value {
            guard case .filter(let base, let name, let arguments) = expr.kind else { return input }
            let operand = try base.map { (base) throws(ChatTemplateError) in try applyFilterChain(base, to: input, scope) } ?? input
            return try Filters.apply(name, operand, try evaluate(arguments, scope), self, at: expr.location)
        }
    }
}
