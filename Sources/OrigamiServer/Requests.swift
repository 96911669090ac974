public import OrigamiFormats
public import OrigamiTokenizers

/// Reads one JSON object's fields, naming the field (`param`) in every error. A null counts as absent, as the
/// OpenAI API treats it; fields this server does not know are ignored, as vLLM and llama.cpp ignore them.
struct FieldReader {
    let entries: [(key: String, value: JSONValue)]
    /// Prefix for nested fields' names in errors (`stream_options.`).
    let path: String

    init(_ value: JSONValue, path: String = "") throws(APIError) {
        guard let entries = value.objectValue else {
            throw .invalid("\(path.isEmpty ? "The request body" : "'\(path.dropLast())'") must be a JSON object, not \(value.kindName).",
                           param: path.isEmpty ? nil : String(path.dropLast()))
        }
        self.entries = entries
        self.path = path
    }

    func value(_ key: String) -> JSONValue? {
        guard let v = entries.first(where: { $0.key == key })?.value, v != .null else { return nil }
        return v
    }

    func name(_ key: String) -> String { path + key }

    func mistyped(_ key: String, _ expected: String, _ found: JSONValue) -> APIError {
        .invalid("'\(name(key))' must be \(expected), not \(found.kindName).", param: name(key))
    }

    func requiredString(_ key: String) throws(APIError) -> String {
        guard let v = try string(key) else { throw .invalid("Missing required parameter: '\(name(key))'.", param: name(key)) }
        return v
    }

    func string(_ key: String) throws(APIError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else { throw mistyped(key, "a string", v) }
        return s
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw mistyped(key, "a boolean", v) }
        return b
    }

    func int(_ key: String, in range: ClosedRange<Int>? = nil) throws(APIError) -> Int? {
        guard let v = value(key) else { return nil }
        guard case .number(let d, _) = v, d == d.rounded(), abs(d) < 9.0e15 else { throw mistyped(key, "an integer", v) }
        let n = Int(d)
        if let range, !range.contains(n) {
            throw .invalid("'\(name(key))' is \(n); it must be between \(range.lowerBound) and \(range.upperBound).", param: name(key))
        }
        return n
    }

    func number(_ key: String, in range: ClosedRange<Double>? = nil, exclusiveLower: Bool = false) throws(APIError) -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.doubleValue else { throw mistyped(key, "a number", v) }
        if let range, !range.contains(d) || (exclusiveLower && d == range.lowerBound) {
            let low = exclusiveLower ? "greater than \(range.lowerBound)" : "at least \(range.lowerBound)"
            throw .invalid("'\(name(key))' is \(d); it must be \(low) and at most \(range.upperBound).", param: name(key))
        }
        return d
    }

    func object(_ key: String) throws(APIError) -> FieldReader? {
        guard let v = value(key) else { return nil }
        guard v.objectValue != nil else { throw mistyped(key, "an object", v) }
        return try FieldReader(v, path: name(key) + ".")
    }
}

/// The sampling and streaming fields both endpoints share.
public struct SamplingFields: Sendable, Equatable {
    public var model: String
    /// nil: as many as the context leaves room for (chat) or 16 (completions, as OpenAI's legacy endpoint).
    public var maxTokens: Int?
    public var temperature: Double = 1
    public var topP: Double = 1
    /// Extensions (vLLM, llama.cpp): 0 / 0 / 1 disable them.
    public var topK: Int = 0
    public var minP: Double = 0
    public var repetitionPenalty: Double = 1
    public var seed: UInt64?
    public var stop: [String] = []
    public var stream = false
    public var includeUsage = false
    /// Extension: keep generating past end-of-sequence tokens until max_tokens (benchmarks).
    public var ignoreEOS = false

    init(_ r: FieldReader) throws(APIError) {
        model = try r.requiredString("model")
        let completionTokens = try r.int("max_completion_tokens", in: 1...Int.max)
        let legacyTokens = try r.int("max_tokens", in: 1...Int.max)
        maxTokens = completionTokens ?? legacyTokens
        temperature = try r.number("temperature", in: 0...2) ?? 1
        topP = try r.number("top_p", in: 0...1, exclusiveLower: true) ?? 1
        topK = try r.int("top_k", in: -1...Int.max).map { max(0, $0) } ?? 0
        minP = try r.number("min_p", in: 0...1) ?? 0
        repetitionPenalty = try r.number("repetition_penalty", in: 0...10, exclusiveLower: true) ?? 1
        if let s = try r.int("seed") { seed = UInt64(bitPattern: Int64(s)) }
        if let v = r.value("stop") {
            switch v {
            case .string(let s): stop = [s]
            case .array(let items):
                stop = try items.map { (item: JSONValue) throws(APIError) -> String in
                    guard let s = item.stringValue else { throw .invalid("'stop' must be a string or a list of strings.", param: "stop") }
                    return s
                }
            default: throw r.mistyped("stop", "a string or a list of strings", v)
            }
            guard stop.count <= 16 else { throw .invalid("'stop' has \(stop.count) sequences; at most 16 are allowed.", param: "stop") }
            stop.removeAll { $0.isEmpty }
        }
        stream = try r.bool("stream") ?? false
        if let options = try r.object("stream_options") {
            guard stream else { throw .invalid("'stream_options' is only allowed when 'stream' is true.", param: "stream_options") }
            includeUsage = try options.bool("include_usage") ?? false
        }
        ignoreEOS = try r.bool("ignore_eos") ?? false
        if let n = try r.int("n"), n != 1 { throw .invalid("'n' must be 1: this server generates one choice per request.", param: "n") }
        for key in ["presence_penalty", "frequency_penalty"] {
            if let p = try r.number(key, in: -2...2), p != 0 {
                throw .invalid("'\(key)' is not supported by this server (use 'repetition_penalty').", param: key)
            }
        }
        if let bias = r.value("logit_bias"), bias.objectValue?.isEmpty != true {
            throw .invalid("'logit_bias' is not supported by this server.", param: "logit_bias")
        }
    }
}

