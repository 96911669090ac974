import Foundation
import OrigamiNN
import OrigamiRuntime
import Testing

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

@Suite struct GeneratorTests {
    let loaded: LoadedModel
    let context = ComputeContext(threads: 2)

    init() throws {
        loaded = try LoadedModel(directory: fixtures.appendingPathComponent("models/llama").path)
    }

    func greedy(_ n: Int, stops: [String] = []) -> GenerationOptions {
        GenerationOptions(maxNewTokens: n, sampling: .greedy, stopTokenIds: [], stopStrings: stops)
    }

    @Test func greedyIdsMatchTheGoldenAndStreamedTextEqualsDecode() throws {
        let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("models/llama/golden.json"))) as! [String: Any]
        let prompt = golden["prompt_ids"] as! [Int]
        let expected = (golden["greedy"] as! [String: Any])["new_ids"] as! [Int]
        let g = Generator(model: loaded.model, tokenizer: loaded.tokenizer, context: context, capacity: 64)
        var streamed = ""
        let r = g.generate(promptIds: prompt, options: greedy(16)) { streamed += $0; return true }
        #expect(r.generatedIds == expected)
        #expect(r.finishReason == .length)
        #expect(streamed == r.text)
        let whole = loaded.tokenizer.decode(prompt + expected, skipSpecialTokens: true)
        let head = loaded.tokenizer.decode(prompt, skipSpecialTokens: true)
        try #require(whole.hasPrefix(head))
        #expect(r.text == String(whole.dropFirst(head.count)))
    }

    @Test func stopStringsCutTheTextAndAreNeverStreamed() throws {
        let prompt = loaded.tokenizer.encode("The quick brown fox")
        let full = Generator(model: loaded.model, tokenizer: loaded.tokenizer, context: context, capacity: 64)
            .generate(promptIds: prompt, options: greedy(20))
        // Stop on a piece of text that appears in the middle of the greedy continuation.
        let chars = Array(full.text)
        try #require(chars.count > 6)
        let stop = String(chars[3..<6])
        let expectedText = String(full.text[..<full.text.range(of: stop)!.lowerBound])
        var streamed = ""
        let r = Generator(model: loaded.model, tokenizer: loaded.tokenizer, context: context, capacity: 64)
            .generate(promptIds: prompt, options: greedy(20, stops: [stop])) { streamed += $0; return true }
        #expect(r.finishReason == .stop)
        #expect(r.text == expectedText)
        #expect(streamed == expectedText)
    }

    @Test func reusingTheCachedPrefixGivesTheSameTokens() throws {
        let a = loaded.tokenizer.encode("Once upon a time there")
        let g = Generator(model: loaded.model, tokenizer: loaded.tokenizer, context: context, capacity: 64)
        let first = g.generate(promptIds: a, options: greedy(5))
        // The next prompt extends the previous prompt and its output, as a chat turn does.
        let b = a + first.generatedIds + loaded.tokenizer.encode(" and then", addSpecialTokens: false)
        let reused = g.generate(promptIds: b, options: greedy(8))
        #expect(reused.prefilledTokens < b.count)
        let fresh = Generator(model: loaded.model, tokenizer: loaded.tokenizer, context: context, capacity: 64)
            .generate(promptIds: b, options: greedy(8))
        #expect(fresh.prefilledTokens == b.count)
        #expect(reused.generatedIds == fresh.generatedIds)
    }

    @Test func stopsAtTheContextLength() {
        let g = Generator(model: loaded.model, tokenizer: loaded.tokenizer, context: context, capacity: 12)
        let r = g.generate(promptIds: Array(repeating: 5, count: 8), options: greedy(100))
        #expect(r.generatedIds.count == 5)
        #expect(r.finishReason == .length)
    }
}
