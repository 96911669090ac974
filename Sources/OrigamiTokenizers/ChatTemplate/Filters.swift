internal import Foundation

extension Jinja {
    /// jinja2's built-in filters as transformers' environment has them (with its own `tojson`).
    enum Filters {
        static let implemented: Set<String> = [
            "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first",
            "float", "forceescape", "format", "indent", "int", "items", "join", "last", "length", "list", "lower", "map",
            "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort",
            "string", "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "wordcount",
        ]

        /// Filters jinja2 has that this engine does not: a template may name them, and fails only if it reaches one.
        static let unimplemented: Set<String> = [
            "filesizeformat", "groupby", "pprint", "random", "slice", "striptags", "urlencode", "urlize", "wordwrap", "xmlattr",
        ]

        static let known = implemented.union(unimplemented)

        static func apply(_ name: String, _ value: Value, _ arguments: CallArguments, _ renderer: Renderer, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            func bind(_ parameters: [String]) throws(ChatTemplateError) -> [Value?] {
                try arguments.bind(name, parameters, at: location)
            }
            func text(_ value: Value) throws(ChatTemplateError) -> String {
                try Python.str(value, at: location)
            }
            switch name {
            case "default", "d":
                let bound = try bind(["default_value", "boolean"])
                let useDefault = value.isUndefined || (bound[1].map(Python.isTrue) ?? false) && !Python.isTrue(value)
                return useDefault ? bound[0] ?? .string("") : value
            case "length", "count":
                _ = try bind([])
                return .int(try Python.length(value, at: location))
            case "string":
                _ = try bind([])
                if case .markup = value { return value }
                return .string(try text(value))
            case "list":
                _ = try bind([])
                return .list(try Python.iterate(value, at: location))
            case "upper", "lower", "capitalize", "title":
                _ = try bind([])
                let string = try text(value)
                switch name {
                case "upper": return keepingMarkup(value, PythonString.upper(string))
                case "lower": return keepingMarkup(value, PythonString.lower(string))
                case "capitalize": return keepingMarkup(value, PythonString.capitalize(string))
                default: return .string(titleFilter(string))
                }
            case "trim":
                let bound = try bind(["chars"])
                var characters: String?
                if let chars = bound[0], !isNone(chars) {
                    guard let string = chars.stringValue else {
                        throw .runtime("strip arg must be None or str", at: location)
                    }
                    characters = string
                }
                return keepingMarkup(value, PythonString.strip(try text(value), characters: characters))
            case "first":
                _ = try bind([])
                if case .object(let object) = value, let generator = object as? GeneratorObject {
                    // Taking the first item consumes only that item of a generator; what remains stays.
                    return generator.next() ?? .undefined(Undefined(message: "No first item, sequence was empty."))
                }
                return try Python.iterate(value, at: location).first ?? .undefined(Undefined(message: "No first item, sequence was empty."))
            case "last":
                _ = try bind([])
                if case .object(let object) = value, object is GeneratorObject {
                    throw .runtime("'\(object.typeName)' object is not reversible", at: location)
                }
                return try Python.iterate(value, at: location).last ?? .undefined(Undefined(message: "No last item, sequence was empty."))
            case "join":
                let bound = try bind(["d", "attribute"])
                let separator = try bound[0].map(text) ?? ""
                var pieces: [String] = []
                for item in try Python.iterate(value, at: location) {
                    var element = item
                    if let attribute = bound[1], !isNone(attribute) {
                        element = try lookupPath(element, attribute, at: location)
                    }
                    pieces.append(try text(element))
                }
                return .string(pieces.joined(separator: separator))
            case "tojson":
                let bound = try bind(["ensure_ascii", "indent", "separators", "sort_keys"])
                return .string(try JSONWriter.dumps(value, ensureASCII: bound[0].map(Python.isTrue) ?? false, indent: bound[1],
                                                    separators: bound[2], sortKeys: bound[3].map(Python.isTrue) ?? false, at: location))
            case "items":
                _ = try bind([])
                if value.isUndefined { return .object(GeneratorObject([], typeName: "generator")) }
                guard case .dict(let dict) = value else { throw .runtime("Can only get item pairs from a mapping.", at: location) }
                return .object(GeneratorObject(dict.items.map { .tuple([$0.key, $0.value]) }))
            case "select", "reject", "selectattr", "rejectattr":
                return try selectOrReject(name, value, arguments, renderer, at: location)
            case "map":
                return try map(value, arguments, renderer, at: location)
            case "replace":
                let bound = try bind(["old", "new", "count"])
                guard let old = bound[0], let new = bound[1] else { throw .runtime("replace() missing arguments", at: location) }
                var count = -1
                if let limit = bound[2], !isNone(limit) {
                    guard let integer = Python.integer(limit) else { throw .runtime("'\(limit.typeName)' object cannot be interpreted as an integer", at: location) }
                    count = integer
                }
                return .string(PythonString.replace(try text(value), try text(old), try text(new), count: count))
            case "indent":
                let bound = try bind(["width", "first", "blank"])
                return keepingMarkup(value, try indent(value, bound, at: location))
            case "int":
                let bound = try bind(["default", "base"])
                return try integer(value, default: bound[0] ?? .int(0), base: bound[1], at: location)
            case "float":
                let bound = try bind(["default"])
                // float(Undefined) raises UndefinedError, which the filter does not catch.
                try Python.checkUndefined(value, at: location)
                return toFloat(value) ?? bound[0] ?? .double(0)
            case "round":
                let bound = try bind(["precision", "method"])
                return try round(value, precision: bound[0], method: bound[1], at: location)
            case "abs":
                _ = try bind([])
                try Python.checkUndefined(value, at: location)
                switch Python.number(value) {
                case .int(let integer):
                    guard integer != .min else { throw Python.overflow(at: location) }
                    return .int(Swift.abs(integer))
                case .double(let double): return .double(Swift.abs(double))
                case nil: throw .runtime("bad operand type for abs(): '\(value.typeName)'", at: location)
                }
            case "safe":
                _ = try bind([])
                if case .markup = value { return value }
                return .markup(try text(value))
            case "escape", "e", "forceescape":
                _ = try bind([])
                if name != "forceescape", case .markup = value { return value }
                return .markup(PythonString.htmlEscape(try text(value)))
            case "reverse":
                _ = try bind([])
                if let string = value.stringValue { return .string(PythonString.make(string.unicodeScalars.reversed())) }
                if case .object(let object) = value, object is GeneratorObject {
                    return .list(try Python.iterate(value, at: location).reversed())
                }
                if case .undefined = value { return .list([]) }
                return .object(GeneratorObject(try Python.iterate(value, at: location).reversed(), typeName: "list_reverseiterator"))
            case "sort":
                let bound = try bind(["reverse", "case_sensitive", "attribute"])
                let items = try Python.iterate(value, at: location)
                let keys = try sortKeys(items, caseSensitive: bound[1].map(Python.isTrue) ?? false, attribute: bound[2], at: location)
                let order = try stableOrder(keys, reverse: bound[0].map(Python.isTrue) ?? false, at: location)
                return .list(order.map { items[$0] })
            case "dictsort":
                let bound = try bind(["case_sensitive", "by", "reverse"])
                guard case .dict(let dict) = value else { throw .runtime("'\(value.typeName)' object has no attribute 'items'", at: location) }
                let by = try bound[1].map(text) ?? "key"
                guard by == "key" || by == "value" else { throw .runtime("You can only sort by either \"key\" or \"value\"", at: location) }
                let pairs = dict.items
                let caseSensitive = bound[0].map(Python.isTrue) ?? false
                let keys = pairs.map { pair in
                    let key = by == "key" ? pair.key : pair.value
                    return caseSensitive ? key : ignoreCase(key)
                }
                let order = try stableOrder(keys, reverse: bound[2].map(Python.isTrue) ?? false, at: location)
                return .list(order.map { .tuple([pairs[$0].key, pairs[$0].value]) })
            case "unique":
                let bound = try bind(["case_sensitive", "attribute"])
                var seen = Set<HashKey>()
                var result: [Value] = []
                for item in try Python.iterate(value, at: location) {
                    var key = item
                    if let attribute = bound[1], !isNone(attribute) { key = try lookupPath(key, attribute, at: location) }
                    if !(bound[0].map(Python.isTrue) ?? false) { key = ignoreCase(key) }
                    if seen.insert(try Python.hashKey(key, at: location)).inserted { result.append(item) }
                }
                return .object(GeneratorObject(result))
            case "min", "max":
                let bound = try bind(["case_sensitive", "attribute"])
                let items = try Python.iterate(value, at: location)
                guard !items.isEmpty else { return .undefined(Undefined(message: "No aggregated item, sequence was empty.")) }
                var best = 0
                var bestKey = try aggregateKey(items[0], bound, at: location)
                for index in items.indices.dropFirst() {
                    let key = try aggregateKey(items[index], bound, at: location)
                    let ordering = try Python.order(key, bestKey, name == "min" ? "<" : ">", at: location) ?? 0
                    if name == "min" ? ordering < 0 : ordering > 0 {
                        best = index
                        bestKey = key
                    }
                }
                return items[best]
            case "sum":
                let bound = try bind(["attribute", "start"])
                var total = bound[1] ?? .int(0)
                for item in try Python.iterate(value, at: location) {
                    var element = item
                    if let attribute = bound[0], !isNone(attribute) { element = try lookupPath(element, attribute, at: location) }
                    total = try Python.binary(.add, total, element, at: location)
                }
                return total
            case "batch":
                let bound = try bind(["linecount", "fill_with"])
                guard let lineCount = bound[0].flatMap(Python.integer), lineCount > 0 else {
                    throw .runtime("batch() needs a positive line count", at: location)
                }
                var batches: [Value] = []
                var current: [Value] = []
                for item in try Python.iterate(value, at: location) {
                    if current.count == lineCount {
                        batches.append(.list(current))
                        current = []
                    }
                    current.append(item)
                }
                if !current.isEmpty {
                    if let fill = bound[1], !isNone(fill) {
                        current += Array(repeating: fill, count: lineCount - current.count)
                    }
                    batches.append(.list(current))
                }
                return .object(GeneratorObject(batches))
            case "center":
                let bound = try bind(["width"])
                let width = try bound[0].map { (w) throws(ChatTemplateError) in try requireInt(w, at: location) } ?? 80
                return keepingMarkup(value, PythonString.center(try text(value), width: width))
            case "wordcount":
                _ = try bind([])
                var words = 0
                var inWord = false
                for scalar in try text(value).unicodeScalars {
                    let word = PythonString.isWord(scalar)
                    if word, !inWord { words += 1 }
                    inWord = word
                }
                return .int(words)
            case "truncate":
                let bound = try bind(["length", "killwords", "end", "leeway"])
                return .string(try truncate(try text(value), bound, at: location))
            case "attr":
                let bound = try bind(["name"])
                guard let attributeName = bound[0]?.stringValue else { throw .runtime("attr() needs a name", at: location) }
                if case .undefined(let undefined) = value { throw Python.undefinedError(undefined, at: location) }
                if case .object(let object) = value, let found = object.attribute(attributeName) { return found }
                return Access.method(of: value, attributeName) ?? .undefined(.attribute(attributeName, of: value))
            case "format":
                guard arguments.positional.isEmpty || arguments.keyword.isEmpty else {
                    throw .runtime("can't handle positional and keyword arguments at the same time", at: location)
                }
                let values: Value
                if !arguments.keyword.isEmpty {
                    var dict = PythonDict()
                    for (key, item) in arguments.keyword { dict.set(.string(key), item, key: .string(HashableString(key))) }
                    values = .dict(dict)
                } else {
                    values = .tuple(arguments.positional)
                }
                return .string(try PercentFormat.format(try text(value), values, at: location))
            default:
                throw .unsupported(construct: "filter '\(name)'", at: location)
            }
        }

