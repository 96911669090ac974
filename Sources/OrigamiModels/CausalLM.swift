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
    func makeCache(capacity: Int) -> KVCache
    /// Bytes of weights read for every token decoded (what bounds decode speed).
    var weightBytesPerToken: Int { get }
}
