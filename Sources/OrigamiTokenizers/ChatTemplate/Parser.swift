extension Jinja {
    /// Builds the syntax tree from tokens with jinja2's grammar and operator precedence:
    ///
    ///     conditional  a if b else c
    ///     or, and, not
    ///     comparisons  == != < <= > >= in, not in (chained as in Python)
    ///     + -
    ///     ~            string concatenation
    ///     * / // %
    ///     **           (left-associative, as jinja2 has it)
    ///     unary - +    then postfix . [] (), then filters | and tests `is`
    ///
    /// Filters therefore bind tighter than any binary operator: `'a' + x | trim` trims only `x`.
    struct Parser {
        private var tokens: [Token]
        private var index = 0
        /// Open `for` bodies around the current position; `break` and `continue` need one.
        private var loopDepth = 0
        /// Statement names whose end tag is awaited, innermost last, for error messages.
        private var endTokenStack: [[String]] = []
        /// How deep the parser has recursed into nested statements and sub-expressions.
        private var nesting = 0
        private let stack = StackGuard()

        /// Templates from the Hub are untrusted: nesting deeper than this (far beyond any real template) is a
        /// syntax error instead of a stack overflow while parsing or rendering.
        static let maximumNesting = 100
        static let maximumHeight = 200

        init(tokens: [Token]) {
            self.tokens = tokens
        }

        static func parse(_ source: String) throws(ChatTemplateError) -> [Node] {
            var parser = Parser(tokens: try Lexer.tokenize(source))
            return ConstantFolder.fold(try parser.parseTemplate())
        }

        // MARK: Token stream

        private var current: Token { tokens[index] }

        private func peek(_ offset: Int = 1) -> Token {
            tokens[min(index + offset, tokens.count - 1)]
        }

        private mutating func advance() -> Token {
            let token = tokens[index]
            if index < tokens.count - 1 { index += 1 }
            return token
        }

        private func isName(_ token: Token, _ name: String) -> Bool {
            token.kind == .name(name)
        }

        private func isOp(_ token: Token, _ op: String) -> Bool {
            token.kind == .op(op)
        }

        private mutating func skipName(_ name: String) -> Bool {
            guard isName(current, name) else { return false }
            _ = advance()
            return true
        }

        private mutating func skipOp(_ op: String) -> Bool {
            guard isOp(current, op) else { return false }
            _ = advance()
            return true
        }

        private func describe(_ token: Token) -> String {
            switch token.kind {
            case .text: "template data"
            case .variableBegin: "begin of print statement"
            case .variableEnd: "end of print statement"
            case .blockBegin: "begin of statement block"
            case .blockEnd: "end of statement block"
            case .name(let name): name
            case .string: "string"
            case .integer: "integer"
            case .float: "float"
            case .op(let op): op
            case .eof: "end of template"
            }
        }

        private func fail(_ message: String, _ token: Token? = nil) -> ChatTemplateError {
            .syntax(message, at: (token ?? current).location)
        }

        private mutating func expectOp(_ op: String) throws(ChatTemplateError) {
            guard isOp(current, op) else {
                if current.kind == .eof {
                    throw fail("unexpected end of template, expected '\(op)'.")
                }
                throw fail("expected token '\(op)', got '\(describe(current))'")
            }
            _ = advance()
        }

        private mutating func expectName() throws(ChatTemplateError) -> (String, Token) {
            guard case .name(let name) = current.kind else {
                throw fail("expected token 'name', got '\(describe(current))'")
            }
            return (name, advance())
        }

        private mutating func expectName(_ name: String) throws(ChatTemplateError) {
            guard isName(current, name) else {
                throw fail("expected token '\(name)', got '\(describe(current))'")
            }
            _ = advance()
        }

        private mutating func expectBlockEnd() throws(ChatTemplateError) {
            guard current.kind == .blockEnd else {
                if current.kind == .eof {
                    throw fail("unexpected end of template, expected 'end of statement block'.")
                }
                throw fail("expected token 'end of statement block', got '\(describe(current))'")
            }
            _ = advance()
        }

        private mutating func enter() throws(ChatTemplateError) {
            nesting += 1
            if nesting > Self.maximumNesting || !stack.hasRoom() { throw fail("template is nested too deeply") }
        }

        private func bounded(_ expr: Expr) throws(ChatTemplateError) -> Expr {
            if expr.height > Self.maximumHeight { throw .syntax("expression is nested too deeply", at: expr.location) }
            return expr
        }

        // MARK: Statements

        private mutating func parseTemplate() throws(ChatTemplateError) -> [Node] {
            let nodes = try subparse(endTokens: nil)
            guard current.kind == .eof else { throw fail("unexpected '\(describe(current))'") }
            return nodes
        }

        private mutating func subparse(endTokens: [String]?) throws(ChatTemplateError) -> [Node] {
            var nodes: [Node] = []
            try enter()
            defer { nesting -= 1 }
            if let endTokens { endTokenStack.append(endTokens) }
            defer { if endTokens != nil { endTokenStack.removeLast() } }
            while current.kind != .eof {
                switch current.kind {
                case .text(let text):
                    nodes.append(.text(text))
                    _ = advance()
                case .variableBegin:
                    _ = advance()
                    nodes.append(.output(try parseTuple()))
                    guard current.kind == .variableEnd else {
                        if current.kind == .eof {
                            throw fail("unexpected end of template, expected 'end of print statement'.")
                        }
                        throw fail("expected token 'end of print statement', got '\(describe(current))'")
                    }
                    _ = advance()
                case .blockBegin:
                    _ = advance()
                    if let endTokens, case .name(let name) = current.kind, endTokens.contains(name) {
                        return nodes
                    }
                    nodes.append(contentsOf: try parseStatement())
                    try expectBlockEnd()
                default:
                    throw fail("unexpected '\(describe(current))'")
                }
            }
            return nodes
        }

        /// Parses a body up to one of `endTokens`, leaving the end name as the current token (or consuming it
        /// with `dropNeedle`).
        private mutating func parseStatements(_ endTokens: [String], dropNeedle: Bool = false) throws(ChatTemplateError) -> [Node] {
            _ = skipOp(":")
            try expectBlockEnd()
            let body = try subparse(endTokens: endTokens)
            if current.kind == .eof {
                var message = "Unexpected end of template."
                message += " Jinja was looking for the following tags: "
                message += endTokens.map { "'\($0)'" }.joined(separator: " or ") + "."
                throw fail(message)
            }
            if dropNeedle { _ = advance() }
            return body
        }

        private mutating func parseStatement() throws(ChatTemplateError) -> [Node] {
            let token = current
            guard case .name(let name) = token.kind else { throw fail("tag name expected") }
            switch name {
            case "if": return [try parseIf()]
            case "for": return [try parseFor()]
            case "set": return [try parseSet()]
            case "macro": return [try parseMacro()]
            case "call": return [try parseCallBlock()]
            case "filter": return [try parseFilterBlock()]
            case "with": return [try parseWith()]
            case "print": return try parsePrint()
            case "generation":
                _ = advance()
                return [.generation(try withoutLoop { (p: inout Parser) throws(ChatTemplateError) in
                    try p.parseStatements(["endgeneration"], dropNeedle: true)
                })]
            case "break", "continue":
                guard loopDepth > 0 else { throw fail("'\(name)' outside loop", token) }
                _ = advance()
                return [.loopControl(isBreak: name == "break")]
            case "block", "extends", "include", "import", "from", "autoescape":
                throw .unsupported(construct: "tag '\(name)'", at: token.location)
            default:
                var message = "Encountered unknown tag '\(name)'."
                if let expected = endTokenStack.last {
                    message += " Jinja was looking for the following tags: "
                    message += expected.map { "'\($0)'" }.joined(separator: " or ") + "."
                }
                throw fail(message, token)
            }
        }

        /// Runs `body` as the inside of a macro, where an enclosing loop's `break` does not reach.
        private mutating func withoutLoop<T>(_ body: (inout Parser) throws(ChatTemplateError) -> T) throws(ChatTemplateError) -> T {
            let saved = loopDepth
            loopDepth = 0
            defer { loopDepth = saved }
            return try body(&self)
        }

        private mutating func parseIf() throws(ChatTemplateError) -> Node {
            _ = advance()
            var branches: [(test: Expr, body: [Node])] = []
            var otherwise: [Node] = []
            while true {
                let test = try parseTuple(withConditional: false)
                let body = try parseStatements(["elif", "else", "endif"])
                branches.append((test, body))
                let token = advance()
                if isName(token, "elif") { continue }
                if isName(token, "else") {
                    otherwise = try parseStatements(["endif"], dropNeedle: true)
                }
                break
            }
            return .ifBlock(branches: branches, otherwise: otherwise)
        }

        private mutating func parseFor() throws(ChatTemplateError) -> Node {
            let location = advance().location
            let target = try parseAssignTarget(extraEndNames: ["in"])
            try expectName("in")
            let iterable = try parseTuple(withConditional: false, extraEndNames: ["recursive"])
            var condition: Expr?
            if skipName("if") { condition = try parseExpression() }
            let recursive = skipName("recursive")
            loopDepth += 1
            let body = try parseStatements(["endfor", "else"])
            loopDepth -= 1
            var otherwise: [Node] = []
            if isName(advance(), "else") {
                otherwise = try parseStatements(["endfor"], dropNeedle: true)
            }
            return .forLoop(ForLoop(target: target, iterable: iterable, condition: condition, body: body,
                                    otherwise: otherwise, recursive: recursive, location: location))
        }

        private mutating func parseSet() throws(ChatTemplateError) -> Node {
            let location = advance().location
            let target = try parseAssignTarget(withNamespace: true)
            if skipOp("=") {
                return .set(target, try parseTuple(), location)
            }
            let filter = try parseFilter(nil)
            let body = try parseStatements(["endset"], dropNeedle: true)
            return .setBlock(target, filter: filter, body: body, location)
        }

        private mutating func parseSignature() throws(ChatTemplateError) -> (parameters: [String], defaults: [Expr]) {
            var parameters: [String] = []
            var defaults: [Expr] = []
            try expectOp("(")
            while !isOp(current, ")") {
                if !parameters.isEmpty { try expectOp(",") }
                let (name, token) = try expectName()
                if ["true", "false", "none", "True", "False", "None"].contains(name) {
                    throw fail("can't assign to 'const'", token)
                }
                if skipOp("=") {
                    defaults.append(try parseExpression())
                } else if !defaults.isEmpty {
                    throw fail("non-default argument follows default argument", token)
                }
                parameters.append(name)
            }
            try expectOp(")")
            return (parameters, defaults)
        }

        private mutating func parseMacro() throws(ChatTemplateError) -> Node {
            let location = advance().location
            let (name, _) = try expectName()
            let (parameters, defaults) = try parseSignature()
            let body = try withoutLoop { (p: inout Parser) throws(ChatTemplateError) in
                try p.parseStatements(["endmacro"], dropNeedle: true)
            }
            return .macro(makeMacro(name, parameters, defaults, body, location))
        }

        private func makeMacro(_ name: String, _ parameters: [String], _ defaults: [Expr], _ body: [Node], _ location: SourceLocation) -> Macro {
            let used = NameCollector.names(in: body)
            return Macro(name: name, parameters: parameters, defaults: defaults, body: body,
                         takesVarargs: used.contains("varargs") && !parameters.contains("varargs"),
                         takesKwargs: used.contains("kwargs") && !parameters.contains("kwargs"),
                         takesCaller: used.contains("caller") && !parameters.contains("caller"),
                         location: location)
        }

        private mutating func parseCallBlock() throws(ChatTemplateError) -> Node {
            let location = advance().location
            var parameters: [String] = []
            var defaults: [Expr] = []
            if isOp(current, "(") { (parameters, defaults) = try parseSignature() }
            let call = try parseExpression()
            guard case .call = call.kind else { throw .syntax("expected call", at: location) }
            let body = try withoutLoop { (p: inout Parser) throws(ChatTemplateError) in
                try p.parseStatements(["endcall"], dropNeedle: true)
            }
            return .callBlock(call: call, caller: makeMacro("caller", parameters, defaults, body, location))
        }

        private mutating func parseFilterBlock() throws(ChatTemplateError) -> Node {
            _ = advance()
            guard let filter = try parseFilter(nil, startInline: true) else { throw fail("expected a filter") }
            let body = try parseStatements(["endfilter"], dropNeedle: true)
            return .filterBlock(filter: filter, body: body)
        }

        private mutating func parseWith() throws(ChatTemplateError) -> Node {
            let location = advance().location
            var assignments: [(target: AssignTarget, value: Expr)] = []
            while current.kind != .blockEnd {
                if !assignments.isEmpty { try expectOp(",") }
                let target = try parseAssignTarget()
                try expectOp("=")
                assignments.append((target, try parseExpression()))
            }
            let body = try parseStatements(["endwith"], dropNeedle: true)
            return .with(assignments: assignments, body: body, location)
        }

        private mutating func parsePrint() throws(ChatTemplateError) -> [Node] {
            _ = advance()
            var nodes: [Node] = []
            while current.kind != .blockEnd {
                if !nodes.isEmpty { try expectOp(",") }
                nodes.append(.output(try parseExpression()))
            }
            return nodes
        }

        private mutating func parseAssignTarget(extraEndNames: [String] = [], withNamespace: Bool = false) throws(ChatTemplateError) -> AssignTarget {
            let expr = try parseTuple(simplified: true, extraEndNames: extraEndNames, withNamespace: withNamespace)
            return try assignTarget(expr)
        }

        private func assignTarget(_ expr: Expr) throws(ChatTemplateError) -> AssignTarget {
            switch expr.kind {
            case .name(let name):
                return .name(name)
            case .namespaceAttribute(let namespace, let attribute):
                return .namespaceAttribute(namespace, attribute)
            case .tuple(let items):
                var targets: [AssignTarget] = []
                for item in items { targets.append(try assignTarget(item)) }
                return .tuple(targets)
            case .constant:
                throw .syntax("can't assign to 'const'", at: expr.location)
            default:
                throw .syntax("can't assign to this expression", at: expr.location)
            }
        }

        // MARK: Expressions

        private func isTupleEnd(_ extraEndNames: [String]) -> Bool {
            switch current.kind {
            case .variableEnd, .blockEnd: return true
            case .op(")"): return true
            case .name(let name): return extraEndNames.contains(name)
            default: return false
            }
        }

        /// An expression, or a tuple when commas separate several (`{{ a, b }}`, `for k, v in ...`).
        private mutating func parseTuple(simplified: Bool = false, withConditional: Bool = true, extraEndNames: [String] = [],
                                         explicitParentheses: Bool = false, withNamespace: Bool = false) throws(ChatTemplateError) -> Expr {
            let location = current.location
            var items: [Expr] = []
            var isTuple = false
            while true {
                if !items.isEmpty { try expectOp(",") }
                if isTupleEnd(extraEndNames) { break }
                items.append(simplified ? try parsePrimary(withNamespace: withNamespace) : try parseExpression(withConditional: withConditional))
                if isOp(current, ",") {
                    isTuple = true
                } else {
                    break
                }
            }
            if !isTuple {
                if let first = items.first { return first }
                if !explicitParentheses {
                    throw fail("Expected an expression, got '\(describe(current))'")
                }
            }
            return Expr(kind: .tuple(items), location: location)
        }

        private mutating func parseExpression(withConditional: Bool = true) throws(ChatTemplateError) -> Expr {
            withConditional ? try parseConditional() : try parseOr()
        }

        private mutating func parseConditional() throws(ChatTemplateError) -> Expr {
            var location = current.location
            var expr = try parseOr()
            while skipName("if") {
                let test = try parseOr()
                let otherwise: Expr? = skipName("else") ? try parseConditional() : nil
                expr = try bounded(Expr(kind: .conditional(test: test, then: expr, otherwise: otherwise), location: location))
                location = current.location
            }
            return expr
        }

        private mutating func parseOr() throws(ChatTemplateError) -> Expr {
            var left = try parseAnd()
            while isName(current, "or") {
                let location = advance().location
                left = try bounded(Expr(kind: .or(left, try parseAnd()), location: location))
            }
            return left
        }

        private mutating func parseAnd() throws(ChatTemplateError) -> Expr {
            var left = try parseNot()
            while isName(current, "and") {
                let location = advance().location
                left = try bounded(Expr(kind: .and(left, try parseNot()), location: location))
            }
            return left
        }

        private mutating func parseNot() throws(ChatTemplateError) -> Expr {
            try enter()
            defer { nesting -= 1 }
            if isName(current, "not") {
                let location = advance().location
                return Expr(kind: .not(try parseNot()), location: location)
            }
            return try parseCompare()
        }

        private mutating func parseCompare() throws(ChatTemplateError) -> Expr {
            let location = current.location
            let first = try parseMath1()
            var operations: [(CompareOperator, Expr)] = []
            while true {
                if case .op(let op) = current.kind, let comparison = CompareOperator(rawValue: op),
                    comparison != .contains, comparison != .notContains
                {
                    _ = advance()
                    operations.append((comparison, try parseMath1()))
                } else if skipName("in") {
                    operations.append((.contains, try parseMath1()))
                } else if isName(current, "not"), isName(peek(), "in") {
                    _ = advance()
                    _ = advance()
                    operations.append((.notContains, try parseMath1()))
                } else {
                    break
                }
            }
            if operations.isEmpty { return first }
            return try bounded(Expr(kind: .compare(first, operations), location: location))
        }

        private mutating func parseMath1() throws(ChatTemplateError) -> Expr {
            var left = try parseConcat()
            while case .op(let op) = current.kind, op == "+" || op == "-" {
                let location = advance().location
                left = try bounded(Expr(kind: .binary(op == "+" ? .add : .subtract, left, try parseConcat()), location: location))
            }
            return left
        }

        private mutating func parseConcat() throws(ChatTemplateError) -> Expr {
            let location = current.location
            var items = [try parseMath2()]
            while skipOp("~") {
                items.append(try parseMath2())
            }
            return items.count == 1 ? items[0] : try bounded(Expr(kind: .concat(items), location: location))
        }

        private mutating func parseMath2() throws(ChatTemplateError) -> Expr {
            var left = try parsePower()
            while case .op(let op) = current.kind, let binary = BinaryOperator(rawValue: op),
                [.multiply, .divide, .floorDivide, .modulo].contains(binary)
            {
                let location = advance().location
                left = try bounded(Expr(kind: .binary(binary, left, try parsePower()), location: location))
            }
            return left
        }

        private mutating func parsePower() throws(ChatTemplateError) -> Expr {
            var left = try parseUnary()
            while isOp(current, "**") {
                let location = advance().location
                left = try bounded(Expr(kind: .binary(.power, left, try parseUnary()), location: location))
            }
            return left
        }

        private mutating func parseUnary(withFilter: Bool = true) throws(ChatTemplateError) -> Expr {
            try enter()
            defer { nesting -= 1 }
            var node: Expr
            if isOp(current, "-") {
                let location = advance().location
                node = Expr(kind: .negate(try parseUnary(withFilter: false)), location: location)
            } else if isOp(current, "+") {
                let location = advance().location
                node = Expr(kind: .plus(try parseUnary(withFilter: false)), location: location)
            } else {
                node = try parsePrimary()
            }
            node = try parsePostfix(node)
            if withFilter { node = try parseFilterExpression(node) }
            return node
        }

        private mutating func parsePrimary(withNamespace: Bool = false) throws(ChatTemplateError) -> Expr {
            let token = current
            switch token.kind {
            case .name(let name):
                _ = advance()
                switch name {
                case "true", "True": return Expr(kind: .constant(.bool(true)), location: token.location)
                case "false", "False": return Expr(kind: .constant(.bool(false)), location: token.location)
                case "none", "None": return Expr(kind: .constant(.none), location: token.location)
                default:
                    if withNamespace, isOp(current, ".") {
                        _ = advance()
                        let (attribute, _) = try expectName()
                        return Expr(kind: .namespaceAttribute(name, attribute), location: token.location)
                    }
                    return Expr(kind: .name(name), location: token.location)
                }
            case .string(let first):
                _ = advance()
                var text = first
                while case .string(let next) = current.kind {
                    text += next
                    _ = advance()
                }
                return Expr(kind: .constant(.string(text)), location: token.location)
            case .integer(let value):
                _ = advance()
                return Expr(kind: .constant(.int(value)), location: token.location)
            case .float(let value):
                _ = advance()
                return Expr(kind: .constant(.double(value)), location: token.location)
            case .op("("):
                _ = advance()
                let expr = try parseTuple(explicitParentheses: true)
                try expectOp(")")
                return expr
            case .op("["):
                return try parseList()
            case .op("{"):
                return try parseDict()
            case .eof:
                throw fail("unexpected end of template")
            default:
                throw fail("unexpected '\(describe(token))'")
            }
        }

        private mutating func parseList() throws(ChatTemplateError) -> Expr {
            let location = advance().location
            var items: [Expr] = []
            while !isOp(current, "]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp(current, "]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return Expr(kind: .list(items), location: location)
        }

        private mutating func parseDict() throws(ChatTemplateError) -> Expr {
            let location = advance().location
            var items: [(key: Expr, value: Expr)] = []
            while !isOp(current, "}") {
                if !items.isEmpty { try expectOp(",") }
                if isOp(current, "}") { break }
                let key = try parseExpression()
                try expectOp(":")
                items.append((key, try parseExpression()))
            }
            try expectOp("}")
            return Expr(kind: .dict(items), location: location)
        }

        private mutating func parsePostfix(_ start: Expr) throws(ChatTemplateError) -> Expr {
            var node = start
            while true {
                if isOp(current, ".") || isOp(current, "[") {
                    node = try bounded(try parseSubscript(node))
                } else if isOp(current, "(") {
                    node = try bounded(try parseCall(node))
                } else {
                    return node
                }
            }
        }

        private mutating func parseFilterExpression(_ start: Expr) throws(ChatTemplateError) -> Expr {
            var node = start
            while true {
                if isOp(current, "|") {
                    node = try bounded(try parseFilter(node) ?? node)
                } else if isName(current, "is") {
                    node = try bounded(try parseTest(node))
                } else if isOp(current, "(") {
                    node = try bounded(try parseCall(node))
                } else {
                    return node
                }
            }
        }

        private mutating func parseSubscript(_ node: Expr) throws(ChatTemplateError) -> Expr {
            let token = advance()
            if isOp(token, ".") {
                let attributeToken = advance()
                switch attributeToken.kind {
                case .name(let name):
                    return Expr(kind: .attribute(node, name), location: node.location)
                case .integer(let value):
                    let index = Expr(kind: .constant(.int(value)), location: attributeToken.location)
                    return Expr(kind: .item(node, index), location: node.location)
                default:
                    throw fail("expected name or number", attributeToken)
                }
            }
            var arguments: [Expr] = []
            while !isOp(current, "]") {
                if !arguments.isEmpty { try expectOp(",") }
                arguments.append(try parseSubscribed())
            }
            try expectOp("]")
            let argument = arguments.count == 1 ? arguments[0] : Expr(kind: .tuple(arguments), location: token.location)
            return Expr(kind: .item(node, argument), location: node.location)
        }

        private mutating func parseSubscribed() throws(ChatTemplateError) -> Expr {
            let location = current.location
            var parts: [Expr?] = []
            if isOp(current, ":") {
                _ = advance()
                parts.append(nil)
            } else {
                let expr = try parseExpression()
                guard isOp(current, ":") else { return expr }
                _ = advance()
                parts.append(expr)
            }
            if isOp(current, ":") {
                parts.append(nil)
            } else if !isOp(current, "]"), !isOp(current, ",") {
                parts.append(try parseExpression())
            } else {
                parts.append(nil)
            }
            if isOp(current, ":") {
                _ = advance()
                if !isOp(current, "]"), !isOp(current, ",") {
                    parts.append(try parseExpression())
                } else {
                    parts.append(nil)
                }
            } else {
                parts.append(nil)
            }
            return Expr(kind: .slice(start: parts[0], stop: parts[1], step: parts[2]), location: location)
        }

        private mutating func parseCallArguments() throws(ChatTemplateError) -> Expr.Arguments {
            let open = current
            try expectOp("(")
            var arguments = Expr.Arguments()
            var requireComma = false
            func ensure(_ condition: Bool) throws(ChatTemplateError) {
                if !condition { throw .syntax("invalid syntax for function call expression", at: open.location) }
            }
            while !isOp(current, ")") {
                if requireComma {
                    try expectOp(",")
                    if isOp(current, ")") { break }
                }
                if isOp(current, "*") {
                    try ensure(arguments.star == nil && arguments.doubleStar == nil)
                    _ = advance()
                    arguments.star = try parseExpression()
                } else if isOp(current, "**") {
                    try ensure(arguments.doubleStar == nil)
                    _ = advance()
                    arguments.doubleStar = try parseExpression()
                } else if case .name(let name) = current.kind, isOp(peek(), "=") {
                    try ensure(arguments.doubleStar == nil)
                    _ = advance()
                    _ = advance()
                    arguments.keyword.append((name, try parseExpression()))
                } else {
                    try ensure(arguments.star == nil && arguments.doubleStar == nil && arguments.keyword.isEmpty)
                    arguments.positional.append(try parseExpression())
                }
                requireComma = true
            }
            try expectOp(")")
            return arguments
        }

        private mutating func parseCall(_ node: Expr) throws(ChatTemplateError) -> Expr {
            Expr(kind: .call(node, try parseCallArguments()), location: node.location)
        }

        private mutating func parseDottedName() throws(ChatTemplateError) -> (String, Token) {
            var (name, token) = try expectName()
            while skipOp(".") {
                name += "." + (try expectName()).0
            }
            return (name, token)
        }

        /// Zero or more `| filter(args)` after `node`; with `startInline` the first filter has no `|` (filter
        /// blocks). Returns nil when there is no filter and no node.
        private mutating func parseFilter(_ start: Expr?, startInline: Bool = false) throws(ChatTemplateError) -> Expr? {
            var node = start
            var inline = startInline
            while isOp(current, "|") || inline {
                if !inline { _ = advance() }
                let (name, token) = try parseDottedName()
                guard Filters.known.contains(name) else {
                    throw .syntax("No filter named '\(name)'.", at: token.location)
                }
                let arguments = isOp(current, "(") ? try parseCallArguments() : Expr.Arguments()
                node = Expr(kind: .filter(node, name: name, arguments), location: token.location)
                inline = false
            }
            return node
        }

        private mutating func parseTest(_ node: Expr) throws(ChatTemplateError) -> Expr {
            let isToken = advance()
            let negated = skipName("not")
            let (name, token) = try parseDottedName()
            var arguments = Expr.Arguments()
            if isOp(current, "(") {
                arguments = try parseCallArguments()
            } else {
                switch current.kind {
                case .name("else"), .name("or"), .name("and"):
                    break
                case .name, .string, .integer, .float, .op("["), .op("{"):
                    if isName(current, "is") { throw fail("You cannot chain multiple tests with is") }
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                default:
                    break
                }
            }
            guard Tests.known.contains(name) else {
                throw .syntax("No test named '\(name)'.", at: token.location)
            }
            let test = Expr(kind: .test(node, name: name, arguments), location: isToken.location)
            return negated ? Expr(kind: .not(test), location: isToken.location) : test
        }
    }

    /// Collects every variable name a subtree reads, which decides whether a macro accepts extra arguments.
    enum NameCollector {
        static func names(in nodes: [Node]) -> Set<String> {
            var names = Set<String>()
            for node in nodes { visit(node, &names) }
            return names
        }

        private static func visit(_ node: Node, _ names: inout Set<String>) {
            switch node {
            case .text, .loopControl:
                break
            case .output(let expr):
                visit(expr, &names)
            case .ifBlock(let branches, let otherwise):
                for branch in branches {
                    visit(branch.test, &names)
                    branch.body.forEach { visit($0, &names) }
                }
                otherwise.forEach { visit($0, &names) }
            case .forLoop(let loop):
                visit(loop.iterable, &names)
                if let condition = loop.condition { visit(condition, &names) }
                loop.body.forEach { visit($0, &names) }
                loop.otherwise.forEach { visit($0, &names) }
            case .set(_, let expr, _):
                visit(expr, &names)
            case .setBlock(_, let filter, let body, _):
                if let filter { visit(filter, &names) }
                body.forEach { visit($0, &names) }
            case .macro(let macro):
                macro.defaults.forEach { visit($0, &names) }
                macro.body.forEach { visit($0, &names) }
            case .callBlock(let call, let caller):
                visit(call, &names)
                caller.body.forEach { visit($0, &names) }
            case .filterBlock(let filter, let body):
                visit(filter, &names)
                body.forEach { visit($0, &names) }
            case .with(let assignments, let body, _):
                assignments.forEach { visit($0.value, &names) }
                body.forEach { visit($0, &names) }
            case .generation(let body):
                body.forEach { visit($0, &names) }
            }
        }

        private static func visit(_ arguments: Expr.Arguments, _ names: inout Set<String>) {
            arguments.positional.forEach { visit($0, &names) }
            arguments.keyword.forEach { visit($0.value, &names) }
            if let star = arguments.star { visit(star, &names) }
            if let doubleStar = arguments.doubleStar { visit(doubleStar, &names) }
        }

        private static func visit(_ expr: Expr, _ names: inout Set<String>) {
            switch expr.kind {
            case .constant, .namespaceAttribute:
                break
            case .name(let name):
                names.insert(name)
            case .list(let items), .tuple(let items), .concat(let items):
                items.forEach { visit($0, &names) }
            case .dict(let items):
                for item in items {
                    visit(item.key, &names)
                    visit(item.value, &names)
                }
            case .attribute(let base, _), .not(let base), .negate(let base), .plus(let base):
                visit(base, &names)
            case .item(let base, let index):
                visit(base, &names)
                visit(index, &names)
            case .slice(let start, let stop, let step):
                [start, stop, step].compactMap { $0 }.forEach { visit($0, &names) }
            case .call(let callee, let arguments):
                visit(callee, &names)
                visit(arguments, &names)
            case .filter(let base, _, let arguments):
                if let base { visit(base, &names) }
                visit(arguments, &names)
            case .test(let base, _, let arguments):
                visit(base, &names)
                visit(arguments, &names)
            case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right):
                visit(left, &names)
                visit(right, &names)
            case .compare(let first, let rest):
                visit(first, &names)
                rest.forEach { visit($0.1, &names) }
            case .conditional(let test, let then, let otherwise):
                visit(test, &names)
                visit(then, &names)
                if let otherwise { visit(otherwise, &names) }
            }
        }
    }
}