        /// Markup's own string methods return Markup, so filters built on them keep it.
        private static func keepingMarkup(_ input: Value, _ result: String) -> Value {
            if case .markup = input { return .markup(result) }
            return .string(result)
        }

        private static func isNone(_ value: Value) -> Bool {
            if case .none = value { return true }
            return false
        }

        private static func requireInt(_ value: Value, at location: SourceLocation) throws(ChatTemplateError) -> Int {
            guard let integer = Python.integer(value) else {
                throw .runtime("'\(value.typeName)' object cannot be interpreted as an integer", at: location)
            }
            return integer
        }

        /// jinja2's `title` filter capitalises every piece after `-`, whitespace and opening brackets; unlike
        /// `str.title()`, an apostrophe does not start a word.
        static func titleFilter(_ text: String) -> String {
            var result = ""
            var atWordStart = true
            for scalar in text.unicodeScalars {
                let isSeparator = scalar == "-" || PythonString.isSpace(scalar) || "({[<".unicodeScalars.contains(scalar)
                if isSeparator {
                    result.unicodeScalars.append(scalar)
                    atWordStart = true
                } else if atWordStart {
                    result += scalar.properties.uppercaseMapping
                    atWordStart = false
                } else {
                    result += PythonString.lower(String(scalar))
                }
            }
            return result
        }

