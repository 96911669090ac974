extension Jinja {
    /// `obj.name`, `obj[key]`, `obj[a:b:c]` and the methods of strings, dicts and lists, with the lookup rules
    /// of jinja2's immutable sandbox:
    ///
    /// - `obj.name` finds a Python attribute first (a method such as `items`), then the item `obj['name']`;
    ///   `obj['name']` tries the item first, then the attribute.
    /// - A missing attribute or item is undefined, not an error; using an undefined value then fails.
    /// - Methods that would mutate a list or dict (`append`, `update`, ...) and dunder attributes are blocked:
    ///   they read as undefined and fail when called.
    enum Access {
        static func attribute(_ value: Value, _ name: String, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            if case .undefined(let undefined) = value { throw Python.undefinedError(undefined, at: location) }
            if name.hasPrefix("__"), name.hasSuffix("__") {
                return .undefined(Undefined(message: "access to attribute '\(name)' of '\(value.typeName)' object is unsafe.", isUnsafe: true))
            }
            if let method = method(of: value, name) { return method }
            switch value {
            case .dict(let dict):
                return dict.get(name) ?? .undefined(.attribute(name, of: value))
            case .object(let object):
                if let found = object.attribute(name) { return found }
                if let found = try object.item(.string(name), at: location) { return found }
                return .undefined(.attribute(name, of: value))
            default:
                return .undefined(.attribute(name, of: value))
            }
        }

        static func item(_ value: Value, _ key: Value, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            switch value {
            case .undefined(let undefined):
                throw Python.undefinedError(undefined, at: location)
            case .list(let items), .tuple(let items):
                if let index = Python.integer(key) {
                    let position = index < 0 ? index + items.count : index
                    if position >= 0, position < items.count { return items[position] }
                    return .undefined(.element(key, of: value))
                }
            case .string(let text), .markup(let text):
                if let index = Python.integer(key) {
                    let scalars = Array(text.unicodeScalars)
                    let position = index < 0 ? index + scalars.count : index
                    if position >= 0, position < scalars.count {
                        if case .markup = value { return .markup(String(scalars[position])) }
                        return .string(String(scalars[position]))
                    }
                    return .undefined(.element(key, of: value))
                }
            case .dict(let dict):
                if let hashKey = HashKey(key), let found = dict.get(hashKey) { return found }
            case .object(let object):
                if let found = try object.item(key, at: location) { return found }
            default:
                break
            }
            if case .string(let name) = key, let found = try? attribute(value, name, at: location), !found.isUndefined || isUnsafe(found) {
                return found
            }
            return .undefined(.element(key, of: value))
        }

        private static func isUnsafe(_ value: Value) -> Bool {
            if case .undefined(let undefined) = value { return undefined.isUnsafe }
            return false
        }

        /// The code-point indices `sequence[start:stop:step]` selects, after Python's clamping of out-of-range
        /// and negative bounds.
        static func sliceBounds(count: Int, _ start: Int?, _ stop: Int?, _ step: Int) -> (start: Int, stop: Int) {
            func adjust(_ index: Int?, whenMissing missing: Int) -> Int {
                guard var index else { return missing }
                if index < 0 {
                    index += count
                    if index < 0 { index = step < 0 ? -1 : 0 }
                } else if index >= count {
                    index = step < 0 ? count - 1 : count
                }
                return index
            }
            return (adjust(start, whenMissing: step < 0 ? count - 1 : 0), adjust(stop, whenMissing: step < 0 ? -1 : count))
        }

        static func sliceIndices(count: Int, _ start: Int?, _ stop: Int?, _ step: Int) -> [Int] {
            let bounds = sliceBounds(count: count, start, stop, step)
            return Array(stride(from: bounds.start, to: bounds.stop, by: step))
        }

        /// `value[start:stop:step]`. With `forgiving` (constant folding) a TypeError becomes undefined, as in
        /// jinja2's own getitem.
        static func slice(_ value: Value, _ start: Value?, _ stop: Value?, _ step: Value?, forgiving: Bool, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            do {
                return try strictSlice(value, start, stop, step, at: location)
            } catch {
                guard forgiving, case .runtime(let message, _) = error, message.hasSuffix("subscriptable")
                    || message.hasPrefix("unhashable") || message.hasPrefix("slice indices") else { throw error }
                return .undefined(.element(.none, of: value))
            }
        }

        private static func strictSlice(_ value: Value, _ start: Value?, _ stop: Value?, _ step: Value?, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            // jinja2 compiles `x[a:b]` to a plain Python subscript, bypassing its forgiving getitem: slicing
            // something that is not a sequence, or with bounds that are not integers, is a TypeError.
            switch value {
            case .undefined(let undefined):
                throw Python.undefinedError(undefined, at: location)
            case .dict:
                throw .runtime("unhashable type: 'slice'", at: location)
            case .list, .tuple, .string, .markup:
                break
            case .object(let object) where object is RangeObject:
                break
            default:
                throw .runtime("'\(value.typeName)' object is not subscriptable", at: location)
            }
            var bounds: [Int?] = []
            for part in [start, stop, step] {
                switch part {
                case nil, .none?:
                    bounds.append(nil)
                case let .some(index):
                    guard let integer = Python.integer(index) else {
                        throw .runtime("slice indices must be integers or None or have an __index__ method", at: location)
                    }
                    bounds.append(integer)
                }
            }
            let step = bounds[2] ?? 1
            guard step != 0 else { throw .runtime("slice step cannot be zero", at: location) }
            switch value {
            case .list(let items):
                return .list(sliceIndices(count: items.count, bounds[0], bounds[1], step).map { items[$0] })
            case .tuple(let items):
                return .tuple(sliceIndices(count: items.count, bounds[0], bounds[1], step).map { items[$0] })
            case .string(let text), .markup(let text):
                let scalars = Array(text.unicodeScalars)
                let sliced = PythonString.make(sliceIndices(count: scalars.count, bounds[0], bounds[1], step).map { scalars[$0] })
                if case .markup = value { return .markup(sliced) }
                return .string(sliced)
            case .object(let object):
                guard let range = object as? RangeObject else {
                    throw .runtime("'\(value.typeName)' object is not subscriptable", at: location)
                }
                let adjusted = sliceBounds(count: range.count, bounds[0], bounds[1], step)
                return .object(RangeObject(start: range.start + adjusted.start * range.step,
                                           stop: range.start + adjusted.stop * range.step, step: range.step * step))
            default:
                throw .runtime("'\(value.typeName)' object is not subscriptable", at: location)
            }
        }

        // MARK: Methods

        private static let blockedListMethods: Set<String> = ["append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"]
        private static let blockedDictMethods: Set<String> = ["clear", "pop", "popitem", "setdefault", "update"]

        static func method(of value: Value, _ name: String) -> Value? {
            switch value {
            case .string(let text):
                return StringMethods.method(text, name)
            case .markup(let text):
                return StringMethods.markupMethod(text, name)
            case .dict(let dict):
                if blockedDictMethods.contains(name) { return blocked(name, "dict") }
                return dictMethod(dict, name)
            case .list(let items):
                if blockedListMethods.contains(name) { return blocked(name, "list") }
                return sequenceMethod(items, name, typeName: "list")
            case .tuple(let items):
                return sequenceMethod(items, name, typeName: "tuple")
            default:
                return nil
            }
        }

        private static func blocked(_ name: String, _ typeName: String) -> Value {
            .undefined(Undefined(message: "access to attribute '\(name)' of '\(typeName)' object is unsafe.", isUnsafe: true))
        }

        private static func function(_ name: String, _ body: @escaping FunctionObject.Body) -> Value {
            .object(FunctionObject(name: name, body: body))
        }

        private static func dictMethod(_ dict: PythonDict, _ name: String) -> Value? {
            switch name {
            case "get":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    let bound = try arguments.bind("get", ["key", "default"], at: location)
                    guard let key = bound[0] else { throw .runtime("get expected at least 1 argument, got 0", at: location) }
                    return dict.get(try Python.hashKey(key, at: location)) ?? bound[1] ?? .none
                }
            case "items":
                return function(name) { _, _, _ throws(ChatTemplateError) in
                    .object(DictViewObject(typeName: "dict_items", items: dict.items.map { .tuple([$0.key, $0.value]) }))
                }
            case "keys":
                return function(name) { _, _, _ throws(ChatTemplateError) in
                    .object(DictViewObject(typeName: "dict_keys", items: dict.keys))
                }
            case "values":
                return function(name) { _, _, _ throws(ChatTemplateError) in
                    .object(DictViewObject(typeName: "dict_values", items: dict.values))
                }
            case "copy":
                return function(name) { _, _, _ throws(ChatTemplateError) in .dict(dict) }
            case "fromkeys":
                return function(name) { _, _, location throws(ChatTemplateError) in
                    throw .unsupported(construct: "method 'dict.fromkeys'", at: location)
                }
            default:
                return nil
            }
        }

        private static func sequenceMethod(_ items: [Value], _ name: String, typeName: String) -> Value? {
            switch name {
            case "count":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    guard arguments.positional.count == 1 else { throw .runtime("count() takes exactly one argument", at: location) }
                    var total = 0
                    for item in items where Python.equal(item, arguments.positional[0]) { total += 1 }
                    return .int(total)
                }
            case "index":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    guard let target = arguments.positional.first else { throw .runtime("index expected at least 1 argument", at: location) }
                    for (position, item) in items.enumerated() where Python.equal(item, target) { return .int(position) }
                    throw .runtime("\(try Python.repr(target, at: location)) is not in \(typeName)", at: location)
                }
            case "copy" where typeName == "list":
                return function(name) { _, _, _ throws(ChatTemplateError) in .list(items) }
            default:
                return nil
            }
        }
    }

    /// The methods of Python's `str` that templates call (`.strip()`, `.split()`, `.startswith()`, ...).
    enum StringMethods {
        private static func function(_ name: String, _ body: @escaping FunctionObject.Body) -> Value {
            .object(FunctionObject(name: name, body: body))
        }

        private static func string(_ value: Value?, _ what: String, at location: SourceLocation) throws(ChatTemplateError) -> String {
            guard let value, let text = value.stringValue else {
                throw .runtime("\(what) must be str, not \(value?.typeName ?? "nothing")", at: location)
            }
            return text
        }

        private static func optionalString(_ value: Value?, _ what: String, at location: SourceLocation) throws(ChatTemplateError) -> String? {
            guard let value, !isNone(value) else { return nil }
            return try string(value, what, at: location)
        }

        private static func isNone(_ value: Value) -> Bool {
            if case .none = value { return true }
            return false
        }

        private static func int(_ value: Value?, default fallback: Int, at location: SourceLocation) throws(ChatTemplateError) -> Int {
            guard let value, !isNone(value) else { return fallback }
            guard let integer = Python.integer(value) else {
                throw .runtime("'\(value.typeName)' object cannot be interpreted as an integer", at: location)
            }
            return integer
        }

        private static func fillCharacter(_ value: Value?, at location: SourceLocation) throws(ChatTemplateError) -> Unicode.Scalar {
            guard let value else { return " " }
            let text = try string(value, "fill character", at: location)
            guard text.unicodeScalars.count == 1, let scalar = text.unicodeScalars.first else {
                throw .runtime("The fill character must be exactly one character long", at: location)
            }
            return scalar
        }

        /// The part of `scalars` that `start` and `end` arguments select, as slice bounds.
        private static func window(_ scalars: [Unicode.Scalar], _ start: Value?, _ end: Value?, at location: SourceLocation) throws(ChatTemplateError) -> (Int, Int) {
            let count = scalars.count
            var lower = try int(start, default: 0, at: location)
            var upper = try int(end, default: count, at: location)
            if lower < 0 { lower = max(0, lower + count) }
            if upper < 0 { upper = max(0, upper + count) }
            return (min(lower, count), min(upper, count))
        }

        private static func affixes(_ value: Value?, _ method: String, at location: SourceLocation) throws(ChatTemplateError) -> [String] {
            guard let value else { throw .runtime("\(method)() takes at least 1 argument (0 given)", at: location) }
            if case .tuple(let items) = value {
                var result: [String] = []
                for item in items { result.append(try string(item, "tuple for \(method) must only contain str, not", at: location)) }
                return result
            }
            guard let text = value.stringValue else {
                throw .runtime("\(method) first arg must be str or a tuple of str, not \(value.typeName)", at: location)
            }
            return [text]
        }

        /// The methods markupsafe's `Markup` overrides: their string arguments are escaped and their
        /// string results are Markup again.
        private static let markupOverrides: Set<String> = [
            "join", "split", "rsplit", "splitlines", "capitalize", "title", "lower", "upper", "replace", "ljust",
            "rjust", "lstrip", "rstrip", "center", "strip", "swapcase", "zfill", "casefold", "removeprefix",
            "removesuffix", "partition", "rpartition", "format",
        ]

        static func markupMethod(_ text: String, _ name: String) -> Value? {
            guard let method = method(text, name) else { return nil }
            guard markupOverrides.contains(name), case .object(let object) = method, let function = object as? FunctionObject else {
                return method
            }
            func escaped(_ value: Value) -> Value {
                if case .string(let string) = value { return .markup(PythonString.htmlEscape(string)) }
                return value
            }
            func marked(_ value: Value) -> Value {
                switch value {
                case .string(let string): return .markup(string)
                case .list(let items): return .list(items.map(marked))
                case .tuple(let items): return .tuple(items.map(marked))
                default: return value
                }
            }
            return .object(FunctionObject(name: name) { arguments, renderer, location throws(ChatTemplateError) in
                var escapedArguments = CallArguments(positional: arguments.positional.map(escaped),
                                                     keyword: arguments.keyword.map { ($0.name, escaped($0.value)) })
                if name == "join", let items = escapedArguments.positional.first {
                    escapedArguments.positional[0] = .list(try Python.iterate(items, at: location).map(escaped))
                }
                return marked(try function.call(escapedArguments, renderer, at: location))
            })
        }

        static func method(_ text: String, _ name: String) -> Value? {
            switch name {
            case "strip", "lstrip", "rstrip":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    let bound = try arguments.bind(name, ["chars"], at: location)
                    let chars = try optionalString(bound[0], "strip arg", at: location)
                    return .string(PythonString.strip(text, characters: chars, leading: name != "rstrip", trailing: name != "lstrip"))
                }
            case "split", "rsplit":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    let bound = try arguments.bind(name, ["sep", "maxsplit"], at: location)
                    let separator = try optionalString(bound[0], "sep", at: location)
                    if separator?.isEmpty == true { throw .runtime("empty separator", at: location) }
                    let maxSplit = try int(bound[1], default: -1, at: location)
                    let pieces = name == "split"
                        ? PythonString.split(text, separator: separator, maxSplit: maxSplit)
                        : PythonString.rsplit(text, separator: separator, maxSplit: maxSplit)
                    return .list(pieces.map { .string($0) })
                }
            case "splitlines":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    let bound = try arguments.bind(name, ["keepends"], at: location)
                    let keep = bound[0].map(Python.isTrue) ?? false
                    return .list(PythonString.splitLines(text, keepEnds: keep).map { .string($0) })
                }
            case "startswith", "endswith":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    let bound = try arguments.bind(name, ["prefix", "start", "end"], at: location)
                    let candidates = try affixes(bound[0], name, at: location)
                    let scalars = Array(text.unicodeScalars)
                    let (lower, upper) = try window(scalars, bound[1], bound[2], at: location)
                    guard lower <= upper else { return .bool(false) }
                    let part = PythonString.make(scalars[lower..<upper])
                    for candidate in candidates {
                        let matched = name == "startswith" ? PythonString.hasPrefix(part, candidate) : PythonString.hasSuffix(part, candidate)
                        if matched { return .bool(true) }
                    }
                    return .bool(false)
                }
            case "upper": return function(name) { _, _, _ throws(ChatTemplateError) in .string(PythonString.upper(text)) }
            case "lower", "casefold": return function(name) { _, _, _ throws(ChatTemplateError) in .string(PythonString.lower(text)) }
            case "title": return function(name) { _, _, _ throws(ChatTemplateError) in .string(PythonString.title(text)) }
            case "capitalize": return function(name) { _, _, _ throws(ChatTemplateError) in .string(PythonString.capitalize(text)) }
            case "swapcase": return function(name) { _, _, _ throws(ChatTemplateError) in .string(PythonString.swapCase(text)) }
            case "replace":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    let bound = try arguments.bind(name, ["old", "new", "count"], at: location)
                    let old = try string(bound[0], "replace() argument 1", at: location)
                    let new = try string(bound[1], "replace() argument 2", at: location)
                    return .string(PythonString.replace(text, old, new, count: try int(bound[2], default: -1, at: location)))
                }
            case "find", "rfind", "index", "rindex", "count":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    let bound = try arguments.bind(name, ["sub", "start", "end"], at: location)
                    let needle = Array(try string(bound[0], "\(name)() argument 1", at: location).unicodeScalars)
                    let scalars = Array(text.unicodeScalars)
                    let (lower, upper) = try window(scalars, bound[1], bound[2], at: location)
                    let part = lower <= upper ? Array(scalars[lower..<upper]) : []
                    if name == "count" {
                        if lower > upper { return .int(0) }
                        return .int(PythonString.count(PythonString.make(needle), in: PythonString.make(part)))
                    }
                    let reverse = name.hasPrefix("r")
                    if lower <= upper, let found = PythonString.find(needle, in: part, reverse: reverse) {
                        return .int(found + lower)
                    }
                    if name.hasSuffix("index") { throw .runtime("substring not found", at: location) }
                    return .int(-1)
                }
            case "join":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    guard arguments.positional.count == 1 else { throw .runtime("join() takes exactly one argument", at: location) }
                    var pieces: [String] = []
                    for (index, item) in try Python.iterate(arguments.positional[0], at: location).enumerated() {
                        guard let piece = item.stringValue else {
                            throw .runtime("sequence item \(index): expected str instance, \(item.typeName) found", at: location)
                        }
                        pieces.append(piece)
                    }
                    return .string(pieces.joined(separator: text))
                }
            case "format":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    .string(try BraceFormat.format(text, arguments, at: location))
                }
            case "center", "ljust", "rjust":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    let bound = try arguments.bind(name, ["width", "fillchar"], at: location)
                    let width = try int(bound[0], default: 0, at: location)
                    let fill = try fillCharacter(bound[1], at: location)
                    if name == "center" { return .string(PythonString.center(text, width: width, fill: fill)) }
                    return .string(PythonString.justify(text, width: width, fill: fill, left: name == "ljust"))
                }
            case "zfill":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    .string(PythonString.zeroFill(text, width: try int(arguments.positional.first, default: 0, at: location)))
                }
            case "partition", "rpartition":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    let separator = try string(arguments.positional.first, "partition separator", at: location)
                    guard !separator.isEmpty else { throw .runtime("empty separator", at: location) }
                    let scalars = Array(text.unicodeScalars)
                    let needle = Array(separator.unicodeScalars)
                    guard let found = PythonString.find(needle, in: scalars, reverse: name == "rpartition") else {
                        return name == "partition" ? .tuple([.string(text), .string(""), .string("")]) : .tuple([.string(""), .string(""), .string(text)])
                    }
                    return .tuple([.string(PythonString.make(scalars[..<found])), .string(separator),
                                   .string(PythonString.make(scalars[(found + needle.count)...]))])
                }
            case "removeprefix", "removesuffix":
                return function(name) { arguments, _, location throws(ChatTemplateError) in
                    let affix = try string(arguments.positional.first, "\(name)() argument", at: location)
                    let scalars = Array(text.unicodeScalars)
                    let count = affix.unicodeScalars.count
                    if name == "removeprefix", PythonString.hasPrefix(text, affix) { return .string(PythonString.make(scalars[count...])) }
                    if name == "removesuffix", !affix.isEmpty, PythonString.hasSuffix(text, affix) {
                        return .string(PythonString.make(scalars[..<(scalars.count - count)]))
                    }
                    return .string(text)
                }
            case "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric",
                "isprintable", "isspace", "istitle", "isupper":
                return function(name) { _, _, _ throws(ChatTemplateError) in
                    let result: Bool
                    switch name {
                    case "isalnum": result = PythonString.all(text, PythonString.isAlnum)
                    case "isalpha": result = PythonString.all(text, PythonString.isAlpha)
                    case "isascii": result = text.unicodeScalars.allSatisfy { $0.isASCII }
                    case "isdecimal": result = PythonString.all(text, PythonString.isDecimal)
                    case "isdigit": result = PythonString.all(text, PythonString.isDigit)
                    case "isidentifier": result = PythonString.isIdentifier(text)
                    case "islower": result = PythonString.isLowerString(text)
                    case "isnumeric": result = PythonString.all(text, PythonString.isNumeric)
                    case "isprintable": result = text.unicodeScalars.allSatisfy(PythonString.isPrintable)
                    case "isspace": result = PythonString.all(text, PythonString.isSpace)
                    case "istitle": result = PythonString.isTitleString(text)
                    default: result = PythonString.isUpperString(text)
                    }
                    return .bool(result)
                }
            case "encode", "expandtabs", "format_map", "maketrans", "translate":
                return function(name) { _, _, location throws(ChatTemplateError) in
                    throw .unsupported(construct: "method 'str.\(name)'", at: location)
                }
            default:
                return nil
            }
        }
    }
}