/// `POST /v1/chat/completions`.
public struct ChatCompletionRequest: Sendable {
    public var sampling: SamplingFields
    public var messages: [ChatMessage]
    public var logprobs = false
    public var topLogprobs = 0

    public init(json: JSONValue) throws(APIError) {
        let r = try FieldReader(json)
        messages = try Self.messages(r)
        sampling = try SamplingFields(r)
        logprobs = try r.bool("logprobs") ?? false
        if let top = try r.int("top_logprobs", in: 0...20) {
            guard logprobs else { throw .invalid("'top_logprobs' needs 'logprobs' set to true.", param: "top_logprobs") }
            topLogprobs = top
        }
    }

    /// The `messages` field: at least one `{role, content}`.
    static func messages(_ r: FieldReader) throws(APIError) -> [ChatMessage] {
        guard let list = r.value("messages") else { throw .invalid("Missing required parameter: 'messages'.", param: "messages") }
        guard let items = list.arrayValue else { throw r.mistyped("messages", "an array", list) }
        guard !items.isEmpty else { throw .invalid("'messages' must contain at least one message.", param: "messages") }
        return try items.enumerated().map { (i, item) throws(APIError) -> ChatMessage in
            let m = try FieldReader(item, path: "messages[\(i)].")
            let role = try m.requiredString("role")
            guard ["system", "developer", "user", "assistant", "tool"].contains(role) else {
                throw .invalid("'messages[\(i)].role' is '\(role)'; it must be system, developer, user, assistant or tool.",
                               param: "messages[\(i)].role")
            }
            return ChatMessage(role: role, content: try Self.content(m, index: i))
        }
    }

    /// A message's content: a string, or a list of `{"type": "text", "text": ...}` parts, joined.
    static func content(_ m: FieldReader, index i: Int) throws(APIError) -> String {
        guard let v = m.value("content") else { return "" }
        if let s = v.stringValue { return s }
        guard let parts = v.arrayValue else { throw m.mistyped("content", "a string or a list of content parts", v) }
        var text = ""
        for (j, part) in parts.enumerated() {
            let p = try FieldReader(part, path: "messages[\(i)].content[\(j)].")
            let type = try p.requiredString("type")
            guard type == "text" else {
                throw .invalid("Content parts of type '\(type)' are not supported: this is a text model.", param: p.name("type"))
            }
            text += try p.requiredString("text")
        }
        return text
    }
}

/// `POST /v1/completions`.
public struct CompletionRequest: Sendable {
    public enum Prompt: Sendable, Equatable {
        case text(String)
        /// Token ids, used as they are.
        case tokens([Int])
    }

    public var sampling: SamplingFields
    public var prompt: Prompt
    /// Top alternatives per token (0–5); nil: no log-probabilities.
    public var logprobs: Int?
    public var echo = false

    public init(json: JSONValue) throws(APIError) {
        let r = try FieldReader(json)
        guard let p = r.value("prompt") else { throw .invalid("Missing required parameter: 'prompt'.", param: "prompt") }
        switch p {
        case .string(let s): prompt = .text(s)
        case .array(let items):
            if items.count == 1, let s = items[0].stringValue {
                prompt = .text(s)
            } else if !items.isEmpty, items.allSatisfy({ $0.intValue != nil }) {
                prompt = .tokens(items.compactMap(\.intValue))
            } else {
                throw .invalid("'prompt' must be a string, a list of one string, or a list of token ids (batches of prompts are not supported).",
                               param: "prompt")
            }
        default: throw r.mistyped("prompt", "a string or a list of token ids", p)
        }
        sampling = try SamplingFields(r)
        logprobs = try r.int("logprobs", in: 0...5)
        echo = try r.bool("echo") ?? false
        if let best = try r.int("best_of"), best != 1 { throw .invalid("'best_of' must be 1.", param: "best_of") }
        if let suffix = try r.string("suffix"), !suffix.isEmpty { throw .invalid("'suffix' is not supported.", param: "suffix") }
    }
}
