import Foundation
import OrigamiModels
import OrigamiNN
import OrigamiRuntime
import Testing

/// Several sequences in one forward pass (continuous batching) must give each sequence the logits it gets alone,
/// and the golden prompt's must still match transformers'.
@Suite struct BatchedForwardTests {
    let context = ComputeContext(threads: 2)

    @Test(arguments: GoldenLogitsTests.all)
    func batchedSequencesMatchTransformersAndTheirSoloRuns(_ name: String) throws {
        let g = try GoldenModel(name)
        let model = try g.load()
        let vocab = model.config.vocabSize
        let golden = g.promptIds
        // Other sequences: shorter and longer prompts, at other positions, so rows attend to different lengths.
        let others = [Array(golden.reversed().prefix(3)), Array((golden + golden).prefix(golden.count + 4)), [golden[0]]]
        let prompts = [golden] + others
        let caches = prompts.map { _ in model.makeCache(capacity: 64) }

        // Step 1: every prompt at once (prefill rows of four sequences in one pass).
        let first = model.forward(batch: zip(prompts, caches).map { SequenceChunk(tokens: $0, cache: $1) }, context: context)
        #expect(first.count == prompts.count * vocab)
        let err = relativeError(first[0..<vocab], g.logitsLast)
        #expect(err < 1e-4, "\(name): the golden prompt's logits in a batch differ from transformers' by \(err) of the range")

        // Steps 2–4: decode one greedy token per sequence (four rows: the matrix × vector path), then a mixed step
        // where one sequence runs two tokens.
        var batched: [[Float]] = (0..<prompts.count).map { Array(first[($0 * vocab)..<(($0 + 1) * vocab)]) }
        var histories = prompts
        for step in 0..<3 {
            var chunks: [SequenceChunk] = []
            for s in prompts.indices {
                let next = Sampler.argmax(batched[s])
                histories[s].append(next)
                chunks.append(SequenceChunk(tokens: step == 2 && s == 1 ? [next, next] : [next], cache: caches[s]))
                if step == 2 && s == 1 { histories[s].append(next) }
            }
            let out = model.forward(batch: chunks, context: context)
            batched = (0..<prompts.count).map { Array(out[($0 * vocab)..<(($0 + 1) * vocab)]) }
        }
        for s in prompts.indices {
            #expect(caches[s].length == histories[s].count)
            let solo = model.makeCache(capacity: 64)
            let alone = model.forward(histories[s], cache: solo, logits: .last, context: context)
            let e = relativeError(batched[s][...], alone)
            #expect(e < 1e-4, "\(name): sequence \(s) in a batch differs from its solo run by \(e) of the range")
        }
    }
}
