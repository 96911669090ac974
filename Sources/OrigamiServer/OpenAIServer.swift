import Foundation
public import Hummingbird
public import Logging
import NIOCore
import OrigamiFormats
public import OrigamiRuntime
import OrigamiTokenizers
import ServiceLifecycle

/// What `origami serve` was asked for, beyond the model.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Required as `Authorization: Bearer KEY` on every /v1 route when set.
    public var apiKey: String?
    /// Larger request bodies are refused with 413.
    public var maxBodyBytes: Int
    /// The id clients name the model by (`GET /v1/models`).
    public var modelId: String
    /// How long a graceful shutdown lets running generations go on before it ends them.
    public var shutdownTimeout: Duration

    public init(host: String = "127.0.0.1", port: Int = 8080, apiKey: String? = nil, maxBodyBytes: Int = 8 << 20,
                modelId: String, shutdownTimeout: Duration = .seconds(30))
    {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.maxBodyBytes = maxBodyBytes
        self.modelId = modelId
        self.shutdownTimeout = shutdownTimeout
    }
}

/// The OpenAI-compatible HTTP API over one model: `GET /v1/models`, `POST /v1/completions`,
/// `POST /v1/chat/completions` (streaming as server-sent events), `GET /health`, `GET /metrics`. Requests share the
/// model through a `BatchScheduler`, which batches their decode steps.
public final class OpenAIServer: Sendable {
    public let configuration: ServerConfiguration
    public let scheduler: BatchScheduler
    public let chatFormat: ChatFormat
    public let eosTokenIds: Set<Int>
    public let metrics: ServerMetrics
    let created = Int(Date().timeIntervalSince1970)

    public init(scheduler: BatchScheduler, chatFormat: ChatFormat, eosTokenIds: Set<Int>, configuration: ServerConfiguration,
                metrics: ServerMetrics = ServerMetrics())
    {
        self.scheduler = scheduler
        self.chatFormat = chatFormat
        self.eosTokenIds = eosTokenIds
        self.configuration = configuration
        self.metrics = metrics
        scheduler.observe { [metrics] summary in metrics.generation(summary) }
    }

    var tokenizer: Tokenizer { scheduler.tokenizer }

