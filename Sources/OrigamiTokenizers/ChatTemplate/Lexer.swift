extension Jinja {
    /// A token of template source: text between tags, tag delimiters, and the expression tokens inside tags.
    struct Token: Sendable {
        enum Kind: Sendable, Equatable {
            case text(String)
            case variableBegin, variableEnd, blockBegin, blockEnd
            case name(String)
            case string(String)
            case integer(Int)
            case float(Double)
            case op(String)
            case eof
        }

        var kind: Kind
        var location: SourceLocation
    }

    /// Splits template source into tokens with jinja2's rules for the environment transformers uses
    /// (`trim_blocks=True`, `lstrip_blocks=True`, default delimiters, no line statements).
    ///
    /// Whitespace handling is where renderings usually drift from transformers, so this follows jinja2's lexer
    /// step for step:
    /// - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` strip all after it.
    /// - `lstrip_blocks`: unless the tag starts with `+`, spaces and tabs between a line start and a `{%` or `{#`
    ///   are removed (never before `{{`). "Line start" also holds right after a tag that ended by eating a
    ///   newline, which is how `trim_blocks` and `lstrip_blocks` combine.
    /// - `trim_blocks`: one newline directly after `%}` or `#}` is removed, unless the tag ends with `+%}`.
    /// - `{% raw %}` keeps the newline after its opening tag; its body is text.
    /// - A single trailing newline of the template is dropped, and `\r\n` and `\r` read as `\n`.
    struct Lexer {
        private let source: [Unicode.Scalar]
        private var lineStarts: [Int] = [0]
        private var tokens: [Token] = []
        private var position = 0
        private var lineStarting = true

        private enum TagKind {
            case comment, block, variable, raw
        }

        /// Operators, longest first so `//` wins over `/` and `**` over `*`.
        private static let operators: [String] = [
            "//", "**", "==", "!=", ">=", "<=",
            "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";",
        ]

        init(_ text: String) {
            var scalars: [Unicode.Scalar] = []
            scalars.reserveCapacity(text.unicodeScalars.count)
            var previousWasCR = false
            for scalar in text.unicodeScalars {
                if scalar == "\r" {
                    scalars.append("\n")
                    previousWasCR = true
                    continue
                }
                if scalar == "\n", previousWasCR {
                    previousWasCR = false
                    continue
                }
                previousWasCR = false
                scalars.append(scalar)
            }
            if scalars.last == "\n" { scalars.removeLast() }
            source = scalars
            for (index, scalar) in scalars.enumerated() where scalar == "\n" {
                lineStarts.append(index + 1)
            }
        }

        static func tokenize(_ text: String) throws(ChatTemplateError) -> [Token] {
            var lexer = Lexer(text)
            try lexer.run()
            return lexer.tokens
        }

        func location(_ offset: Int) -> SourceLocation {
            var low = 0
            var high = lineStarts.count - 1
            while low < high {
                let mid = (low + high + 1) / 2
                if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
            }
            return SourceLocation(line: low + 1, column: offset - lineStarts[low] + 1)
        }

        private func scalar(_ offset: Int) -> Unicode.Scalar? {
            offset < source.count ? source[offset] : nil
        }

        private func starts(with text: String, at offset: Int) -> Bool {
            var i = offset
            for scalar in text.unicodeScalars {
                guard i < source.count, source[i] == scalar else { return false }
                i += 1
            }
            return true
        }

        private func skipSpace(from offset: Int) -> Int {
            var i = offset
            while i < source.count, PythonString.isSpace(source[i]) { i += 1 }
            return i
        }

        private func syntaxError(_ message: String, at offset: Int) -> ChatTemplateError {
            .syntax(message, at: location(offset))
        }

        private mutating func emitText(_ start: Int, _ end: Int) {
            guard end > start else { return }
            tokens.append(Token(kind: .text(PythonString.make(source[start..<end])), location: location(start)))
        }

        // MARK: Root state

        private mutating func run() throws(ChatTemplateError) {
            while position < source.count {
                guard let (tagStart, kind, sign, contentStart) = nextTag(from: position) else {
                    emitText(position, source.count)
                    position = source.count
                    break
                }
                emitText(position, textEnd(from: position, to: tagStart, sign: sign, kind: kind))
                switch kind {
                case .comment:
                    try lexComment(from: contentStart, tagStart: tagStart)
                case .raw:
                    lineStarting = source[contentStart - 1] == "\n"
                    try lexRaw(from: contentStart, tagStart: tagStart)
                case .block, .variable:
                    tokens.append(Token(kind: kind == .block ? .blockBegin : .variableBegin, location: location(tagStart)))
                    try lexTag(from: contentStart, isBlock: kind == .block, tagStart: tagStart)
                }
            }
            tokens.append(Token(kind: .eof, location: location(source.count)))
        }

        /// Where the text before a tag ends once whitespace control has been applied to it.
        private func textEnd(from start: Int, to end: Int, sign: Unicode.Scalar?, kind: TagKind) -> Int {
            if sign == "-" {
                var i = end
                while i > start, PythonString.isSpace(source[i - 1]) { i -= 1 }
                return i
            }
            guard sign != "+", kind != .variable else { return end }
            var lineStart = end
            while lineStart > start, source[lineStart - 1] != "\n" { lineStart -= 1 }
            guard lineStart > start || lineStarting, lineStart < end else { return end }
            for i in lineStart..<end where !PythonString.isSpace(source[i]) { return end }
            return lineStart
        }

        /// The next `{{`, `{%` or `{#` at or after `offset`: where it starts, its kind, its `-`/`+` sign and
        /// where its content starts. A `{% raw %}` tag is recognised whole.
        private func nextTag(from offset: Int) -> (Int, TagKind, Unicode.Scalar?, Int)? {
            var i = offset
            while i + 1 < source.count {
                guard source[i] == "{" else {
                    i += 1
                    continue
                }
                let next = source[i + 1]
                guard next == "{" || next == "%" || next == "#" else {
                    i += 1
                    continue
                }
                var sign: Unicode.Scalar?
                if let candidate = scalar(i + 2), candidate == "-" || candidate == "+" { sign = candidate }
                let afterSign = i + 2 + (sign == nil ? 0 : 1)
                switch next {
                case "#":
                    return (i, .comment, sign, afterSign)
                case "{":
                    return (i, .variable, sign, afterSign)
                default:
                    if let rawEnd = rawTagEnd(from: afterSign) {
                        return (i, .raw, sign, rawEnd)
                    }
                    return (i, .block, sign, afterSign)
                }
            }
            return nil
        }

        /// If `{%` is followed by `raw` and the tag's end, the offset after the tag.
        private func rawTagEnd(from offset: Int) -> Int? {
            var i = skipSpace(from: offset)
            guard starts(with: "raw", at: i) else { return nil }
            i = skipSpace(from: i + 3)
            if starts(with: "-%}", at: i) { return skipSpace(from: i + 3) }
            if starts(with: "%}", at: i) { return i + 2 }
            return nil
        }

        // MARK: Comments and raw blocks

        private mutating func lexComment(from offset: Int, tagStart: Int) throws(ChatTemplateError) {
            var i = offset
            while i < source.count {
                if source[i] == "+", starts(with: "#}", at: i + 1) {
                    finish(at: i + 3)
                    return
                }
                if source[i] == "-", starts(with: "#}", at: i + 1) {
                    finish(at: skipSpace(from: i + 3))
                    return
                }
                if starts(with: "#}", at: i) {
                    finish(at: scalar(i + 2) == "\n" ? i + 3 : i + 2)
                    return
                }
                i += 1
            }
            throw syntaxError("Missing end of comment tag", at: tagStart)
        }

        private mutating func finish(at end: Int) {
            lineStarting = source[end - 1] == "\n"
            position = end
        }

        private mutating func lexRaw(from offset: Int, tagStart: Int) throws(ChatTemplateError) {
            var i = offset
            while i + 1 < source.count {
                guard source[i] == "{", source[i + 1] == "%" else {
                    i += 1
                    continue
                }
                var sign: Unicode.Scalar?
                if let candidate = scalar(i + 2), candidate == "-" || candidate == "+" { sign = candidate }
                var j = skipSpace(from: i + 2 + (sign == nil ? 0 : 1))
                guard starts(with: "endraw", at: j) else {
                    i += 1
                    continue
                }
                j = skipSpace(from: j + 6)
                let end: Int
                if starts(with: "+%}", at: j) {
                    end = j + 3
                } else if starts(with: "-%}", at: j) {
                    end = skipSpace(from: j + 3)
                } else if starts(with: "%}", at: j) {
                    end = scalar(j + 2) == "\n" ? j + 3 : j + 2
                } else {
                    i += 1
                    continue
                }
                emitText(offset, textEnd(from: offset, to: i, sign: sign, kind: .block))
                finish(at: end)
                return
            }
            throw syntaxError("Missing end of raw directive", at: tagStart)
        }

        // MARK: Inside tags

        private mutating func lexTag(from offset: Int, isBlock: Bool, tagStart: Int) throws(ChatTemplateError) {
            var i = offset
            var brackets: [Unicode.Scalar] = []
            while i < source.count {
                if brackets.isEmpty, let end = tagEnd(at: i, isBlock: isBlock) {
                    tokens.append(Token(kind: isBlock ? .blockEnd : .variableEnd, location: location(i)))
                    finish(at: end)
                    return
                }
                let c = source[i]
                if PythonString.isSpace(c) {
                    i += 1
                    continue
                }
                if let (token, end) = try number(at: i) {
                    tokens.append(Token(kind: token, location: location(i)))
                    i = end
                    continue
                }
                if isNameScalar(c) {
                    var end = i
                    while end < source.count, isNameScalar(source[end]) { end += 1 }
                    let name = PythonString.make(source[i..<end])
                    guard PythonString.isIdentifier(name) else {
                        throw syntaxError("Invalid character in identifier", at: i)
                    }
                    tokens.append(Token(kind: .name(name), location: location(i)))
                    i = end
                    continue
                }
                if c == "'" || c == "\"", let (value, end) = try string(at: i) {
                    tokens.append(Token(kind: .string(value), location: location(i)))
                    i = end
                    continue
                }
                guard let op = Self.operators.first(where: { starts(with: $0, at: i) }) else {
                    throw syntaxError("unexpected char \(PythonString.repr(String(c))) at \(i)", at: i)
                }
                switch op {
                case "(": brackets.append(")")
                case "[": brackets.append("]")
                case "{": brackets.append("}")
                case ")", "]", "}":
                    guard let expected = brackets.popLast() else {
                        throw syntaxError("unexpected '\(op)'", at: i)
                    }
                    guard String(expected) == op else {
                        throw syntaxError("unexpected '\(op)', expected '\(expected)'", at: i)
                    }
                default:
                    break
                }
                tokens.append(Token(kind: .op(op), location: location(i)))
                i += op.unicodeScalars.count
            }
            // The parser reports the missing end, as jinja2 does.
            position = source.count
        }

        private func tagEnd(at i: Int, isBlock: Bool) -> Int? {
            if isBlock {
                if starts(with: "+%}", at: i) { return i + 3 }
                if starts(with: "-%}", at: i) { return skipSpace(from: i + 3) }
                if starts(with: "%}", at: i) { return scalar(i + 2) == "\n" ? i + 3 : i + 2 }
            } else {
                if starts(with: "-}}", at: i) { return skipSpace(from: i + 3) }
                if starts(with: "}}", at: i) { return i + 2 }
            }
            return nil
        }

        private func isNameScalar(_ c: Unicode.Scalar) -> Bool {
            if c == "_" || PythonString.isAlnum(c) { return true }
            switch c.properties.generalCategory {
            case .nonspacingMark, .spacingMark, .connectorPunctuation: return true
            default: return false
            }
        }

        private func isDigit(_ offset: Int) -> Bool {
            guard let c = scalar(offset) else { return false }
            return c.value >= 0x30 && c.value <= 0x39
        }

        /// Digits with single underscores between them; the offset after them, or nil.
        private func digits(at offset: Int, hex: Bool = false, octal: Bool = false, binary: Bool = false) -> Int? {
            func accepts(_ c: Unicode.Scalar) -> Bool {
                let v = c.value
                if binary { return v == 0x30 || v == 0x31 }
                if octal { return v >= 0x30 && v <= 0x37 }
                if hex { return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x46) || (v >= 0x61 && v <= 0x66) }
                return v >= 0x30 && v <= 0x39
            }
            var i = offset
            guard let first = scalar(i), accepts(first) else { return nil }
            i += 1
            while let c = scalar(i) {
                if accepts(c) {
                    i += 1
                } else if c == "_", let next = scalar(i + 1), accepts(next) {
                    i += 2
                } else {
                    break
                }
            }
            return i
        }

        /// A float or integer literal at `offset`, by jinja2's regexes (floats first, `_` separators, 0x/0o/0b).
        private func number(at offset: Int) throws(ChatTemplateError) -> (Token.Kind, Int)? {
            guard isDigit(offset) else { return nil }
            if offset == 0 || source[offset - 1] != ".", let intEnd = digits(at: offset) {
                var end: Int?
                var fractionEnd: Int?
                if scalar(intEnd) == ".", let afterFraction = digits(at: intEnd + 1) {
                    fractionEnd = afterFraction
                }
                let exponentStart = fractionEnd ?? intEnd
                if let e = scalar(exponentStart), e == "e" || e == "E" {
                    var j = exponentStart + 1
                    if let sign = scalar(j), sign == "+" || sign == "-" { j += 1 }
                    if let exponentEnd = digits(at: j) { end = exponentEnd }
                }
                if end == nil, let fractionEnd { end = fractionEnd }
                if let end {
                    let text = Self.withoutUnderscores(source[offset..<end])
                    guard let value = Double(text) else { throw syntaxError("invalid float literal", at: offset) }
                    return (.float(value), end)
                }
            }
            let c1 = scalar(offset + 1).map { Character($0).lowercased() }
            if source[offset] == "0", let prefix = c1, prefix == "x" || prefix == "o" || prefix == "b" {
                var j = offset + 2
                if scalar(j) == "_" { j += 1 }
                if let end = digits(at: j, hex: prefix == "x", octal: prefix == "o", binary: prefix == "b") {
                    let text = Self.withoutUnderscores(source[(offset + 2)..<end])
                    let radix = prefix == "x" ? 16 : prefix == "o" ? 8 : 2
                    guard let value = Int(text, radix: radix) else { throw syntaxError("integer literal too large", at: offset) }
                    return (.integer(value), end)
                }
            }
            if source[offset] == "0" {
                // jinja2 reads "0", "00", "0_0" as zero; "012" is the integer 0 followed by 12.
                var end = offset + 1
                while let c = scalar(end) {
                    if c == "0" {
                        end += 1
                    } else if c == "_", scalar(end + 1) == "0" {
                        end += 2
                    } else {
                        break
                    }
                }
                return (.integer(0), end)
            }
            guard let end = digits(at: offset) else { return nil }
            guard let value = Int(Self.withoutUnderscores(source[offset..<end])) else {
                throw syntaxError("integer literal too large", at: offset)
            }
            return (.integer(value), end)
        }

        /// A quoted string at `offset` with its escapes decoded the way jinja2 decodes them (Python's
        /// `unicode-escape` codec; unknown escapes such as `\d` stay as written). Nil if it is never closed.
        private func string(at offset: Int) throws(ChatTemplateError) -> (String, Int)? {
            let quote = source[offset]
            var i = offset + 1
            var raw: [Unicode.Scalar] = []
            while i < source.count, source[i] != quote {
                if source[i] == "\\" {
                    guard i + 1 < source.count else { return nil }
                    raw.append(source[i])
                    raw.append(source[i + 1])
                    i += 2
                } else {
                    raw.append(source[i])
                    i += 1
                }
            }
            guard i < source.count else { return nil }
            return (try Self.unescape(raw, at: location(offset)), i + 1)
        }

        static func unescape(_ raw: [Unicode.Scalar], at location: SourceLocation) throws(ChatTemplateError) -> String {
            var out = String.UnicodeScalarView()
            var i = 0
            func hexValue(_ count: Int, _ name: String) throws(ChatTemplateError) -> UInt32 {
                guard i + count <= raw.count else {
                    throw .syntax("(unicode error) 'unicodeescape' codec can't decode bytes: truncated \(name) escape", at: location)
                }
                var value: UInt32 = 0
                for scalar in raw[i..<i + count] {
                    guard let digit = hexDigit(scalar) ?? hexLetter(scalar) else {
                        throw .syntax("(unicode error) 'unicodeescape' codec can't decode bytes: truncated \(name) escape", at: location)
                    }
                    value = value &* 16 &+ digit
                }
                i += count
                return value
            }
            while i < raw.count {
                let c = raw[i]
                guard c == "\\", i + 1 < raw.count else {
                    out.append(c)
                    i += 1
                    continue
                }
                let e = raw[i + 1]
                i += 2
                switch e {
                case "\n": break
                case "\\": out.append("\\")
                case "'": out.append("'")
                case "\"": out.append("\"")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "v": out.append("\u{0B}")
                case "0"..."7":
                    var value = e.value - 0x30
                    var taken = 1
                    while taken < 3, i < raw.count, raw[i].value >= 0x30, raw[i].value <= 0x37 {
                        value = value * 8 + raw[i].value - 0x30
                        i += 1
                        taken += 1
                    }
                    out.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                case "x":
                    out.append(Unicode.Scalar(try hexValue(2, "\\xXX")) ?? "\u{FFFD}")
                case "u":
                    let value = try hexValue(4, "\\uXXXX")
                    out.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                case "U":
                    let value = try hexValue(8, "\\UXXXXXXXX")
                    guard let scalar = Unicode.Scalar(value) else {
                        throw .syntax("(unicode error) 'unicodeescape' codec can't decode bytes: illegal Unicode character", at: location)
                    }
                    out.append(scalar)
                case "N":
                    throw .unsupported(construct: "\\N{...} escape in a string literal", at: location)
                default:
                    // jinja2 first writes non-ASCII characters as backslash escapes, so a backslash before one
                    // ends up in front of that escape's text.
                    out.append("\\")
                    if e.value < 0x80 {
                        out.append(e)
                    } else if e.value <= 0xFF {
                        out.append(contentsOf: PythonString.hexEscape(e.value, prefix: "x", digits: 2).unicodeScalars)
                    } else if e.value <= 0xFFFF {
                        out.append(contentsOf: PythonString.hexEscape(e.value, prefix: "u", digits: 4).unicodeScalars)
                    } else {
                        out.append(contentsOf: PythonString.hexEscape(e.value, prefix: "U", digits: 8).unicodeScalars)
                    }
                }
            }
            return String(out)
        }

        private static func withoutUnderscores(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
            PythonString.make(scalars.filter { $0 != "_" })
        }

        private static func hexDigit(_ scalar: Unicode.Scalar) -> UInt32? {
            scalar.value >= 0x30 && scalar.value <= 0x39 ? scalar.value - 0x30 : nil
        }

        private static func hexLetter(_ scalar: Unicode.Scalar) -> UInt32? {
            switch scalar.value {
            case 0x41...0x46: scalar.value - 0x41 + 10
            case 0x61...0x66: scalar.value - 0x61 + 10
            default: nil
            }
        }
    }
}
