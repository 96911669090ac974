import Foundation
import Hummingbird
import NIOCore
import OrigamiFormats
import OrigamiRuntime

/// One validated generation request on its way through the scheduler, and how its answer is written: a JSON body,
/// or server-sent events (`data: {chunk}` … `data: [DONE]`).
struct Job: Sendable {
    enum Kind: Sendable { case chat, completion }

    let kind: Kind
    let server: OpenAIServer
    let request: GenerationRequest
    let stream: Bool
    let includeUsage: Bool
    let id: String
    let model: String
    let created = Int(Date().timeIntervalSince1970)

    init(kind: Kind, promptIds: [Int], sampling: SamplingFields, extraStops: [String], topLogprobs: Int?,
         server: OpenAIServer) throws(APIError)
    {
        let context = server.scheduler.contextLength
        guard !promptIds.isEmpty else {
            throw .invalid("The prompt is empty: it encodes to no tokens.", param: kind == .chat ? "messages" : "prompt")
        }
        let room = context - promptIds.count
        if room < 1 || (sampling.maxTokens.map { $0 > room } ?? false) {
            let asked = sampling.maxTokens ?? 1
            throw .invalid("This model's maximum context length is \(context) tokens. However, you requested \(promptIds.count + asked) "
                           + "tokens (\(promptIds.count) in the \(kind == .chat ? "messages" : "prompt"), \(asked) in the completion). "
                           + "Please reduce the length of the \(kind == .chat ? "messages" : "prompt") or completion.",
                           param: kind == .chat ? "messages" : "prompt", code: "context_length_exceeded")
        }
        // OpenAI's defaults: the legacy completions endpoint stops at 16 tokens; chat may fill the context.
        let maxTokens = sampling.maxTokens ?? (kind == .completion ? min(16, room) : room)
        let parameters = SamplingParameters(
            temperature: Float(sampling.temperature), topK: sampling.topK, topP: Float(sampling.topP), minP: Float(sampling.minP),
            repetitionPenalty: Float(sampling.repetitionPenalty), repetitionWindow: 0, seed: sampling.seed)
        let options = GenerationOptions(maxNewTokens: maxTokens, sampling: parameters,
                                        stopTokenIds: sampling.ignoreEOS ? [] : server.eosTokenIds,
                                        stopStrings: sampling.stop + extraStops)
        self.kind = kind
        self.server = server
        request = GenerationRequest(promptIds: promptIds, options: options, topLogprobs: topLogprobs)
        stream = sampling.stream
        includeUsage = sampling.includeUsage
        model = sampling.model
        id = (kind == .chat ? "chatcmpl-" : "cmpl-") + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    func submit() throws(APIError) -> GenerationTicket {
        do { return try server.scheduler.submit(request) } catch {
            switch error {
            case .queueFull: throw .busy(error.description)
            case .shuttingDown: throw .unavailable(error.description)
            case .emptyPrompt: throw .invalid(error.description)
            case .promptTooLong: throw .invalid(error.description, code: "context_length_exceeded")
            }
        }
    }

    func respond(context: ServerContext) async throws -> Response {
        let ticket = try submit()
        // A client that goes away stops its generation (and frees its KV cache) at the next step.
        context.channel.closeFuture.whenComplete { _ in ticket.cancel() }
        if stream {
            let job = self
            let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                do {
                    try await job.writeEvents(ticket, to: &writer)
                } catch {
                    ticket.cancel()
                    throw error
                }
            })
        }
        var steps: [ContinuationStep] = []
        for await event in ticket.events {
            switch event {
            case .step(let step): steps.append(step)
            case .finished(let summary):
                return OpenAIServer.json(body(steps: steps, summary: summary))
            }
        }
        ticket.cancel()
        throw APIError.internal("The generation ended without a result.")
    }

    // MARK: - Whole responses

    func body(steps: [ContinuationStep], summary: GenerationSummary) -> JSONValue {
        let logprobs = steps.compactMap(\.logprob)
        let choice: JSONValue
        switch kind {
        case .chat:
            choice = .object([
                ("index", .int(0)),
                ("message", .object([("role", .string("assistant")), ("content", .string(summary.text))])),
                ("logprobs", request.topLogprobs == nil ? .null : chatLogprobs(logprobs)),
                ("finish_reason", .string(summary.finishReason.rawValue)),
            ])
        case .completion:
            choice = .object([
                ("index", .int(0)), ("text", .string(summary.text)),
                ("logprobs", request.topLogprobs == nil ? .null : completionLogprobs(logprobs, offset: 0)),
                ("finish_reason", .string(summary.finishReason.rawValue)),
            ])
        }
        return .object(header(object: kind == .chat ? "chat.completion" : "text_completion")
            + [("choices", .array([choice])), ("usage", usage(summary))])
    }

    func header(object: String) -> [(key: String, value: JSONValue)] {
        [("id", .string(id)), ("object", .string(object)), ("created", .int(created)), ("model", .string(model))]
    }

    func usage(_ s: GenerationSummary) -> JSONValue {
        .object([("prompt_tokens", .int(s.promptTokens)), ("completion_tokens", .int(s.completionTokens)),
                 ("total_tokens", .int(s.promptTokens + s.completionTokens))])
    }

    /// Chat's `{"content": [{token, logprob, bytes, top_logprobs: [...]}]}`.
    func chatLogprobs(_ items: [TokenLogprob]) -> JSONValue {
        func entry(_ text: String, _ logprob: Float) -> [(key: String, value: JSONValue)] {
            [("token", .string(text)), ("logprob", .float(logprob)), ("bytes", .array(text.utf8.map { .int(Int($0)) }))]
        }
        return .object([("content", .array(items.map { item in
            .object(entry(item.text, item.logprob) + [("top_logprobs", .array(item.top.map { .object(entry($0.text, $0.logprob)) }))])
        }))])
    }

    /// The legacy endpoint's `{tokens, token_logprobs, top_logprobs, text_offset}`.
    func completionLogprobs(_ items: [TokenLogprob], offset: Int) -> JSONValue {
        var offsets: [JSONValue] = []
        var at = offset
        for item in items {
            offsets.append(.int(at))
            at += item.text.count
        }
        return .object([
            ("tokens", .array(items.map { .string($0.text) })),
            ("token_logprobs", .array(items.map { .float($0.logprob) })),
            ("top_logprobs", .array(items.map { item in
                // A dict keyed by text: two candidates with the same text keep the likelier one.
                var seen = Set<String>()
                return .object(item.top.filter { seen.insert($0.text).inserted }.map { ($0.text, .float($0.logprob)) })
            })),
            ("text_offset", .array(offsets)),
        ])
    }

    // MARK: - Streams

    func writeEvents(_ ticket: GenerationTicket, to writer: inout any ResponseBodyWriter) async throws {
        let chunkObject = kind == .chat ? "chat.completion.chunk" : "text_completion"
        func send(_ value: JSONValue) async throws {
            try await writer.write(ByteBuffer(string: "data: " + value.serialized + "\n\n"))
        }
        func chunk(_ choice: [(key: String, value: JSONValue)]) -> JSONValue {
            .object(header(object: chunkObject) + [("choices", .array([.object([("index", .int(0))] + choice)]))]
                + (includeUsage ? [("usage", .null)] : []))
        }
        if kind == .chat {
            try await send(chunk([("delta", .object([("role", .string("assistant")), ("content", .string(""))])),
                                  ("logprobs", .null), ("finish_reason", .null)]))
        }
        var textOffset = 0
        for await event in ticket.events {
            switch event {
            case .step(let step):
                let logprobs = step.logprob.map { [$0] } ?? []
                guard !step.text.isEmpty || !logprobs.isEmpty || step.finishReason != nil else { continue }
                let finish: JSONValue = step.finishReason.map { .string($0.rawValue) } ?? .null
                switch kind {
                case .chat:
                    let delta: JSONValue = step.text.isEmpty && step.finishReason != nil && logprobs.isEmpty
                        ? .object([]) : .object([("content", .string(step.text))])
                    try await send(chunk([("delta", delta),
                                          ("logprobs", request.topLogprobs == nil ? .null : chatLogprobs(logprobs)),
                                          ("finish_reason", finish)]))
                case .completion:
                    try await send(chunk([("text", .string(step.text)),
                                          ("logprobs", request.topLogprobs == nil ? .null : completionLogprobs(logprobs, offset: textOffset)),
                                          ("finish_reason", finish)]))
                    textOffset += logprobs.reduce(0) { $0 + $1.text.count }
                }
            case .finished(let summary):
                if summary.cancelled {
                    // Ended by the server (shutdown): close the choice cleanly.
                    let closing: [(key: String, value: JSONValue)] = kind == .chat
                        ? [("delta", .object([])), ("logprobs", .null), ("finish_reason", .string("stop"))]
                        : [("text", .string("")), ("logprobs", .null), ("finish_reason", .string("stop"))]
                    try await send(chunk(closing))
                }
                if includeUsage {
                    try await send(.object(header(object: chunkObject) + [("choices", .array([])), ("usage", usage(summary))]))
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
                return
            }
        }
        try await writer.finish(nil)
    }
}
