public import OrigamiModels
public import OrigamiNN
public import OrigamiTokenizers
import Foundation

/// What a client asks the scheduler to generate.
public struct GenerationRequest: Sendable {
    public var promptIds: [Int]
    public var options: GenerationOptions
    /// Alternatives to report with each token's log-probability; nil: none.
    public var topLogprobs: Int?

    public init(promptIds: [Int], options: GenerationOptions, topLogprobs: Int? = nil) {
        self.promptIds = promptIds
        self.options = options
        self.topLogprobs = topLogprobs
    }
}

/// How a request ended, with its timings.
public struct GenerationSummary: Sendable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var finishReason: FinishReason
    /// The whole completion's text.
    public var text: String
    /// True when the client cancelled (disconnected) or the server shut down before the end.
    public var cancelled: Bool
    public var queuedSeconds: Double
    /// From submission to the first generated token (nil when none was generated).
    public var timeToFirstToken: Double?
    /// From the first generated token to the last.
    public var decodeSeconds: Double
    /// From submission to the end.
    public var totalSeconds: Double
    public var decodeTokensPerSecond: Double? {
        completionTokens > 1 && decodeSeconds > 0 ? Double(completionTokens - 1) / decodeSeconds : nil
    }
}

public enum GenerationEvent: Sendable {
    /// One step of the continuation: a token (or the end-of-sequence), and the text that became final.
    case step(ContinuationStep)
    /// The last event of every request.
    case finished(GenerationSummary)
}

/// Why the scheduler turned a request away.
public enum SchedulerError: Error, Equatable, CustomStringConvertible {
    /// `maxQueue` requests are already waiting.
    case queueFull(limit: Int)
    case shuttingDown
    case emptyPrompt
    /// The prompt leaves no room in the context for a single new token.
    case promptTooLong(tokens: Int, context: Int)

    public var description: String {
        switch self {
        case .queueFull(let n): "the server is busy: \(n) requests are already waiting; retry later"
        case .shuttingDown: "the server is shutting down"
        case .emptyPrompt: "the prompt encodes to no tokens"
        case .promptTooLong(let t, let c): "the prompt has \(t) tokens; the model's context is \(c) tokens"
        }
    }
}

/// A submitted request: its events, and a way to stop it.
public final class GenerationTicket: Sendable {
    public let id: Int
    public let events: AsyncStream<GenerationEvent>
    private let scheduler: BatchScheduler

    init(id: Int, events: AsyncStream<GenerationEvent>, scheduler: BatchScheduler) {
        self.id = id
        self.events = events
        self.scheduler = scheduler
    }

    /// Stops the generation (if still queued, it never starts) and frees its KV cache at the next step.
    public func cancel() { scheduler.cancel(id) }
}

