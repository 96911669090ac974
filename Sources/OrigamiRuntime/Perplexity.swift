public import OrigamiModels
public import OrigamiNN
import Foundation

public struct PerplexityResult: Sendable {
    public var perplexity: Double
    public var meanNLL: Double
    public var scoredTokens: Int
    public var windows: Int
    public var seconds: Double
    public var tokensPerSecond: Double { Double(scoredTokens + windows) / max(seconds, 1e-9) }
}

public enum Perplexity {
    /// Perplexity exactly as `origami eval` defines it: consecutive non-overlapping windows of `window` tokens (the
    /// last may be shorter; one of fewer than 2 tokens is dropped), each run on its own with no BOS and no carried
    /// state, every token but the first of each window scored; PPL = exp(total NLL / scored tokens).
    public static func evaluate(model: any CausalLM, ids: [Int], window: Int, context: ComputeContext,
                                progress: ((Int, Int) -> Void)? = nil) -> PerplexityResult
    {
        let start = Date()
        var total = 0.0
        var scored = 0
        var windows = 0
        let cache = model.makeCache(capacity: window)
        var offset = 0
        let vocab = model.config.vocabSize
        while offset < ids.count {
            let chunk = Array(ids[offset..<min(ids.count, offset + window)])
            offset += window
            guard chunk.count >= 2 else { break }
            cache.reset()
            let logits = model.forward(chunk, cache: cache, logits: .all, context: context)   // [T, vocab]
            for i in 0..<(chunk.count - 1) {
                total += negativeLogLikelihood(logits, row: i, vocab: vocab, target: chunk[i + 1])
            }
            scored += chunk.count - 1
            windows += 1
            progress?(min(offset, ids.count), ids.count)
        }
        let mean = scored > 0 ? total / Double(scored) : .nan
        return PerplexityResult(perplexity: Foundation.exp(mean), meanNLL: mean, scoredTokens: scored, windows: windows,
                                seconds: Date().timeIntervalSince(start))
    }

    /// −log softmax(logits[row])[target], in Double.
    static func negativeLogLikelihood(_ logits: [Float], row: Int, vocab: Int, target: Int) -> Double {
        let base = row * vocab
        var m = -Double.infinity
        for j in 0..<vocab { m = max(m, Double(logits[base + j])) }
        var s = 0.0
        for j in 0..<vocab { s += Foundation.exp(Double(logits[base + j]) - m) }
        return m + Foundation.log(s) - Double(logits[base + target])
    }
}
