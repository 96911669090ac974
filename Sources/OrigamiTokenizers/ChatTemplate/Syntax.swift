extension Jinja {
    /// The parsed form of a template, built once by ``ChatTemplate/init(_:)`` and shared by every render.

    /// A literal written in the template.
    /// A literal, or a value jinja2's compiler computed ahead of time (see ``ConstantFolder``).
    indirect enum Constant: Sendable {
        case none
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        case markup(String)
        case list([Constant])
        case tuple([Constant])
        case dict([(key: Constant, value: Constant)])
    }

    struct Expr: Sendable {
        indirect enum Kind: Sendable {
            case constant(Constant)
            case name(String)
            case list([Expr])
            case tuple([Expr])
            case dict([(key: Expr, value: Expr)])
            case attribute(Expr, String)
            case item(Expr, Expr)
            /// Only valid as the index of `.item`: `a[start:stop:step]`.
            case slice(start: Expr?, stop: Expr?, step: Expr?)
            case call(Expr, Arguments)
            /// `value | name(args)`; a nil operand stands for the rendered body of a `filter` or `set` block.
            case filter(Expr?, name: String, Arguments)
            case test(Expr, name: String, Arguments)
            case not(Expr)
            case negate(Expr)
            case plus(Expr)
            case binary(BinaryOperator, Expr, Expr)
            case and(Expr, Expr)
            case or(Expr, Expr)
            case compare(Expr, [(CompareOperator, Expr)])
            /// `a ~ b ~ c`
            case concat([Expr])
            case conditional(test: Expr, then: Expr, otherwise: Expr?)
            /// `ns.attr` on the left of `set`.
            case namespaceAttribute(String, String)
        }

        struct Arguments: Sendable {
            var positional: [Expr] = []
            var keyword: [(name: String, value: Expr)] = []
            var star: Expr?
            var doubleStar: Expr?
        }

        var kind: Kind
        var location: SourceLocation
        /// The longest path to a leaf. Evaluation recurses this deep, so the parser bounds it.
        var height: Int

        init(kind: Kind, location: SourceLocation) {
            self.kind = kind
            self.location = location
            self.height = 1 + Self.childHeight(kind)
        }

        private static func childHeight(_ kind: Kind) -> Int {
            func maximum(_ exprs: [Expr?]) -> Int { exprs.reduce(0) { max($0, $1?.height ?? 0) } }
            func maximum(_ arguments: Arguments) -> Int {
                max(maximum(arguments.positional), maximum(arguments.keyword.map(\.value)), maximum([arguments.star, arguments.doubleStar]))
            }
            switch kind {
            case .constant, .name, .namespaceAttribute: return 0
            case .list(let items), .tuple(let items), .concat(let items): return maximum(items)
            case .dict(let items): return max(maximum(items.map(\.key)), maximum(items.map(\.value)))
            case .attribute(let base, _), .not(let base), .negate(let base), .plus(let base): return base.height
            case .item(let base, let index): return max(base.height, index.height)
            case .slice(let start, let stop, let step): return maximum([start, stop, step])
            case .call(let callee, let arguments): return max(callee.height, maximum(arguments))
            case .filter(let base, _, let arguments): return max(base?.height ?? 0, maximum(arguments))
            case .test(let base, _, let arguments): return max(base.height, maximum(arguments))
            case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right):
                return max(left.height, right.height)
            case .compare(let first, let rest): return max(first.height, maximum(rest.map(\.1)))
            case .conditional(let test, let then, let otherwise): return maximum([test, then, otherwise])
            }
        }
    }

    enum BinaryOperator: String, Sendable {
        case add = "+"
        case subtract = "-"
        case multiply = "*"
        case divide = "/"
        case floorDivide = "//"
        case modulo = "%"
        case power = "**"
    }

    enum CompareOperator: String, Sendable {
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case contains = "in"
        case notContains = "not in"
    }

    /// Where `set`, `for` and `with` store values.
    indirect enum AssignTarget: Sendable {
        case name(String)
        case tuple([AssignTarget])
        case namespaceAttribute(String, String)
    }

    struct Macro: Sendable {
        var name: String
        var parameters: [String]
        /// Defaults for the last `defaults.count` parameters.
        var defaults: [Expr]
        var body: [Node]
        /// Whether the body mentions `varargs`, `kwargs` or `caller`: jinja2 only accepts extra arguments then.
        var takesVarargs: Bool
        var takesKwargs: Bool
        var takesCaller: Bool
        var location: SourceLocation
    }

    struct ForLoop: Sendable {
        var target: AssignTarget
        var iterable: Expr
        var condition: Expr?
        var body: [Node]
        var otherwise: [Node]
        var recursive: Bool
        var location: SourceLocation
    }

    indirect enum Node: Sendable {
        case text(String)
        case output(Expr)
        case ifBlock(branches: [(test: Expr, body: [Node])], otherwise: [Node])
        case forLoop(ForLoop)
        case set(AssignTarget, Expr, SourceLocation)
        case setBlock(AssignTarget, filter: Expr?, body: [Node], SourceLocation)
        case macro(Macro)
        /// `{% call(params) macro(args) %}body{% endcall %}`: the body becomes the macro's `caller`.
        case callBlock(call: Expr, caller: Macro)
        case filterBlock(filter: Expr, body: [Node])
        case with(assignments: [(target: AssignTarget, value: Expr)], body: [Node], SourceLocation)
        case loopControl(isBreak: Bool)
        /// transformers' `{% generation %}` marks assistant text for masks; rendering just emits the body.
        case generation([Node])
    }
}