    /// The routes, with API-key checks and request metrics.
    public func makeRouter() -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.get("health") { [self] _, _ in
            let s = scheduler.snapshot()
            return Self.json(.object([("status", .string("ok")), ("model", .string(configuration.modelId)),
                                      ("active", .int(s.active)), ("queued", .int(s.queued))]))
        }
        router.get("metrics") { [self] _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition(scheduler.snapshot()))))
        }
        let v1 = router.group("v1").add(middleware: APIKeyMiddleware(key: configuration.apiKey))
        v1.get("models") { [self] _, _ in
            Self.json(.object([("object", .string("list")), ("data", .array([modelObject]))]))
        }
        v1.get("models/:id") { [self] _, context in
            let id = try context.parameters.require("id")
            guard id == configuration.modelId else { throw APIError.modelNotFound(id, served: configuration.modelId) }
            return Self.json(modelObject)
        }
        // llama.cpp's endpoint: the prompt a chat request would run, rendered with the chat template.
        router.group().add(middleware: APIKeyMiddleware(key: configuration.apiKey)).post("apply-template") { [self] request, _ in
            let json = try await readJSON(request)
            let messages = try ChatCompletionRequest.messages(try FieldReader(json))
            return Self.json(.object([("prompt", .string(try renderChat(messages).text))]))
        }
        v1.post("chat/completions") { [self] request, context in try await chatCompletions(request, context: context) }
        v1.post("completions") { [self] request, context in try await completions(request, context: context) }
        return router
    }

    var modelObject: JSONValue {
        .object([("id", .string(configuration.modelId)), ("object", .string("model")), ("created", .int(created)),
                 ("owned_by", .string("origami")), ("max_model_len", .int(scheduler.contextLength))])
    }

    /// The HTTP application, with the scheduler as one of its services.
    public func makeApplication(logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: makeRouter(),
                    configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "origami"),
                    services: [SchedulerService(scheduler: scheduler)],
                    onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) }, logger: logger)
    }

    /// Runs until SIGINT or SIGTERM, then shuts down gracefully: no new connections or requests, running generations
    /// finish (for at most `shutdownTimeout`), the scheduler stops.
    public func run(logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = makeApplication(logger: logger, onListening: onListening)
        let group = ServiceGroup(configuration: .init(
            services: [app, ShutdownDeadline(scheduler: scheduler, timeout: configuration.shutdownTimeout)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized + "\n")))
    }

    // MARK: - Requests

    /// The body as JSON: 413 past the size limit, 400 when it does not parse.
    func readJSON(_ request: Request) async throws(APIError) -> JSONValue {
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: configuration.maxBodyBytes) } catch let e as HTTPError where e.status == .contentTooLarge {
            throw .tooLarge(limit: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw .tooLarge(limit: configuration.maxBodyBytes)
        } catch {
            throw .invalid("Could not read the request body: \(error)")
        }
        do { return try JSONParser.parse(body.readableBytesView) } catch {
            throw .invalid("We could not parse the JSON body of your request: \(error.message) at byte \(error.offset).")
        }
    }

    func checkModel(_ model: String) throws(APIError) {
        guard model == configuration.modelId else { throw .modelNotFound(model, served: configuration.modelId) }
    }

    func chatCompletions(_ request: Request, context: ServerContext) async throws -> Response {
        let body = try ChatCompletionRequest(json: try await readJSON(request))
        try checkModel(body.sampling.model)
        let prompt = try renderChat(body.messages)
        let job = try Job(kind: .chat, promptIds: prompt.ids, sampling: body.sampling, extraStops: prompt.stops,
                          topLogprobs: body.logprobs ? body.topLogprobs : nil, server: self)
        return try await job.respond(context: context)
    }

    /// The chat prompt, or the template's refusal as a 400 (a template this engine cannot render is a 500).
    func renderChat(_ messages: [ChatMessage]) throws(APIError) -> ChatFormat.Prompt {
        do { return try chatFormat.prompt(for: messages) } catch {
            switch error {
            case .raised(let message, _): throw .invalid("The chat template rejected the messages: \(message)", param: "messages")
            case .runtime, .invalidContext: throw .invalid("The chat template failed on these messages: \(error)", param: "messages")
            default: throw .internal("The model's chat template cannot be rendered: \(error)")
            }
        }
    }

    func completions(_ request: Request, context: ServerContext) async throws -> Response {
        let body = try CompletionRequest(json: try await readJSON(request))
        try checkModel(body.sampling.model)
        let ids: [Int]
        switch body.prompt {
        case .text(let text): ids = tokenizer.encode(text, addSpecialTokens: true)
        case .tokens(let tokens):
            let vocab = scheduler.model.config.vocabSize
            if let bad = tokens.first(where: { $0 < 0 || $0 >= vocab }) {
                throw APIError.invalid("'prompt' holds token id \(bad), outside the vocabulary (0..<\(vocab)).", param: "prompt")
            }
            ids = tokens
        }
        if body.echo { throw APIError.invalid("'echo' is not supported.", param: "echo") }
        let job = try Job(kind: .completion, promptIds: ids, sampling: body.sampling, extraStops: [],
                          topLogprobs: body.logprobs, server: self)
        return try await job.respond(context: context)
    }
}

/// Checks `Authorization: Bearer KEY` when the server has a key.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let key: String?

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        if let key {
            guard let header = request.headers[.authorization] else {
                throw APIError.unauthorized("You didn't provide an API key: pass it as 'Authorization: Bearer KEY'.")
            }
            guard header == "Bearer \(key)" else { throw APIError.unauthorized("Incorrect API key provided.") }
        }
        return try await next(request, context)
    }
}

/// Counts every request by route and status, errors included.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        let endpoint = request.uri.path
        do {
            let response = try await next(request, context)
            metrics.request(endpoint: endpoint, status: Int(response.status.code))
            return response
        } catch let error as any HTTPResponseError {
            metrics.request(endpoint: endpoint, status: Int(error.status.code))
            throw error
        } catch {
            metrics.request(endpoint: endpoint, status: 500)
            throw error
        }
    }
}
