extension Jinja {
    /// jinja2's compile-time constant folding, reproduced because it changes what templates do.
    ///
    /// jinja2's optimizer evaluates every sub-expression that only involves literals (`Node.as_const`) and
    /// keeps the result when Python can write it back as a literal (`has_safe_repr`). Evaluated that way, a
    /// slice goes through jinja2's forgiving getitem, so `(2.5)[:1]` becomes undefined, while the same
    /// slice compiled for runtime is a plain Python subscript that raises. `x not in (2.5)[:1]` thus renders
    /// `True` when `x` is a literal and fails when it is a variable. Folding the tree the same way, bottom
    /// up, after parsing keeps those outcomes identical.
    enum ConstantFolder {
        static func fold(_ nodes: [Node]) -> [Node] {
            let renderer = Renderer()
            return nodes.map { fold($0, renderer) }
        }

        private static func fold(_ node: Node, _ renderer: Renderer) -> Node {
            func expr(_ expr: Expr) -> Expr { fold(expr, renderer) }
            func body(_ nodes: [Node]) -> [Node] { nodes.map { fold($0, renderer) } }
            func macro(_ macro: Macro) -> Macro {
                var folded = macro
                folded.defaults = macro.defaults.map(expr)
                folded.body = body(macro.body)
                return folded
            }
            switch node {
            case .text, .loopControl:
                return node
            case .output(let value):
                return .output(expr(value))
            case .ifBlock(let branches, let otherwise):
                return .ifBlock(branches: branches.map { (expr($0.test), body($0.body)) }, otherwise: body(otherwise))
            case .forLoop(var loop):
                loop.iterable = expr(loop.iterable)
                loop.condition = loop.condition.map(expr)
                loop.body = body(loop.body)
                loop.otherwise = body(loop.otherwise)
                return .forLoop(loop)
            case .set(let target, let value, let location):
                return .set(target, expr(value), location)
            case .setBlock(let target, let filter, let content, let location):
                return .setBlock(target, filter: filter.map(expr), body: body(content), location)
            case .macro(let definition):
                return .macro(macro(definition))
            case .callBlock(let call, let caller):
                return .callBlock(call: expr(call), caller: macro(caller))
            case .filterBlock(let filter, let content):
                return .filterBlock(filter: expr(filter), body: body(content))
            case .with(let assignments, let content, let location):
                return .with(assignments: assignments.map { ($0.target, expr($0.value)) }, body: body(content), location)
            case .generation(let content):
                return .generation(body(content))
            }
        }

        static func fold(_ expr: Expr, _ renderer: Renderer) -> Expr {
            let folded = Expr(kind: foldChildren(expr.kind, renderer), location: expr.location)
            switch folded.kind {
            case .constant, .name, .slice, .namespaceAttribute:
                return folded
            default:
                guard let value = renderer.constantValue(folded), let constant = Constant(safe: value) else { return folded }
                return Expr(kind: .constant(constant), location: expr.location)
            }
        }

        private static func foldChildren(_ kind: Expr.Kind, _ renderer: Renderer) -> Expr.Kind {
            func f(_ expr: Expr) -> Expr { fold(expr, renderer) }
            func arguments(_ arguments: Expr.Arguments) -> Expr.Arguments {
                Expr.Arguments(positional: arguments.positional.map(f), keyword: arguments.keyword.map { ($0.name, f($0.value)) },
                               star: arguments.star.map(f), doubleStar: arguments.doubleStar.map(f))
            }
            switch kind {
            case .constant, .name, .namespaceAttribute: return kind
            case .list(let items): return .list(items.map(f))
            case .tuple(let items): return .tuple(items.map(f))
            case .dict(let items): return .dict(items.map { (f($0.key), f($0.value)) })
            case .attribute(let base, let name): return .attribute(f(base), name)
            case .item(let base, let index): return .item(f(base), f(index))
            case .slice(let start, let stop, let step): return .slice(start: start.map(f), stop: stop.map(f), step: step.map(f))
            case .call(let callee, let args): return .call(f(callee), arguments(args))
            case .filter(let base, let name, let args): return .filter(base.map(f), name: name, arguments(args))
            case .test(let base, let name, let args): return .test(f(base), name: name, arguments(args))
            case .not(let operand): return .not(f(operand))
            case .negate(let operand): return .negate(f(operand))
            case .plus(let operand): return .plus(f(operand))
            case .binary(let op, let left, let right): return .binary(op, f(left), f(right))
            case .and(let left, let right): return .and(f(left), f(right))
            case .or(let left, let right): return .or(f(left), f(right))
            case .compare(let first, let rest): return .compare(f(first), rest.map { ($0.0, f($0.1)) })
            case .concat(let items): return .concat(items.map(f))
            case .conditional(let test, let then, let otherwise):
                return .conditional(test: f(test), then: f(then), otherwise: otherwise.map(f))
            }
        }
    }
}

extension Jinja.Constant {
    /// The value as a literal, when Python's `has_safe_repr` would accept it: strings, numbers, booleans,
    /// None, Markup, and lists, tuples and dicts of those. Undefined, generators and other objects are not.
    init?(safe value: Jinja.Value) {
        switch value {
        case .none: self = .none
        case .bool(let flag): self = .bool(flag)
        case .int(let integer): self = .int(integer)
        case .double(let double): self = .double(double)
        case .string(let text): self = .string(text)
        case .markup(let text): self = .markup(text)
        case .list(let items), .tuple(let items):
            var constants: [Jinja.Constant] = []
            for item in items {
                guard let constant = Jinja.Constant(safe: item) else { return nil }
                constants.append(constant)
            }
            if case .tuple = value { self = .tuple(constants) } else { self = .list(constants) }
        case .dict(let dict):
            var pairs: [(key: Jinja.Constant, value: Jinja.Constant)] = []
            for (key, item) in dict.items {
                guard let keyConstant = Jinja.Constant(safe: key), let itemConstant = Jinja.Constant(safe: item) else { return nil }
                pairs.append((keyConstant, itemConstant))
            }
            self = .dict(pairs)
        case .undefined, .object:
            return nil
        }
    }
}