        /// `ignore_case`: strings compare lowercased in `sort`, `unique`, `min`, `max`, `dictsort`.
        private static func ignoreCase(_ value: Value) -> Value {
            if let text = value.stringValue { return .string(PythonString.lower(text)) }
            return value
        }

        /// Looks up `a.b.0`-style paths the way `make_attrgetter` does: each part by item, digits as integers.
        static func lookupPath(_ value: Value, _ path: Value, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            guard let string = path.stringValue else { return try Access.item(value, path, at: location) }
            var current = value
            for part in PythonString.split(string, separator: ".") {
                let key: Value = PythonString.all(part, PythonString.isDigit) ? (Int(part).map { .int($0) } ?? .string(part)) : .string(part)
                current = try Access.item(current, key, at: location)
            }
            return current
        }

        private static func aggregateKey(_ item: Value, _ bound: [Value?], at location: SourceLocation) throws(ChatTemplateError) -> Value {
            var key = item
            if let attribute = bound[1], !isNone(attribute) { key = try lookupPath(key, attribute, at: location) }
            return bound[0].map(Python.isTrue) ?? false ? key : ignoreCase(key)
        }

        private static func sortKeys(_ items: [Value], caseSensitive: Bool, attribute: Value?, at location: SourceLocation) throws(ChatTemplateError) -> [Value] {
            var attributes: [Value] = []
            if let attribute, !isNone(attribute) {
                if let string = attribute.stringValue {
                    attributes = PythonString.split(string, separator: ",").map { .string($0) }
                } else {
                    attributes = [attribute]
                }
            }
            var keys: [Value] = []
            for item in items {
                var parts: [Value] = []
                if attributes.isEmpty {
                    parts = [caseSensitive ? item : ignoreCase(item)]
                } else {
                    for attribute in attributes {
                        let part = try lookupPath(item, attribute, at: location)
                        parts.append(caseSensitive ? part : ignoreCase(part))
                    }
                }
                keys.append(.list(parts))
            }
            return keys
        }

