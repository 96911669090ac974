public import OrigamiModels
public import OrigamiNN
public import OrigamiTokenizers
import Foundation

public enum FinishReason: String, Sendable, Codable {
    /// An end-of-sequence token or a stop string.
    case stop
    /// The token limit or the context length.
    case length
}

public struct GenerationOptions: Sendable {
    public var maxNewTokens: Int
    public var sampling: SamplingParameters
    public var stopTokenIds: Set<Int>
    public var stopStrings: [String]

    public init(maxNewTokens: Int = 128, sampling: SamplingParameters = SamplingParameters(), stopTokenIds: Set<Int> = [],
                stopStrings: [String] = [])
    {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.stopTokenIds = stopTokenIds
        self.stopStrings = stopStrings
    }
}

public struct GenerationResult: Sendable {
    public var promptIds: [Int]
    public var generatedIds: [Int]
    public var text: String
    public var finishReason: FinishReason
    /// Prompt tokens actually run (fewer than the prompt when a cached prefix was reused).
    public var prefilledTokens: Int
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    public var prefillTokensPerSecond: Double { Double(prefilledTokens) / max(prefillSeconds, 1e-9) }
    /// Tokens per second after the first generated token.
    public var decodeTokensPerSecond: Double { Double(max(0, generatedIds.count - 1)) / max(decodeSeconds, 1e-9) }
}

/// Runs a model over a prompt and samples a continuation, streaming text that is final (never half a UTF-8
/// character, never the beginning of a stop string that may still complete).
///
/// Keeps its KV cache between calls: a prompt that extends the previous prompt + output (a chat) only prefills
/// the new tokens.
public final class Generator {
    public let model: any CausalLM
    public let tokenizer: Tokenizer
    public let context: ComputeContext
    public let cache: KVCache
    /// The tokens whose keys and values are in the cache.
    public private(set) var cachedIds: [Int] = []

    public init(model: any CausalLM, tokenizer: Tokenizer, context: ComputeContext, capacity: Int) {
        self.model = model
        self.tokenizer = tokenizer
        self.context = context
        cache = model.makeCache(capacity: capacity)
    }

    /// - Parameter onText: receives each final piece of text; return false to stop early.
    public func generate(promptIds: [Int], options: GenerationOptions, onText: (String) -> Bool = { _ in true }) -> GenerationResult {
        precondition(!promptIds.isEmpty, "empty prompt")
        // Reuse the cached prefix; always recompute at least the last prompt token to get its logits.
        var common = 0
        while common < min(cachedIds.count, promptIds.count - 1), cachedIds[common] == promptIds[common] { common += 1 }
        cache.length = common
        cachedIds = Array(promptIds[..<common])
        let room = cache.capacity - promptIds.count
        var result = GenerationResult(promptIds: promptIds, generatedIds: [], text: "", finishReason: .length,
                                      prefilledTokens: promptIds.count - common, prefillSeconds: 0, decodeSeconds: 0)
        guard room >= 0 else { return result }

        let prefillStart = Date()
        let newPrompt = Array(promptIds[common...])
        var logits = model.forward(newPrompt, cache: cache, logits: .last, context: context)
        cachedIds += newPrompt
        result.prefillSeconds = Date().timeIntervalSince(prefillStart)

        var continuation = Continuation(promptIds: promptIds, tokenizer: tokenizer, options: options,
                                        limit: min(options.maxNewTokens, room + 1))
        let decodeStart = Date()
        while !continuation.isFinished {
            var step = continuation.advance(logits: logits)
            if !step.text.isEmpty, !onText(step.text), !continuation.isFinished {
                step = continuation.stop()
                if !step.text.isEmpty { _ = onText(step.text) }
            }
            guard !continuation.isFinished, let id = step.token else { break }
            logits = model.forward([id], cache: cache, logits: .last, context: context)
            cachedIds.append(id)
        }
        result.generatedIds = continuation.generatedIds
        result.text = continuation.text
        result.finishReason = continuation.finishReason ?? .length
        result.decodeSeconds = Date().timeIntervalSince(decodeStart)
        return result
    }
}
