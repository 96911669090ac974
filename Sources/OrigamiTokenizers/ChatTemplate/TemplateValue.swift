/// A value a chat template can read: what `apply_chat_template` passes to jinja2 after turning its inputs into
/// plain JSON data (strings, numbers, booleans, `None`, lists and dicts).
public indirect enum TemplateValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    /// Keys keep their insertion order, as Python dicts do: templates iterate tools and arguments in it and
    /// `tojson` writes them in it.
    case dictionary(TemplateDictionary)
}

/// A string-keyed dictionary that remembers insertion order.
///
/// Equality ignores order, as Python's dict equality does. Setting an existing key keeps its position.
public struct TemplateDictionary: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var storage: [String: TemplateValue] = [:]

    public init() {}

    /// Builds a dictionary from pairs in order; a repeated key keeps its first position and its last value.
    public init<Pairs: Sequence>(_ pairs: Pairs) where Pairs.Element == (String, TemplateValue) {
        for (key, value) in pairs {
            self[key] = value
        }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// The value for `key`; assigning `nil` removes it.
    public subscript(key: String) -> TemplateValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil {
                    keys.append(key)
                }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// The entries in insertion order.
    public var entries: [(key: String, value: TemplateValue)] {
        keys.map { ($0, storage[$0] ?? .none) }
    }

    public static func == (lhs: TemplateDictionary, rhs: TemplateDictionary) -> Bool {
        lhs.storage == rhs.storage
    }
}

extension TemplateDictionary: Sequence {
    public func makeIterator() -> IndexingIterator<[(key: String, value: TemplateValue)]> {
        entries.makeIterator()
    }
}

extension TemplateDictionary: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self.init(elements)
    }
}

extension TemplateValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension TemplateValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
}

extension TemplateValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension TemplateValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension TemplateValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .none }
}

extension TemplateValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
}

extension TemplateValue: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .dictionary(TemplateDictionary(elements))
    }
}
