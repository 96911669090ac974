import Foundation
import Hummingbird
import HummingbirdTesting
import OrigamiNN
import OrigamiRuntime
import OrigamiServer
import OrigamiTokenizers
import Testing

/// The OpenAI-compatible API, in process (Hummingbird's router test framework) and over a real socket.
@Suite struct ServerTests {
    let llama = fixtures.appendingPathComponent("models/llama").path
    let defaultModel = repository.appendingPathComponent("Models/default").path

    /// What `origami generate` prints for this prompt: the Generator, greedy.
    func generateGreedy(_ loaded: LoadedModel, ids: [Int], maxTokens: Int, stops: [String] = []) -> GenerationResult {
        Generator(model: loaded.model, tokenizer: loaded.tokenizer, context: ComputeContext(threads: 2), capacity: ids.count + maxTokens)
            .generate(promptIds: ids, options: GenerationOptions(maxNewTokens: maxTokens, sampling: .greedy,
                                                                 stopTokenIds: loaded.eosTokenIds, stopStrings: stops))
    }

    @Test func greedyCompletionsAndChatEqualGenerate() async throws {
        let (server, loaded) = try makeServer(defaultModel)
        let prompt = "Once upon a time"
        let expected = generateGreedy(loaded, ids: loaded.tokenizer.encode(prompt), maxTokens: 24)
        let messages = [ChatMessage(role: "system", content: "You tell stories."), ChatMessage(role: "user", content: "Tell me a story about a cat.")]
        let chatPrompt = try ChatFormat(tokenizer: loaded.tokenizer).prompt(for: messages)
        let expectedChat = generateGreedy(loaded, ids: chatPrompt.ids, maxTokens: 20, stops: chatPrompt.stops)
        try await server.makeApplication(logger: quietLogger).test(.router) { client in
            let r = try await client.post("/v1/completions", ["model": "test-model", "prompt": prompt, "max_tokens": 24, "temperature": 0])
            #expect(r.status == 200)
            let choice = try #require((r.json?["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == expected.text)
            #expect(choice["finish_reason"] as? String == expected.finishReason.rawValue)
            let usage = try #require(r.json?["usage"] as? [String: Int])
            #expect(usage["prompt_tokens"] == expected.promptIds.count)
            #expect(usage["completion_tokens"] == expected.generatedIds.count)
            #expect(usage["total_tokens"] == expected.promptIds.count + expected.generatedIds.count)
            #expect(r.json?["object"] as? String == "text_completion")

            let c = try await client.post("/v1/chat/completions", [
                "model": "test-model", "max_completion_tokens": 20, "temperature": 0,
                "messages": messages.map { ["role": $0.role, "content": $0.content] },
            ])
            #expect(c.status == 200)
            let message = try #require(((c.json?["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            #expect(message["content"] as? String == expectedChat.text)
            #expect((c.json?["usage"] as? [String: Int])?["prompt_tokens"] == chatPrompt.ids.count)
            #expect(c.json?["object"] as? String == "chat.completion")
        }
    }