/// Runs many generations over one model, batched at every decode step (continuous batching): a request joins the
/// batch between two steps, once a slot is free, and leaves it when it finishes or is cancelled. A step runs every
/// active sequence's next token, plus chunks of newly admitted prompts up to `maxBatchTokens`, in one forward pass,
/// so the weights are read once per step for all of them (decode is bound by memory bandwidth, not arithmetic).
///
/// The forward passes run on one dedicated thread (which drives the compute thread pool); events reach callers
/// through each ticket's `AsyncStream`.
public final class BatchScheduler: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Sequences generating at once (the batch); more wait in the queue.
        public var parallel: Int
        /// Requests that may wait for a slot; one more is refused with `SchedulerError.queueFull`.
        public var maxQueue: Int
        /// Most tokens one step runs: every decoding sequence's one, then prompt chunks up to this.
        public var maxBatchTokens: Int

        public init(parallel: Int = 4, maxQueue: Int = 64, maxBatchTokens: Int = 512) {
            self.parallel = max(1, parallel)
            self.maxQueue = max(0, maxQueue)
            self.maxBatchTokens = max(1, maxBatchTokens)
        }
    }

    /// What the scheduler is doing now.
    public struct Snapshot: Sendable {
        public var queued: Int
        public var active: Int
        /// Tokens generated per second over the last few seconds, all sequences together.
        public var recentTokensPerSecond: Double
        public var steps: Int
    }

    public let model: any CausalLM
    public let tokenizer: Tokenizer
    public let context: ComputeContext
    public let configuration: Configuration
    /// Positions the model can attend to: a prompt and its completion share them.
    public let contextLength: Int

    private final class Pending {
        let id: Int
        let request: GenerationRequest
        let sink: AsyncStream<GenerationEvent>.Continuation
        let submitted: Date
        init(id: Int, request: GenerationRequest, sink: AsyncStream<GenerationEvent>.Continuation, submitted: Date) {
            self.id = id
            self.request = request
            self.sink = sink
            self.submitted = submitted
        }
    }

    private final class Active {
        let pending: Pending
        let cache: KVCache
        var continuation: Continuation
        /// Prompt tokens already run.
        var fed = 0
        var lastToken: Int?
        let started: Date
        var firstToken: Date?
        var lastStep: Date?
        init(pending: Pending, cache: KVCache, continuation: Continuation) {
            self.pending = pending
            self.cache = cache
            self.continuation = continuation
            started = Date()
        }
        var prompt: [Int] { pending.request.promptIds }
    }

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var pending: [Pending] = []
    private var cancelled: Set<Int> = []
    /// Requests queued or running (a cancel for any other id is ignored).
    private var live: Set<Int> = []
    private var activeCount = 0
    private var nextId = 0
    private var stopping = false
    private var drain = true
    private var cancelAllActive = false
    private var running = false
    private var finished = false
    private var recent: [(time: Date, tokens: Int)] = []
    private var steps = 0
    private var observer: (@Sendable (GenerationSummary) -> Void)?
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []

    public init(model: any CausalLM, tokenizer: Tokenizer, context: ComputeContext, configuration: Configuration = Configuration(),
                contextLength: Int? = nil)
    {
        self.model = model
        self.tokenizer = tokenizer
        self.context = context
        self.configuration = configuration
        self.contextLength = contextLength ?? model.config.maxPositionEmbeddings
    }

    /// Called on the scheduling thread with every request's summary as it ends, whether or not anyone still reads
    /// its events (metrics).
    public func observe(_ observer: @escaping @Sendable (GenerationSummary) -> Void) {
        condition.lock()
        self.observer = observer
        condition.unlock()
    }

    /// Starts the scheduling thread (idempotent).
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running, !stopping else { return }
        running = true
        let thread = Thread { [self] in loop() }
        thread.name = "origami-scheduler"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Queues a request. Its events end with `.finished`.
    ///
    /// - Throws: `.queueFull` when `maxQueue` requests already wait, `.shuttingDown`, `.emptyPrompt`, `.promptTooLong`.
    public func submit(_ request: GenerationRequest) throws(SchedulerError) -> GenerationTicket {
        guard !request.promptIds.isEmpty else { throw .emptyPrompt }
        guard request.promptIds.count < contextLength else { throw .promptTooLong(tokens: request.promptIds.count, context: contextLength) }
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { throw .shuttingDown }
        // A free slot takes the request at the next step; beyond the slots, up to maxQueue may wait.
        guard pending.count < configuration.maxQueue + max(0, configuration.parallel - activeCount) else {
            throw .queueFull(limit: configuration.maxQueue)
        }
        let id = nextId
        nextId += 1
        let (stream, sink) = AsyncStream.makeStream(of: GenerationEvent.self, bufferingPolicy: .unbounded)
        pending.append(Pending(id: id, request: request, sink: sink, submitted: Date()))
        live.insert(id)
        let ticket = GenerationTicket(id: id, events: stream, scheduler: self)
        // A consumer that stops listening (its task was cancelled, the stream was dropped) cancels the generation.
        sink.onTermination = { [weak self] reason in
            if case .cancelled = reason { self?.cancel(id) }
        }
        condition.signal()
        return ticket
    }

    func cancel(_ id: Int) {
        condition.lock()
        if live.contains(id) {
            cancelled.insert(id)
            condition.signal()
        }
        condition.unlock()
    }

    /// Refuses new requests from now on (`.shuttingDown`); queued and running ones go on.
    public func stopAccepting() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// Ends every queued and running generation at the next step (their summaries say `cancelled`).
    public func cancelAll() {
        condition.lock()
        cancelled.formUnion(pending.map(\.id))
        cancelAllActive = true
        condition.signal()
        condition.unlock()
    }

    public func snapshot() -> Snapshot {
        condition.lock()
        defer { condition.unlock() }
        let now = Date()
        let window = recent.filter { now.timeIntervalSince($0.time) <= 5 }
        let tokens = window.reduce(0) { $0 + $1.tokens }
        let span = window.first.map { max(1, now.timeIntervalSince($0.time)) } ?? 1
        return Snapshot(queued: max(0, pending.count), active: activeCount, recentTokensPerSecond: Double(tokens) / span, steps: steps)
    }

    /// Stops taking requests; with `drain`, finishes the queued and running ones first, else cancels them. Returns
    /// once the scheduling thread has ended.
    public func shutdown(drain: Bool = true) async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            condition.lock()
            stopping = true
            self.drain = self.drain && drain
            if finished || !running {
                finished = true
                let queue = pending
                pending = []
                condition.unlock()
                for p in queue { p.sink.finish() }
                waiter.resume()
                return
            }
            exitWaiters.append(waiter)
            condition.signal()
            condition.unlock()
        }
    }

    // MARK: - The scheduling thread

    private func loop() {
        var active: [Active] = []
        while true {
            condition.lock()
            let observer = observer
            while pending.isEmpty && active.isEmpty && !stopping { condition.wait() }
            if (stopping && !drain) || cancelAllActive {
                cancelled.formUnion(pending.map(\.id))
                cancelled.formUnion(active.map(\.pending.id))
                cancelAllActive = false
            }
            if stopping && pending.isEmpty && active.isEmpty {
                finished = true
                let waiters = exitWaiters
                exitWaiters = []
                condition.unlock()
                for w in waiters { w.resume() }
                return
            }
            let gone = cancelled
            cancelled = []
            let dropped = pending.filter { gone.contains($0.id) }
            pending.removeAll { gone.contains($0.id) }
            var admitted: [Pending] = []
            while active.count + admitted.count < configuration.parallel, !pending.isEmpty {
                admitted.append(pending.removeFirst())
            }
            activeCount = active.count + admitted.count
            condition.unlock()

            let now = Date()
            for p in dropped {
                condition.lock()
                live.remove(p.id)
                condition.unlock()
                let summary = (GenerationSummary(
                    promptTokens: p.request.promptIds.count, completionTokens: 0, finishReason: .stop, text: "", cancelled: true,
                    queuedSeconds: now.timeIntervalSince(p.submitted), timeToFirstToken: nil, decodeSeconds: 0,
                    totalSeconds: now.timeIntervalSince(p.submitted)))
                observer?(summary)
                p.sink.yield(.finished(summary))
                p.sink.finish()
            }
            for a in active where gone.contains(a.pending.id) {
                _ = a.continuation.stop()
                finish(a, cancelled: true, observer: observer)
            }
            active.removeAll { gone.contains($0.pending.id) }
            for p in admitted {
                let limit = min(p.request.options.maxNewTokens, contextLength - p.request.promptIds.count)
                let continuation = Continuation(promptIds: p.request.promptIds, tokenizer: tokenizer, options: p.request.options,
                                                limit: limit, topLogprobs: p.request.topLogprobs)
                let a = Active(pending: p, cache: model.makeCache(capacity: p.request.promptIds.count + max(0, limit)),
                               continuation: continuation)
                if continuation.isFinished { finish(a, cancelled: false, observer: observer) } else { active.append(a) }
            }
            condition.lock()
            activeCount = active.count
            condition.unlock()
            guard !active.isEmpty else { continue }
            step(&active, observer: observer)
        }
    }

    /// One forward pass over every active sequence: decoding ones run their last token, prefilling ones the next
    /// chunk of their prompt, within `maxBatchTokens` (a decoding sequence is never starved by a long prompt).
    private func step(_ active: inout [Active], observer: (@Sendable (GenerationSummary) -> Void)?) {
        var chunks: [SequenceChunk] = []
        var owners: [Active] = []
        var budget = configuration.maxBatchTokens
        for a in active where a.fed == a.prompt.count {
            chunks.append(SequenceChunk(tokens: [a.lastToken!], cache: a.cache))
            owners.append(a)
            budget -= 1
        }
        for a in active where a.fed < a.prompt.count {
            guard budget > 0 || chunks.isEmpty else { break }
            let n = min(a.prompt.count - a.fed, max(1, budget))
            chunks.append(SequenceChunk(tokens: Array(a.prompt[a.fed..<(a.fed + n)]), cache: a.cache))
            owners.append(a)
            a.fed += n
            budget -= n
        }
        let logits = model.forward(batch: chunks, context: context)
        let vocab = logits.count / chunks.count
        let now = Date()
        var produced = 0
        for (k, a) in owners.enumerated() where a.fed == a.prompt.count {
            let step = a.continuation.advance(logits: Array(logits[(k * vocab)..<((k + 1) * vocab)]))
            if step.token != nil { produced += 1 }
            if a.firstToken == nil { a.firstToken = now }
            a.lastStep = now
            a.lastToken = step.token
            a.pending.sink.yield(.step(step))
            if step.finishReason != nil { finish(a, cancelled: false, observer: observer) }
        }
        active.removeAll { $0.continuation.isFinished }
        condition.lock()
        steps += 1
        recent.append((now, produced))
        if recent.count > 4096 { recent.removeFirst(recent.count - 2048) }
        activeCount = active.count
        condition.unlock()
    }

    private func finish(_ a: Active, cancelled: Bool, observer: (@Sendable (GenerationSummary) -> Void)?) {
        let p = a.pending
        condition.lock()
        live.remove(p.id)
        condition.unlock()
        let first = a.firstToken
        let summary = GenerationSummary(
            promptTokens: a.prompt.count, completionTokens: a.continuation.generatedIds.count,
            finishReason: a.continuation.finishReason ?? .stop, text: a.continuation.text, cancelled: cancelled,
            queuedSeconds: a.started.timeIntervalSince(p.submitted), timeToFirstToken: first.map { $0.timeIntervalSince(p.submitted) },
            decodeSeconds: first.flatMap { f in a.lastStep.map { $0.timeIntervalSince(f) } } ?? 0,
            totalSeconds: Date().timeIntervalSince(p.submitted))
        observer?(summary)
        p.sink.yield(.finished(summary))
        p.sink.finish()
    }
}
