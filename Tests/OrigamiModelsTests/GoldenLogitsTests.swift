import Foundation
import OrigamiModels
import OrigamiNN
import OrigamiRuntime
import Testing

/// Forward passes against transformers' own logits, greedy continuations and perplexities.
@Suite struct GoldenLogitsTests {
    static let all = ["falcon-7b", "falcon-40b", "falcon-alibi", "falcon-rw-config", "bloom", "opt", "opt-post-ln", "opt-proj", "gpt2"] + llamaFamily
    static let llamaFamily = ["llama", "llama-f16", "llama-bf16", "llama3-scaled", "llama-linear-rope", "mistral", "qwen2"]
    let context = ComputeContext(threads: 2)

    @Test(arguments: all)
    func logitsMatchTransformers(_ name: String) throws {
        let g = try GoldenModel(name)
        let model = try g.load()
        let prompt = g.promptIds
        let cache = model.makeCache(capacity: 64)
        let all = model.forward(prompt, cache: cache, logits: .all, context: context)
        let vocab = model.config.vocabSize
        // Goldens ran in F32 from the stored weights (half weights upcast), as Origami does: float rounding only.
        let tolerance: Float = 1e-4
        for (row, expected) in g.logitsFirst.enumerated() {
            let err = relativeError(all[(row * vocab)..<((row + 1) * vocab)], expected)
            #expect(err < tolerance, "\(name): position \(row) logits differ by \(err) of the range")
        }
        let last = all[((prompt.count - 1) * vocab)..<(prompt.count * vocab)]
        let err = relativeError(last, g.logitsLast)
        #expect(err < tolerance, "\(name): last-position logits differ by \(err) of the range")
    }

    @Test(arguments: all)
    func greedyContinuationMatches(_ name: String) throws {
        let g = try GoldenModel(name)
        let model = try g.load()
        let (expected, margins) = g.greedy
        let cache = model.makeCache(capacity: 64)
        var logits = model.forward(g.promptIds, cache: cache, logits: .last, context: context)
        for (i, want) in expected.enumerated() {
            let got = Sampler.argmax(logits)
            if got != want {
                // A near-tie in the golden is allowed to flip; after it, the sequences legitimately diverge.
                #expect(margins[i] < 1e-3, "\(name): token \(i) is \(got), transformers chose \(want) with margin \(margins[i])")
                return
            }
            logits = model.forward([got], cache: cache, logits: .last, context: context)
        }
    }

    @Test(arguments: all)
    func perplexityMatchesToFourDigits(_ name: String) throws {
        let g = try GoldenModel(name)
        let model = try g.load()
        let p = g.ppl
        let result = Perplexity.evaluate(model: model, ids: p.ids, window: p.context, context: context)
        #expect(result.scoredTokens == p.scored)
        #expect(abs(result.perplexity - p.value) / p.value < 5e-5, "\(name): ppl \(result.perplexity) vs \(p.value)")
    }
}

/// 40 greedy tokens: the KV cache over a longer run.
@Suite struct GoldenLongGenerationTests {
    @Test(arguments: ["llama", "gpt2"])
    func fortyGreedyTokens(_ name: String) throws {
        let g = try GoldenModel(name)
        let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: g.directory.appendingPathComponent("golden_generate_long.json"))) as! [String: Any]
        let prompt = spec["prompt_ids"] as! [Int]
        let expected = spec["new_ids"] as! [Int]
        let margins = spec["margins"] as! [Double]
        let model = try g.load()
        let cache = model.makeCache(capacity: 64)
        let context = ComputeContext(threads: 2)
        var logits = model.forward(prompt, cache: cache, logits: .last, context: context)
        for (i, want) in expected.enumerated() {
            let got = Sampler.argmax(logits)
            if got != want {
                #expect(margins[i] < 1e-3, "\(name): token \(i) is \(got), transformers chose \(want) with margin \(margins[i])")
                return
            }
            logits = model.forward([got], cache: cache, logits: .last, context: context)
        }
    }
}