    @Test func streamsJoinToTheWholeAnswer() async throws {
        let (server, _) = try makeServer(defaultModel)
        try await server.makeApplication(logger: quietLogger).test(.router) { client in
            let body: [String: Any] = ["model": "test-model", "messages": [["role": "user", "content": "Hi"]], "max_tokens": 16, "temperature": 0]
            let whole = try await client.post("/v1/chat/completions", body)
            let content = ((whole.json?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
            var streaming = body
            streaming["stream"] = true
            streaming["stream_options"] = ["include_usage": true]
            let s = try await client.post("/v1/chat/completions", streaming)
            #expect(s.status == 200)
            let (chunks, done) = events(s.text)
            #expect(done)
            let deltas = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
            #expect(deltas.first?["role"] as? String == "assistant")
            #expect(deltas.compactMap { $0["content"] as? String }.joined() == content)
            let finishes = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
            #expect(finishes.count == 1)
            let last = try #require(chunks.last)
            #expect((last["choices"] as? [Any])?.isEmpty == true)
            #expect(NSDictionary(dictionary: last["usage"] as? [String: Int] ?? [:]) == NSDictionary(dictionary: whole.json?["usage"] as? [String: Int] ?? ["": 0]))

            let text = try await client.post("/v1/completions", ["model": "test-model", "prompt": "Once upon a time", "max_tokens": 16,
                                                                 "temperature": 0, "stream": true])
            let pieces = events(text.text).chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }
            let plain = try await client.post("/v1/completions", ["model": "test-model", "prompt": "Once upon a time", "max_tokens": 16, "temperature": 0])
            #expect(pieces.joined() == (plain.json?["choices"] as? [[String: Any]])?.first?["text"] as? String)
        }
    }

    @Test func logprobsAreReportedInBothShapes() async throws {
        let (server, _) = try makeServer(defaultModel)
        try await server.makeApplication(logger: quietLogger).test(.router) { client in
            let c = try await client.post("/v1/chat/completions", ["model": "test-model", "messages": [["role": "user", "content": "Hi"]],
                                                                   "max_tokens": 8, "temperature": 0, "logprobs": true, "top_logprobs": 3])
            let choice = try #require((c.json?["choices"] as? [[String: Any]])?.first)
            let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            #expect(!content.isEmpty)
            for item in content {
                let top = try #require(item["top_logprobs"] as? [[String: Any]])
                #expect(top.count == 3)
                #expect((item["logprob"] as? Double ?? 1) <= 0)
                #expect(top[0]["token"] as? String == item["token"] as? String)   // greedy picks the likeliest
                #expect(item["bytes"] as? [Int] == Array((item["token"] as? String ?? "").utf8).map(Int.init))
            }
            #expect(content.compactMap { $0["token"] as? String }.joined() == (choice["message"] as? [String: Any])?["content"] as? String)

            let t = try await client.post("/v1/completions", ["model": "test-model", "prompt": "Once", "max_tokens": 6, "temperature": 0, "logprobs": 2])
            let tc = try #require((t.json?["choices"] as? [[String: Any]])?.first)
            let lp = try #require(tc["logprobs"] as? [String: Any])
            #expect((lp["tokens"] as? [String])?.joined() == tc["text"] as? String)
            #expect((lp["token_logprobs"] as? [Double])?.allSatisfy { $0 <= 0 } == true)
            #expect((lp["top_logprobs"] as? [[String: Double]])?.allSatisfy { !$0.isEmpty && $0.count <= 2 } == true)
        }
    }

    @Test func errorsAreOpenAIErrorsWithTheRightStatus() async throws {
        let (server, _) = try makeServer(llama, maxBodyBytes: 4096)
        try await server.makeApplication(logger: quietLogger).test(.router) { client in
            let chat = "/v1/chat/completions"
            let ok: [String: Any] = ["model": "test-model", "messages": [["role": "user", "content": "hi"]], "max_tokens": 2]
            func check(_ r: (status: Int, json: [String: Any]?, text: String), _ status: Int, param: String? = nil, code: String? = nil,
                       _ comment: Comment) {
                #expect(r.status == status, comment)
                let e = errorObject(r.json)
                #expect(e != nil && !(e?["message"] as? String ?? "").isEmpty && e?["type"] is String, "\(comment): \(r.text)")
                if let param { #expect(e?["param"] as? String == param, comment) }
                if let code { #expect(e?["code"] as? String == code, comment) }
            }
            check(try await client.post(chat, raw: "{\"model\": "), 400, "malformed JSON")
            check(try await client.post(chat, raw: "[1, 2]"), 400, "not an object")
            check(try await client.post(chat, ["model": "test-model"]), 400, param: "messages", "missing messages")
            check(try await client.post(chat, ["messages": [["role": "user", "content": "hi"]]]), 400, param: "model", "missing model")
            check(try await client.post(chat, ok.merging(["temperature": "hot"]) { $1 }), 400, param: "temperature", "mistyped")
            check(try await client.post(chat, ok.merging(["temperature": 5]) { $1 }), 400, param: "temperature", "out of range")
            check(try await client.post(chat, ok.merging(["max_tokens": 0]) { $1 }), 400, param: "max_tokens", "zero tokens")
            check(try await client.post(chat, ok.merging(["top_logprobs": 30, "logprobs": true]) { $1 }), 400, param: "top_logprobs", "too many")
            check(try await client.post(chat, ok.merging(["messages": [["role": "wizard", "content": "x"]]]) { $1 }), 400,
                  param: "messages[0].role", "bad role")
            check(try await client.post(chat, ok.merging(["n": 3]) { $1 }), 400, param: "n", "n > 1")
            check(try await client.post(chat, ok.merging(["model": "gpt-4"]) { $1 }), 404, param: "model", code: "model_not_found", "unknown model")
            check(try await client.post(chat, ok.merging(["max_tokens": 1000]) { $1 }), 400, code: "context_length_exceeded", "past the context")
            check(try await client.post("/v1/completions", ["model": "test-model", "prompt": String(repeating: "ab ", count: 300)]), 400,
                  code: "context_length_exceeded", "prompt past the context")
            check(try await client.post(chat, ok, key: nil), 401, code: "invalid_api_key", "no key")
            check(try await client.post(chat, ok, key: "wrong"), 401, code: "invalid_api_key", "wrong key")
            check(try await client.get("/v1/models", key: "wrong"), 401, code: "invalid_api_key", "wrong key on models")
            check(try await client.post(chat, ok.merging(["messages": [["role": "user", "content": String(repeating: "x", count: 5000)]]]) { $1 }),
                  413, "oversized body")
            // Health and metrics need no key; a good request still works after all of that.
            #expect(try await client.get("/health", key: nil).status == 200)
            #expect(try await client.post(chat, ok).status == 200)
        }
    }

    @Test func modelsHealthAndMetrics() async throws {
        let (server, _) = try makeServer(llama)
        try await server.makeApplication(logger: quietLogger).test(.router) { client in
            let m = try await client.get("/v1/models")
            let data = try #require(m.json?["data"] as? [[String: Any]])
            #expect(data.count == 1 && data[0]["id"] as? String == "test-model" && data[0]["object"] as? String == "model")
            #expect(try await client.get("/v1/models/test-model").status == 200)
            #expect(try await client.get("/v1/models/other").status == 404)
            _ = try await client.post("/v1/completions", ["model": "test-model", "prompt": "hello", "max_tokens": 3])
            let health = try await client.get("/health", key: nil)
            #expect(health.json?["status"] as? String == "ok" && health.json?["active"] as? Int == 0)
            let metrics = try await client.get("/metrics", key: nil).text
            for name in ["origami_requests_total", "origami_prompt_tokens_total", "origami_completion_tokens_total",
                         "origami_time_to_first_token_seconds_bucket", "origami_decode_tokens_per_second", "origami_queue_depth",
                         "origami_active_sequences", "origami_generated_tokens_per_second"] {
                #expect(metrics.contains(name), "missing \(name)")
            }
            #expect(metrics.contains("origami_completion_tokens_total 3"))
        }
    }

    /// The prompt a chat request runs is the template's rendering as transformers renders it (goldens written by
    /// Scripts/make_chat_template_goldens.py), for the seed families whose special tokens the fixture tokenizer has.
    @Test(arguments: ["llama-2-chat", "mistral-7b-instruct-v0.1", "mistral-7b-instruct-v0.3", "zephyr", "qwen2-instruct", "falcon-11b"])
    func chatTemplatesRenderAsTransformers(_ template: String) async throws {
        let source = try String(contentsOf: fixtures.appendingPathComponent("chat_templates/\(template).jinja"), encoding: .utf8)
        let goldens = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("chat_templates/goldens.json"))) as! [[String: Any]]
        // A copy of the fixture model with this chat template.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("origami-template-\(template)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for file in ["config.json", "model.safetensors", "tokenizer.json", "generation_config.json"] {
            try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(file), withDestinationURL: URL(fileURLWithPath: llama).appendingPathComponent(file))
        }
        try JSONSerialization.data(withJSONObject: ["bos_token": "<s>", "eos_token": "</s>", "chat_template": source])
            .write(to: dir.appendingPathComponent("tokenizer_config.json"))
        let (server, _) = try makeServer(dir.path)
        let usesBos = source.contains("bos_token"), usesEos = source.contains("eos_token")
        // Tool calls are not part of this server's messages: conversations with them are left out.
        let cases = goldens.filter {
            ($0["messages"] as? [[String: Any]])?.allSatisfy { Set($0.keys).isSubset(of: ["role", "content"]) } == true &&
            $0["template"] as? String == template && $0["add_generation_prompt"] as? Bool == true && ($0["extra"] as? [String: Any])?.isEmpty != false
                && (!usesBos || $0["bos_token"] as? String == "<s>") && (!usesEos || $0["eos_token"] as? String == "</s>")
        }
        // (conversation, messages as JSON, transformers' rendering or nil when it raised)
        let sendable: [(String, String, String?)] = try cases.map {
            ($0["conversation"] as! String, String(decoding: try JSONSerialization.data(withJSONObject: ["messages": $0["messages"]!]), as: UTF8.self),
             $0["expected"] as? String)
        }
        try #require(!sendable.isEmpty)
        try await server.makeApplication(logger: quietLogger).test(.router) { client in
            for (conversation, body, expected) in sendable {
                let r = try await client.post("/apply-template", raw: body)
                if let expected {
                    #expect(r.status == 200, "\(template)/\(conversation): \(r.text)")
                    #expect(r.json?["prompt"] as? String == expected, "\(template)/\(conversation)")
                } else {
                    // transformers raised (e.g. roles that do not alternate): a 400 naming the messages, no prompt.
                    #expect(r.status == 400, "\(template)/\(conversation): \(r.text)")
                    #expect(errorObject(r.json)?["param"] as? String == "messages")
                }
            }
        }
    }

    /// Over a real socket: concurrent streams share decode steps and each equals its solo greedy answer.
    @Test func liveConcurrentStreamsAreBatched() async throws {
        let (server, loaded) = try makeServer(defaultModel, parallel: 4, maxQueue: 0, delay: 0.005)
        let prompts = ["Once upon a time", "The cat", "Lily and Ben", "One day"]
        let expected = prompts.map { generateGreedy(loaded, ids: loaded.tokenizer.encode($0), maxTokens: 20).text }
        try await server.makeApplication(logger: quietLogger).test(.live) { client in
            let port = try #require(client.port)
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (i, p) in prompts.enumerated() {
                    let body = try JSONSerialization.data(withJSONObject: ["model": "test-model", "prompt": p, "max_tokens": 20,
                                                                           "temperature": 0, "stream": true] as [String: Any])
                    group.addTask {
                        let r = try await request(port: port, "/v1/completions", raw: body)
                        return (i, events(r.text).chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined())
                    }
                }
                for try await (i, text) in group { #expect(text == expected[i], "stream \(i)") }
            }
            // Four sequences of at most 20 tokens each: batched, far fewer steps than tokens.
            let steps = server.scheduler.snapshot().steps
            #expect(steps < 50, "\(steps) decode steps for 4 × 20 tokens: the streams were not batched")
        }
    }

    /// Four long generations fill the four slots; with no queue, a fifth is refused with 429. A client that
    /// disconnects mid-stream frees its slot.
    @Test func liveQueueLimitAndDisconnect() async throws {
        let (server, _) = try makeServer(defaultModel, parallel: 4, maxQueue: 0, delay: 0.01)
        try await server.makeApplication(logger: quietLogger).test(.live) { client in
            let port = try #require(client.port)
            let long: [String: Any] = ["model": "test-model", "prompt": "a", "max_tokens": 60, "ignore_eos": true, "temperature": 0]
            let longBody = try JSONSerialization.data(withJSONObject: long)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 { group.addTask { try await request(port: port, "/v1/completions", raw: longBody).status } }
                #expect(await eventually { server.scheduler.snapshot().active == 4 })
                let r = try await request(port: port, "/v1/completions", ["model": "test-model", "prompt": "b", "max_tokens": 2])
                #expect(r.status == 429)
                #expect(errorObject(r.json)?["code"] as? String == "rate_limit_exceeded")
                for try await status in group { #expect(status == 200) }
            }

            // Disconnect: start a stream on its own connection, then close it.
            let watcher = TestClient(host: "127.0.0.1", port: port)
            watcher.connect()
            var streaming = long
            streaming["stream"] = true
            streaming["max_tokens"] = 400
            try await watcher.executeAndDontWaitForResponse(.init("/v1/completions", method: .post,
                headers: [.authorization: "Bearer \(apiKey)", .contentType: "application/json"],
                body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: streaming))))
            #expect(await eventually { server.scheduler.snapshot().active == 1 })
            try await watcher.shutdown()
            #expect(await eventually(5) { server.scheduler.snapshot().active == 0 }, "the disconnected stream still runs")
            let metrics = try await request(port: port, "/metrics", key: nil).text
            #expect(metrics.contains("origami_cancelled_requests_total 1"))
        }
    }
}