        /// The positions of `keys` in sorted order; equal keys keep their order, also when reversed (as
        /// Python's `sorted(reverse=True)`).
        static func stableOrder(_ keys: [Value], reverse: Bool, at location: SourceLocation) throws(ChatTemplateError) -> [Int] {
            var order = Array(keys.indices)
            var buffer = order
            func before(_ a: Int, _ b: Int) throws(ChatTemplateError) -> Bool {
                let ordering = reverse ? try Python.order(keys[b], keys[a], "<", at: location) : try Python.order(keys[a], keys[b], "<", at: location)
                return (ordering ?? 0) < 0
            }
            var width = 1
            while width < order.count {
                var start = 0
                while start < order.count {
                    let middle = min(start + width, order.count)
                    let end = min(start + 2 * width, order.count)
                    var i = start
                    var j = middle
                    var k = start
                    while i < middle, j < end {
                        if try before(order[j], order[i]) {
                            buffer[k] = order[j]
                            j += 1
                        } else {
                            buffer[k] = order[i]
                            i += 1
                        }
                        k += 1
                    }
                    while i < middle {
                        buffer[k] = order[i]
                        i += 1
                        k += 1
                    }
                    while j < end {
                        buffer[k] = order[j]
                        j += 1
                        k += 1
                    }
                    start = end
                }
                swap(&order, &buffer)
                width *= 2
            }
            return order
        }

