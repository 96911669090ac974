import Foundation
import OrigamiFormats
import OrigamiModels
import OrigamiNN
import OrigamiRuntime
import Testing

@Suite struct BatchSchedulerTests {
    let loaded: LoadedModel

    init() throws {
        loaded = try LoadedModel(directory: fixtures.appendingPathComponent("models/llama").path)
    }

    func options(_ n: Int, sampling: SamplingParameters = .greedy, stops: [String] = []) -> GenerationOptions {
        GenerationOptions(maxNewTokens: n, sampling: sampling, stopTokenIds: loaded.eosTokenIds, stopStrings: stops)
    }

    /// Collects a ticket's text pieces, generated token ids and summary.
    func collect(_ ticket: GenerationTicket) async -> (text: String, ids: [Int], summary: GenerationSummary?) {
        var text = "", ids: [Int] = [], summary: GenerationSummary?
        for await event in ticket.events {
            switch event {
            case .step(let s):
                text += s.text
                if let t = s.token { ids.append(t) }
            case .finished(let s): summary = s
            }
        }
        return (text, ids, summary)
    }

    @Test func concurrentRequestsGiveWhatEachGivesAlone() async throws {
        let prompts = ["The quick brown fox", "Once upon a time", "a", "Hello world, hello world, hello"].map { loaded.tokenizer.encode($0) }
        let requests = prompts.enumerated().map { i, p in
            GenerationRequest(promptIds: p, options: options(12 + i, sampling: i == 3 ? SamplingParameters(temperature: 0.9, seed: 7) : .greedy,
                                                              stops: i == 1 ? ["zz"] : []))
        }
        // Alone, through the Generator that `origami generate` uses.
        let solo = requests.map { r in
            Generator(model: loaded.model, tokenizer: loaded.tokenizer, context: ComputeContext(threads: 2), capacity: 64)
                .generate(promptIds: r.promptIds, options: r.options)
        }
        let scheduler = BatchScheduler(model: loaded.model, tokenizer: loaded.tokenizer, context: ComputeContext(threads: 2),
                                       configuration: .init(parallel: 3, maxQueue: 4, maxBatchTokens: 5))
        // Submitted before the thread starts, so they run together: three in the batch, one joining when a slot frees.
        let tickets = try requests.map { try scheduler.submit($0) }
        scheduler.start()
        for (ticket, expected) in zip(tickets, solo) {
            let got = await collect(ticket)
            #expect(got.ids == expected.generatedIds)
            #expect(got.text == expected.text)
            #expect(got.summary?.finishReason == expected.finishReason)
            #expect(got.summary?.completionTokens == expected.generatedIds.count)
            #expect(got.summary?.cancelled == false)
        }
        #expect(scheduler.snapshot().active == 0)
        await scheduler.shutdown()
    }

    @Test func aFullQueueRefusesAndShutdownRefuses() async throws {
        let scheduler = BatchScheduler(model: loaded.model, tokenizer: loaded.tokenizer, context: ComputeContext(threads: 1),
                                       configuration: .init(parallel: 1, maxQueue: 1))
        let ids = loaded.tokenizer.encode("hello")
        // Not started: the first takes the free slot, the second waits, the third is refused.
        _ = try scheduler.submit(GenerationRequest(promptIds: ids, options: options(2)))
        _ = try scheduler.submit(GenerationRequest(promptIds: ids, options: options(2)))
        #expect(throws: SchedulerError.queueFull(limit: 1)) { try scheduler.submit(GenerationRequest(promptIds: ids, options: options(2))) }
        #expect(throws: SchedulerError.emptyPrompt) { try scheduler.submit(GenerationRequest(promptIds: [], options: options(2))) }
        #expect(throws: SchedulerError.promptTooLong(tokens: 128, context: 128)) {
            try scheduler.submit(GenerationRequest(promptIds: Array(repeating: 5, count: 128), options: options(2)))
        }
        scheduler.start()
        await scheduler.shutdown()
        #expect(throws: SchedulerError.shuttingDown) { try scheduler.submit(GenerationRequest(promptIds: ids, options: options(2))) }
    }

    @Test func cancellingStopsTheGenerationAndFreesItsSlot() async throws {
        let gated = Gated(loaded.model)
        let scheduler = BatchScheduler(model: gated, tokenizer: loaded.tokenizer, context: ComputeContext(threads: 1),
                                       configuration: .init(parallel: 1, maxQueue: 1))
        scheduler.start()
        let ids = loaded.tokenizer.encode("hello")
        let long = GenerationRequest(promptIds: ids, options: GenerationOptions(maxNewTokens: 100, sampling: .greedy))
        let ticket = try scheduler.submit(long)
        gated.open(3)   // three forward passes: three tokens, then the scheduler waits in the fourth
        var seen = 0
        var summary: GenerationSummary?
        for await event in ticket.events {
            switch event {
            case .step:
                seen += 1
                if seen == 3 {
                    ticket.cancel()
                    gated.open(1000)
                }
            case .finished(let s): summary = s
            }
        }
        #expect(summary?.cancelled == true)
        #expect((summary?.completionTokens ?? 100) <= 4)
        // The slot is free again: a new request runs to its end.
        let after = await collect(try scheduler.submit(GenerationRequest(promptIds: ids, options: options(3))))
        #expect(after.summary?.cancelled == false)
        #expect(scheduler.snapshot().active == 0)
        await scheduler.shutdown()
    }

    @Test func logprobsAreTheLogSoftmaxOfTheLogits() async throws {
        let ids = loaded.tokenizer.encode("The quick brown fox")
        let cache = loaded.model.makeCache(capacity: 16)
        let logits = loaded.model.forward(ids, cache: cache, logits: .last, context: ComputeContext(threads: 1))
        let lp = TokenLogprob.of(Sampler.argmax(logits), in: logits, top: 3)
        // Independent: log(softmax) in Double.
        let m = logits.map(Double.init).max()!
        let logZ = m + Foundation.log(logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) })
        let sorted = logits.indices.sorted { logits[$0] > logits[$1] }
        #expect(lp.top.map(\.id) == Array(sorted.prefix(3)))
        #expect(abs(Double(lp.logprob) - (Double(logits[lp.id]) - logZ)) < 1e-5)
        #expect(lp.top[0].id == lp.id && lp.top[0].logprob == lp.logprob)
        #expect(lp.top[1].logprob <= lp.top[0].logprob)
    }
}

/// A model whose forward passes wait for permits, so a test decides how far a generation gets.
final class Gated: CausalLM {
    let base: any CausalLM
    let permits = DispatchSemaphore(value: 0)
    init(_ base: any CausalLM) { self.base = base }
    func open(_ n: Int) { for _ in 0..<n { permits.signal() } }
    var config: ModelConfig { base.config }
    var weightBytesPerToken: Int { base.weightBytesPerToken }
    func makeCache(capacity: Int) -> KVCache { base.makeCache(capacity: capacity) }
    func forward(_ tokens: [Int], cache: KVCache, logits: LogitsSelection, context: ComputeContext) -> [Float] {
        permits.wait()
        return base.forward(tokens, cache: cache, logits: logits, context: context)
    }
    func forward(batch: [SequenceChunk], context: ComputeContext) -> [Float] {
        permits.wait()
        return base.forward(batch: batch, context: context)
    }
}
