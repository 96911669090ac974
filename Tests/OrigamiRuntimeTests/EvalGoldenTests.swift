import Foundation
import OrigamiNN
import OrigamiRuntime
import Testing

/// `origami eval`'s whole path: the golden text tokenized as transformers does, then perplexity.
@Suite struct EvalGoldenTests {
    static let models = ["llama", "llama-f16", "llama-bf16", "llama3-scaled", "llama-linear-rope", "mistral", "qwen2",
                         "falcon-7b", "falcon-40b", "falcon-alibi", "falcon-rw-config", "bloom", "opt", "opt-post-ln",
                         "opt-proj", "gpt2"]

    @Test(arguments: models)
    func perplexityOfTheGoldenText(_ name: String) throws {
        let dir = fixtures.appendingPathComponent("models/\(name)")
        let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("golden.json"))) as! [String: Any]
        let ppl = golden["ppl"] as! [String: Any]
        let text = try String(contentsOf: dir.appendingPathComponent(ppl["text_file"] as! String), encoding: .utf8)
        let loaded = try LoadedModel(directory: dir.path)
        let ids = loaded.tokenizer.encode(text, addSpecialTokens: false)
        #expect(ids == ppl["eval_ids"] as! [Int])
        let r = Perplexity.evaluate(model: loaded.model, ids: ids, window: ppl["context"] as! Int, context: ComputeContext(threads: 2))
        let expected = ppl["ppl"] as! Double
        #expect(r.scoredTokens == ppl["scored_tokens"] as! Int)
        // Four significant digits, as the issue asks (in practice they agree to about six).
        #expect(abs(r.perplexity - expected) / expected < 5e-5, "\(name): \(r.perplexity) vs \(expected)")
    }
}
