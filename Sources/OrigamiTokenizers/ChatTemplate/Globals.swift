#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

extension Jinja {
    /// The global names a chat template sees: jinja2's (`range`, `dict`, `namespace`, `cycler`, `joiner`) and
    /// the two transformers adds (`raise_exception`, `strftime_now`).
    enum Globals {
        /// The sandbox refuses larger ranges, so a template cannot allocate without bound.
        static let maximumRange = 100_000

        static func install(in scope: Scope) {
            func define(_ name: String, _ body: @escaping FunctionObject.Body) {
                scope.set(name, .object(FunctionObject(name: name, body: body)))
            }
            define("range") { arguments, _, location throws(ChatTemplateError) in
                try range(arguments, at: location)
            }
            define("dict") { arguments, _, location throws(ChatTemplateError) in
                .dict(try dictionary(arguments, function: "dict", at: location))
            }
            define("namespace") { arguments, renderer, location throws(ChatTemplateError) in
                let namespace = NamespaceObject()
                let attributes = try dictionary(arguments, function: "namespace", at: location)
                for (key, value) in attributes.items {
                    guard case .string(let name) = key else { continue }
                    guard !name.hasPrefix("_") else {
                        throw .runtime("Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(name)'. Please rename the attribute.", at: location)
                    }
                    namespace.set(name, value)
                }
                renderer.track(namespace)
                return .object(namespace)
            }
            define("raise_exception") { arguments, _, location throws(ChatTemplateError) in
                let bound = try arguments.bind("raise_exception", ["message"], at: location)
                guard let message = bound[0] else { throw .runtime("raise_exception() missing 1 required positional argument: 'message'", at: location) }
                throw .raised(try Python.str(message, at: location), at: location)
            }
            define("strftime_now") { arguments, _, location throws(ChatTemplateError) in
                let bound = try arguments.bind("strftime_now", ["format"], at: location)
                guard let format = bound[0]?.stringValue else {
                    throw .runtime("strftime() argument 1 must be str", at: location)
                }
                return .string(strftimeNow(format))
            }
            define("cycler") { arguments, _, _ throws(ChatTemplateError) in
                .object(CyclerObject(items: arguments.positional))
            }
            define("joiner") { arguments, _, location throws(ChatTemplateError) in
                let bound = try arguments.bind("joiner", ["sep"], at: location)
                return .object(JoinerObject(separator: try bound[0].map { (s) throws(ChatTemplateError) in try Python.str(s, at: location) } ?? ", "))
            }
            define("lipsum") { _, _, location throws(ChatTemplateError) in
                throw .unsupported(construct: "global 'lipsum'", at: location)
            }
        }

        private static func range(_ arguments: CallArguments, at location: SourceLocation) throws(ChatTemplateError) -> Value {
            guard arguments.keyword.isEmpty else { throw .runtime("range() takes no keyword arguments", at: location) }
            var bounds: [Int] = []
            for argument in arguments.positional {
                guard let integer = Python.integer(argument) else {
                    if case .undefined(let undefined) = argument { throw Python.undefinedError(undefined, at: location) }
                    throw .runtime("'\(argument.typeName)' object cannot be interpreted as an integer", at: location)
                }
                bounds.append(integer)
            }
            let start: Int
            let stop: Int
            var step = 1
            switch bounds.count {
            case 1: (start, stop) = (0, bounds[0])
            case 2: (start, stop) = (bounds[0], bounds[1])
            case 3: (start, stop, step) = (bounds[0], bounds[1], bounds[2])
            default: throw .runtime("range expected at most 3 arguments, got \(bounds.count)", at: location)
            }
            guard step != 0 else { throw .runtime("range() arg 3 must not be zero", at: location) }
            let range = RangeObject(start: start, stop: stop, step: step)
            guard range.count <= maximumRange else {
                throw .runtime("Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(maximumRange)).", at: location)
            }
            return .object(range)
        }

        /// `dict(mapping_or_pairs, **kwargs)`.
        private static func dictionary(_ arguments: CallArguments, function: String, at location: SourceLocation) throws(ChatTemplateError) -> PythonDict {
            guard arguments.positional.count <= 1 else {
                throw .runtime("\(function) expected at most 1 argument, got \(arguments.positional.count)", at: location)
            }
            var dict = PythonDict()
            if let source = arguments.positional.first {
                if case .dict(let given) = source {
                    dict = given
                } else {
                    for (index, pair) in try Python.iterate(source, at: location).enumerated() {
                        let items = try Python.iterate(pair, at: location)
                        guard items.count == 2 else {
                            throw .runtime("dictionary update sequence element #\(index) has length \(items.count); 2 is required", at: location)
                        }
                        dict.set(items[0], items[1], key: try Python.hashKey(items[0], at: location))
                    }
                }
            }
            for (name, value) in arguments.keyword {
                dict.set(.string(name), value, key: .string(HashableString(name)))
            }
            return dict
        }

        /// `datetime.now().strftime(format)`: local time through the C library, as Python formats it.
        static func strftimeNow(_ format: String) -> String {
            var now = time(nil)
            var parts = tm()
            localtime_r(&now, &parts)
            var capacity = 256
            while capacity <= 1 << 16 {
                var buffer = [CChar](repeating: 0, count: capacity)
                let written = strftime(&buffer, capacity, format, &parts)
                if written > 0 || format.isEmpty {
                    return String(decoding: buffer.prefix(written).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
                capacity *= 4
            }
            return ""
        }
    }
}
