public import OrigamiFormats
public import OrigamiNN

/// Which positions' logits a forward pass returns.
public enum LogitsSelection: Sendable {
    /// Only the last token's: what generation needs.
    case last
    /// Every token's: what perplexity needs.
    case all
}

/// A decoder-only language model, ready to run.
public protocol CausalLM: AnyObject, Sendable {
    var config: ModelConfig { get }
    /// Runs `tokens` at positions `cache.length ..< cache.length + tokens.count`, appends their keys and values to
    /// the cache, and returns logits `[rows, vocab]` for the selected rows.
    func forward(_ tokens: [Int], cache: KVCache, logits: LogitsSelection, context: ComputeContext) -> [Float]
    /// Runs several sequences in one pass, each chunk's tokens at the end of its own cache, reading every weight once
    /// for all of them (continuous batching). Returns logits `[chunks.count, vocab]`: each chunk's last token's.
    func forward(batch: [SequenceChunk], context: ComputeContext) -> [Float]
    func makeCache(capacity: Int) -> KVCache
    /// Bytes of weights read for every token decoded (what bounds decode speed).
    var weightBytesPerToken: Int { get }
}

/// Tokens of one sequence to run at the end of its KV cache, within a batch.
public struct SequenceChunk: Sendable {
    public var tokens: [Int]
    public var cache: KVCache

    public init(tokens: [Int], cache: KVCache) {
        self.tokens = tokens
        self.cache = cache
    }
}

/// A stage of a forward pass, and the unit that placement keeps resident or streams from disk.
public enum ForwardStage: Hashable, Sendable {
    /// Token lookup, learned positions, the embedding norm, OPT's project_in.
    case embeddings
    case block(Int)
    /// Final norm, OPT's project_out, the LM head.
    case head
}

/// Called around each stage of a forward pass, on the thread running it. Placement uses it to read the next
/// layer's weights ahead while the current one computes and to release them once used, without the forward pass
/// knowing anything about memory.
public protocol ForwardHooks: Sendable {
    func willRun(_ stage: ForwardStage)
    func didRun(_ stage: ForwardStage)
    /// The block to run in place of block `index`, called after `willRun(.block(index))`: the same weights, read
    /// into another buffer (see `LinearWeight.relocated`). nil: run the model's own.
    func block(_ index: Int) -> DecoderBlock?
    /// The LM head and project_out to run in place of the model's, called after `willRun(.head)`.
    func head() -> (lmHead: Linear, projectOut: Linear?)?
}

extension ForwardHooks {
    public func block(_ index: Int) -> DecoderBlock? { nil }
    public func head() -> (lmHead: Linear, projectOut: Linear?)? { nil }
}
