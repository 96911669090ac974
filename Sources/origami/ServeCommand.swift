import ArgumentParser
import Foundation
import Logging
import OrigamiRuntime
import OrigamiServer

/// `origami serve`: the OpenAI-compatible HTTP server.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the model over an OpenAI-compatible HTTP API (completions, chat completions, streaming), batching concurrent requests.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var placement: PlacementOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Option(help: "Require 'Authorization: Bearer KEY' on /v1 routes.")
    var apiKey: String?

    @Option(help: "Sequences generated at once (the batch); more requests wait in the queue.")
    var parallel = 4

    @Option(help: "Requests that may wait for a free slot; more are refused with 429.")
    var maxQueue = 64

    @Option(help: "Most tokens one batched step runs (decoding sequences first, then chunks of new prompts).")
    var maxBatchTokens = 512

    @Option(help: "Largest request body accepted, in bytes (413 beyond).")
    var maxBodyBytes = 8 << 20

    @Option(help: "Context length per request (default: the model's max_position_embeddings).")
    var ctxSize: Int?

    @Option(help: "The model id clients use (default: the model directory's name).")
    var modelName: String?

    @Option(help: ArgumentHelp("A Jinja chat template file to use instead of the model's chat_template.", valueName: "file"))
    var chatTemplate: String?

    @Option(help: "Seconds a graceful shutdown (SIGINT/SIGTERM) lets running generations go on before ending them.")
    var shutdownTimeout = 30.0

    func validate() throws {
        guard parallel >= 1 else { throw ValidationError("--parallel must be at least 1") }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must not be negative") }
        guard maxBatchTokens >= 1 else { throw ValidationError("--max-batch-tokens must be at least 1") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        if let ctxSize, ctxSize < 2 { throw ValidationError("--ctx-size must be at least 2") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
            return handler
        }
        let logger = Logger(label: "origami.serve")
        let loaded = try modelOptions.load()
        let contextLength = min(ctxSize ?? loaded.config.maxPositionEmbeddings, loaded.config.maxPositionEmbeddings)
        let (model, _) = try placement.apply(to: loaded, kvCapacity: parallel * contextLength, tokens: maxBatchTokens,
                                             logitsRows: parallel + maxBatchTokens)
        let format = try ChatFormat(tokenizer: loaded.tokenizer,
                                    templateSource: try chatTemplate.map { try String(contentsOfFile: $0, encoding: .utf8) })
        let scheduler = BatchScheduler(
            model: model, tokenizer: loaded.tokenizer, context: modelOptions.makeContext(),
            configuration: .init(parallel: parallel, maxQueue: maxQueue, maxBatchTokens: maxBatchTokens), contextLength: contextLength)
        let id = modelName ?? URL(fileURLWithPath: modelOptions.modelDirectory).standardizedFileURL.lastPathComponent
        let server = OpenAIServer(
            scheduler: scheduler, chatFormat: format, eosTokenIds: loaded.eosTokenIds,
            configuration: ServerConfiguration(host: host, port: port, apiKey: apiKey, maxBodyBytes: maxBodyBytes, modelId: id,
                                               shutdownTimeout: .milliseconds(Int64(shutdownTimeout * 1000))))
        let chatDescription = format.template == nil ? "plain User/Assistant (no chat_template)" : "the model's chat_template"
        logger.info("model '\(id)': \(loaded.config.modelType), context \(contextLength), parallel \(parallel), queue \(maxQueue), chat format: \(chatDescription)")
        try await server.run(logger: logger) { port in
            note("origami: listening on http://\(host):\(port)")
        }
        note("origami: stopped")
    }
}
