/// The parsed form of a template, built once by ``ChatTemplate/init(_:)`` and shared by every render.

/// A literal written in the template.
enum Constant: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
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