        private static func selectOrReject(_ name: String, _ value: Value, _ arguments: CallArguments, _ renderer: Renderer, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            let byAttribute = name.hasSuffix("attr")
            let keep = name.hasPrefix("select")
            // jinja2 checks the sequence before the arguments: an empty one yields nothing whatever they are.
            guard Python.isTrue(value) else { return .object(GeneratorObject([])) }
            var positional = arguments.positional
            var attribute: Value?
            if byAttribute {
                guard !positional.isEmpty else { throw .runtime("Missing parameter for attribute name", at: location) }
                attribute = positional.removeFirst()
            }
            let testName: String? = positional.isEmpty ? nil : try Python.str(positional.removeFirst(), at: location)
            let testArguments = CallArguments(positional: positional, keyword: arguments.keyword)
            var result: [Value] = []
            for item in try Python.iterate(value, at: location) {
                let subject = try attribute.map { (path) throws(ChatTemplateError) in try lookupPath(item, path, at: location) } ?? item
                let passed: Bool
                if let testName {
                    passed = try Tests.apply(testName, subject, testArguments, renderer, at: location)
                } else {
                    passed = Python.isTrue(subject)
                }
                if passed == keep { result.append(item) }
            }
            return .object(GeneratorObject(result))
        }

        private static func map(_ value: Value, _ arguments: CallArguments, _ renderer: Renderer, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            var result: [Value] = []
            if arguments.positional.isEmpty, let attribute = arguments.keyword.first(where: { $0.name == "attribute" })?.value {
                let defaultValue = arguments.keyword.first(where: { $0.name == "default" })?.value
                if let extra = arguments.keyword.first(where: { $0.name != "attribute" && $0.name != "default" }) {
                    throw .runtime("Unexpected keyword argument '\(extra.name)'", at: location)
                }
                for item in try Python.iterate(value, at: location) {
                    var found = try lookupPath(item, attribute, at: location)
                    if let defaultValue, !isNone(defaultValue), found.isUndefined { found = defaultValue }
                    result.append(found)
                }
            } else {
                guard let first = arguments.positional.first else { throw .runtime("map requires a filter argument", at: location) }
                let filterName = try Python.str(first, at: location)
                guard Filters.known.contains(filterName) else { throw .runtime("No filter named '\(filterName)'.", at: location) }
                let filterArguments = CallArguments(positional: Array(arguments.positional.dropFirst()), keyword: arguments.keyword)
                for item in try Python.iterate(value, at: location) {
                    result.append(try apply(filterName, item, filterArguments, renderer, at: location))
                }
            }
            return .object(GeneratorObject(result))
        }

        private static func indent(_ value: Value, _ bound: [Value?], at location: SourceLocation) throws(ChatTemplateError) -> String {
            guard let string = value.stringValue else {
                throw .runtime("unsupported operand type(s) for +=: '\(value.typeName)' and 'str'", at: location)
            }
            var indentation = "    "
            if let width = bound[0] {
                if let text = width.stringValue {
                    indentation = text
                } else {
                    indentation = String(repeating: " ", count: max(0, try requireInt(width, at: location)))
                }
            }
            let first = bound[1].map(Python.isTrue) ?? false
            let blank = bound[2].map(Python.isTrue) ?? false
            var lines = PythonString.splitLines(string + "\n")
            var result: String
            if blank {
                result = lines.joined(separator: "\n" + indentation)
            } else {
                result = lines.removeFirst()
                if !lines.isEmpty {
                    result += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
                }
            }
            return first ? indentation + result : result
        }

