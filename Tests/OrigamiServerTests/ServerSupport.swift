import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OrigamiFormats
import OrigamiModels
import OrigamiNN
import OrigamiRuntime
import OrigamiServer
import OrigamiTokenizers

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")
let repository = fixtures.deletingLastPathComponent().deletingLastPathComponent()

let apiKey = "sk-test"

/// A model that takes at least `delay` per forward pass, so that tests over a socket can see requests overlap.
final class Throttled: CausalLM {
    let base: any CausalLM
    let delay: Double
    init(_ base: any CausalLM, delay: Double) {
        self.base = base
        self.delay = delay
    }
    var config: ModelConfig { base.config }
    var weightBytesPerToken: Int { base.weightBytesPerToken }
    func makeCache(capacity: Int) -> KVCache { base.makeCache(capacity: capacity) }
    func forward(_ tokens: [Int], cache: KVCache, logits: LogitsSelection, context: ComputeContext) -> [Float] {
        Thread.sleep(forTimeInterval: delay)
        return base.forward(tokens, cache: cache, logits: logits, context: context)
    }
    func forward(batch: [SequenceChunk], context: ComputeContext) -> [Float] {
        Thread.sleep(forTimeInterval: delay)
        return base.forward(batch: batch, context: context)
    }
}

/// A server over a model directory, as `origami serve` builds it.
func makeServer(_ directory: String, parallel: Int = 4, maxQueue: Int = 8, maxBodyBytes: Int = 1 << 16,
                modelId: String = "test-model", delay: Double? = nil) throws -> (OpenAIServer, LoadedModel)
{
    let loaded = try LoadedModel(directory: directory)
    let scheduler = BatchScheduler(model: delay.map { Throttled(loaded.model, delay: $0) } ?? loaded.model, tokenizer: loaded.tokenizer, context: ComputeContext(threads: 2),
                                   configuration: .init(parallel: parallel, maxQueue: maxQueue))
    let server = OpenAIServer(scheduler: scheduler, chatFormat: try ChatFormat(tokenizer: loaded.tokenizer), eosTokenIds: loaded.eosTokenIds,
                              configuration: ServerConfiguration(port: 0, apiKey: apiKey, maxBodyBytes: maxBodyBytes, modelId: modelId))
    return (server, loaded)
}

var quietLogger: Logger {
    var l = Logger(label: "test")
    l.logLevel = .critical
    return l
}

extension TestClientProtocol {
    /// POSTs a JSON body with the API key; returns the status and the parsed JSON (nil if the body is not JSON).
    func post(_ uri: String, _ body: [String: Any], key: String? = apiKey) async throws -> (status: Int, json: [String: Any]?, text: String) {
        try await post(uri, raw: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self), key: key)
    }

    func post(_ uri: String, raw: String, key: String? = apiKey) async throws -> (status: Int, json: [String: Any]?, text: String) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.authorization] = "Bearer \(key)" }
        let response = try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: raw))
        let text = String(buffer: response.body)
        return (Int(response.status.code), try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    func get(_ uri: String, key: String? = apiKey) async throws -> (status: Int, json: [String: Any]?, text: String) {
        var headers: HTTPFields = [:]
        if let key { headers[.authorization] = "Bearer \(key)" }
        let response = try await execute(uri: uri, method: .get, headers: headers)
        let text = String(buffer: response.body)
        return (Int(response.status.code), try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }
}

/// The JSON objects of a server-sent event stream, and whether it ended with `data: [DONE]`.
func events(_ text: String) -> (chunks: [[String: Any]], done: Bool) {
    var chunks: [[String: Any]] = []
    var done = false
    for block in text.components(separatedBy: "\n\n") where !block.isEmpty {
        guard block.hasPrefix("data: ") else { continue }
        let payload = String(block.dropFirst(6))
        if payload == "[DONE]" { done = true; continue }
        if let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] { chunks.append(object) }
    }
    return (chunks, done)
}

func errorObject(_ json: [String: Any]?) -> [String: Any]? { json?["error"] as? [String: Any] }

/// One request on its own connection (the live test client keeps one connection, which serializes requests).
func request(port: Int, _ uri: String, _ body: [String: Any]? = nil, key: String? = apiKey) async throws -> (status: Int, json: [String: Any]?, text: String) {
    try await request(port: port, uri, raw: try body.map { try JSONSerialization.data(withJSONObject: $0) }, key: key)
}

func request(port: Int, _ uri: String, raw body: Data?, key: String? = apiKey) async throws -> (status: Int, json: [String: Any]?, text: String) {
    let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(60)))
    client.connect()
    defer { Task { try? await client.shutdown() } }
    var headers: HTTPFields = [.contentType: "application/json"]
    if let key { headers[.authorization] = "Bearer \(key)" }
    let payload = body.map { ByteBuffer(bytes: $0) }
    let response = try await client.execute(.init(uri, method: body == nil ? .get : .post, headers: headers, body: payload))
    let text = response.body.map { String(buffer: $0) } ?? ""
    return (Int(response.head.status.code), try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
}

/// Polls `condition` every 10 ms for up to `seconds`.
func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return false
}
