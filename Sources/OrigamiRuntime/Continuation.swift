public import OrigamiTokenizers
import Foundation

/// A token's log-probability under the model (log-softmax of the raw logits, before temperature and filters, as
/// OpenAI's API and vLLM report them), with the most likely alternatives at that position.
public struct TokenLogprob: Sendable, Equatable {
    public struct Alternative: Sendable, Equatable {
        public var id: Int
        public var logprob: Float
        /// The text the token adds after what came before it ("" for a token that ends no UTF-8 character).
        public var text: String = ""
    }

    public var id: Int
    public var logprob: Float
    public var text: String = ""
    /// The `top` most likely tokens, most likely first.
    public var top: [Alternative]

    /// The log-probability of `id` in `logits`, and the `top` best tokens'.
    public static func of(_ id: Int, in logits: [Float], top: Int) -> TokenLogprob {
        var maxLogit = -Float.infinity
        for z in logits where z > maxLogit { maxLogit = z }
        var sum = 0.0
        for z in logits { sum += Foundation.exp(Double(z - maxLogit)) }
        let logNorm = Double(maxLogit) + Foundation.log(sum)
        func lp(_ i: Int) -> Float { Float(Double(logits[i]) - logNorm) }
        let best = top > 0 ? Array(Array(logits.indices).partialSort(top) { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }) : []
        return TokenLogprob(id: id, logprob: lp(id), top: best.map { Alternative(id: $0, logprob: lp($0)) })
    }
}

/// What one step of a continuation produced.
public struct ContinuationStep: Sendable {
    /// The sampled token; nil when the step sampled an end-of-sequence token (which is not part of the output).
    public var token: Int?
    /// Text that became final at this step (possibly empty: half a character, or a possible stop string held back).
    public var text: String
    public var logprob: TokenLogprob?
    /// Set on the last step.
    public var finishReason: FinishReason?
}

/// One sequence's decoding state, independent of how its logits are computed: samples the next token, detokenizes
/// it in the context of the prompt, stops on end-of-sequence ids, stop strings and the token limit, and holds back
/// text that may still become a stop string. `Generator` and the batch scheduler both drive it, so a request served
/// in a batch produces what `origami generate` produces alone.
public struct Continuation: Sendable {
    public let promptIds: [Int]
    public let options: GenerationOptions
    /// Most tokens this continuation may produce (the request's limit, cut to what the context holds).
    public let limit: Int
    /// Alternatives to report with each token's log-probability; nil: no log-probabilities.
    public let topLogprobs: Int?
    public private(set) var generatedIds: [Int] = []
    /// Everything final so far (a stop string and what follows it are cut off).
    public private(set) var text = ""
    public private(set) var finishReason: FinishReason?

    private var sampler: Sampler
    private var decoder: StreamingDecoder
    private var history: [Int]
    private var decoded = ""   // everything the decoder produced, stop strings and held-back text included
    private var emitted = 0    // characters of `decoded` handed out

    /// - Parameter limit: most new tokens, already cut to the room in the context.
    public init(promptIds: [Int], tokenizer: Tokenizer, options: GenerationOptions, limit: Int, topLogprobs: Int? = nil) {
        self.promptIds = promptIds
        self.options = options
        self.limit = limit
        self.topLogprobs = topLogprobs
        sampler = Sampler(options.sampling)
        decoder = tokenizer.makeStreamingDecoder(skipSpecialTokens: true)
        // Decode in the context of the prompt: a SentencePiece tokenizer strips the space of the sequence's first
        // piece, which must not happen to the first generated one.
        for id in promptIds { _ = decoder.push(id) }
        history = promptIds
        if limit <= 0 { finishReason = .length }
    }

    public var isFinished: Bool { finishReason != nil }

    /// Samples the next token from `logits[vocab]` (the model's output after the prompt and every generated token).
    public mutating func advance(logits: [Float]) -> ContinuationStep {
        precondition(finishReason == nil, "advance after the continuation finished")
        let id = sampler.sample(logits, history: history)
        var logprob = topLogprobs.map { TokenLogprob.of(id, in: logits, top: $0) }
        if logprob != nil {
            // Each candidate's text in the context of the sequence so far, from a copy of the decoder's state.
            for k in logprob!.top.indices {
                var d = decoder
                logprob!.top[k].text = d.push(logprob!.top[k].id)
            }
        }
        if options.stopTokenIds.contains(id) {
            return finish(.stop, step: ContinuationStep(token: nil, text: "", logprob: logprob))
        }
        generatedIds.append(id)
        history.append(id)
        let piece = decoder.push(id)
        decoded += piece
        logprob?.text = piece
        var step = ContinuationStep(token: id, text: "", logprob: logprob)
        if let stop = Self.firstStop(in: decoded, from: emitted, stops: options.stopStrings) {
            decoded = String(decoded[..<stop])
            return finish(.stop, step: step)
        }
        if generatedIds.count >= limit {
            decoded += decoder.flush()
            return finish(.length, step: step)
        }
        // Hold back a tail that could still grow into a stop string.
        let safeEnd = decoded.count - Self.stopPrefixLength(decoded, stops: options.stopStrings)
        if safeEnd > emitted {
            step.text = take(upTo: safeEnd)
        }
        return step
    }

    /// Ends the continuation early (a client went away, a caller said stop): what was held back is released.
    public mutating func stop() -> ContinuationStep {
        finish(.stop, step: ContinuationStep(token: nil, text: ""))
    }

    private mutating func finish(_ reason: FinishReason, step: ContinuationStep) -> ContinuationStep {
        var step = step
        finishReason = reason
        step.finishReason = reason
        step.text = take(upTo: decoded.count)
        return step
    }

    private mutating func take(upTo end: Int) -> String {
        guard end > emitted else { return "" }
        let start = decoded.index(decoded.startIndex, offsetBy: emitted)
        let stop = decoded.index(start, offsetBy: end - emitted)
        emitted = end
        let piece = String(decoded[start..<stop])
        text += piece
        return piece
    }

    static func firstStop(in text: String, from emitted: Int, stops: [String]) -> String.Index? {
        var best: String.Index?
        // A stop string may straddle the emitted boundary, but never lies wholly before it (it would have stopped).
        let searchStart = text.index(text.startIndex, offsetBy: max(0, emitted - (stops.map(\.count).max() ?? 0)))
        for s in stops where !s.isEmpty {
            if let r = text.range(of: s, range: searchStart..<text.endIndex), best == nil || r.lowerBound < best! {
                best = r.lowerBound
            }
        }
        return best
    }

    /// Length of the longest suffix of `text` that is a proper prefix of some stop string.
    static func stopPrefixLength(_ text: String, stops: [String]) -> Int {
        var best = 0
        for s in stops {
            var n = min(s.count - 1, text.count)
            while n > best {
                if text.hasSuffix(s.prefix(n)) { best = n; break }
                n -= 1
            }
        }
        return best
    }
}