        private static func integer(_ value: Value, default fallback: Value, base: Value?, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            if case .undefined(let undefined) = value { throw Python.undefinedError(undefined, at: location) }
            if let text = value.stringValue {
                let radix = base.flatMap(Python.integer) ?? 10
                if let parsed = Python.parseInt(text, base: radix) { return .int(parsed) }
                if let double = Python.parseFloat(text), double.isFinite, let truncated = Int(exactly: double.rounded(.towardZero)) {
                    return .int(truncated)
                }
                return fallback
            }
            switch Python.number(value) {
            case .int(let integer): return .int(integer)
            case .double(let double):
                if double.isNaN { return fallback }
                guard double.isFinite, let truncated = Int(exactly: double.rounded(.towardZero)) else {
                    throw .runtime("cannot convert float infinity to integer", at: location)
                }
                return .int(truncated)
            case nil: return fallback
            }
        }

        private static func toFloat(_ value: Value) -> Value? {
            if let text = value.stringValue { return Python.parseFloat(text).map { .double($0) } }
            return Python.number(value).map { .double($0.double) }
        }

        private static func round(_ value: Value, precision: Value?, method: Value?, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            let methodName = method?.stringValue ?? "common"
            guard ["common", "ceil", "floor"].contains(methodName) else {
                throw .runtime("method must be common, ceil or floor", at: location)
            }
            try Python.checkUndefined(value, at: location)
            let digits = try precision.map { (p) throws(ChatTemplateError) in try requireInt(p, at: location) } ?? 0
            guard let number = Python.number(value) else {
                throw .runtime("type \(value.typeName) doesn't define __round__ method", at: location)
            }
            if methodName == "common" {
                switch number {
                case .int(let integer):
                    guard digits < 0 else { return .int(integer) }
                    guard digits > -19 else { return .int(0) }
                    var scale = 1
                    for _ in 0..<(-digits) { scale *= 10 }
                    var quotient = integer / scale
                    let remainder = integer - quotient * scale
                    // Half-way cases go to the even multiple, as Python's round() does for integers.
                    if Swift.abs(remainder) * 2 > scale || (Swift.abs(remainder) * 2 == scale && quotient % 2 != 0) {
                        quotient += remainder < 0 ? -1 : 1
                    }
                    let (rounded, overflow) = quotient.multipliedReportingOverflow(by: scale)
                    if overflow { throw Python.overflow(at: location) }
                    return .int(rounded)
                case .double(let double):
                    return .double(roundHalfEven(double, digits))
                }
            }
            let scale = pow(10.0, Double(digits))
            let scaled = number.double * scale
            let rounded = methodName == "ceil" ? scaled.rounded(.up) : scaled.rounded(.down)
            return .double(rounded / scale)
        }

        /// Python's `round(x, n)` for floats: correctly rounded from the exact binary value, ties to even.
        static func roundHalfEven(_ value: Double, _ digits: Int) -> Double {
            guard value.isFinite else { return value }
            if digits >= 0 {
                // printf rounds the exact binary value to the requested digits, ties to even, as CPython does.
                let text = String(format: "%.\(min(digits, 330))f", value)
                return Double(text).map { $0 == 0 ? Double(signOf: value, magnitudeOf: 0) : $0 } ?? value
            }
            let scale = pow(10.0, Double(-digits))
            return (value / scale).rounded(.toNearestOrEven) * scale
        }

        private static func truncate(_ string: String, _ bound: [Value?], at location: SourceLocation) throws(ChatTemplateError) -> String {
            let length = try bound[0].map { (l) throws(ChatTemplateError) in try requireInt(l, at: location) } ?? 255
            let killWords = bound[1].map(Python.isTrue) ?? false
            let end = try bound[2].map { (e) throws(ChatTemplateError) in try Python.str(e, at: location) } ?? "..."
            var leeway = 5
            if let given = bound[3], !isNone(given) { leeway = try requireInt(given, at: location) }
            let endLength = PythonString.length(end)
            guard length >= endLength else { throw .runtime("expected length >= \(endLength), got \(length)", at: location) }
            guard leeway >= 0 else { throw .runtime("expected leeway >= 0, got \(leeway)", at: location) }
            let scalars = Array(string.unicodeScalars)
            if scalars.count <= length + leeway { return string }
            let kept = PythonString.make(scalars.prefix(length - endLength))
            if killWords { return kept + end }
            return (PythonString.rsplit(kept, separator: " ", maxSplit: 1).first ?? kept) + end
        }
    }
}
