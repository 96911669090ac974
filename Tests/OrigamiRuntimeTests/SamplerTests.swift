import Foundation
import OrigamiRuntime
import Testing

@Suite struct SamplerTests {
    // softmax([2, 1, 0, -1, 3]) ≈ [0.237, 0.087, 0.032, 0.012, 0.644]
    let logits: [Float] = [2, 1, 0, -1, 3]

    func draws(_ p: SamplingParameters, history: [Int] = [], n: Int = 2000) -> [Int: Int] {
        var s = Sampler(p)
        var counts: [Int: Int] = [:]
        for _ in 0..<n { counts[s.sample(logits, history: history), default: 0] += 1 }
        return counts
    }

    @Test func greedyIsArgmax() {
        var s = Sampler(.greedy)
        #expect(s.sample(logits, history: []) == 4)
        #expect(Sampler.argmax([1, 5, 5, 2]) == 1)
    }

    @Test func topKKeepsTheKMostLikely() {
        let c = draws(SamplingParameters(temperature: 1, topK: 2, topP: 1, minP: 0, seed: 1))
        #expect(Set(c.keys) == [0, 4])
    }

    @Test func topPKeepsTheSmallestSetReachingP() {
        // Sorted probabilities 0.644, 0.237 (cumulative 0.881), 0.087 (0.968): p = 0.9 keeps three tokens.
        let c = draws(SamplingParameters(temperature: 1, topK: 0, topP: 0.9, minP: 0, seed: 2))
        #expect(Set(c.keys) == [4, 0, 1])
    }

    @Test func minPIsRelativeToTheMostLikely() {
        // p ≥ 0.1 × 0.644 keeps 0.644, 0.237 and 0.087.
        let c = draws(SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0.1, seed: 3))
        #expect(Set(c.keys) == [4, 0, 1])
    }

    @Test func samplingFollowsTheDistribution() {
        let c = draws(SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0, seed: 4), n: 20000)
        let z = logits.map { exp(Double($0)) }.reduce(0, +)
        for (i, l) in logits.enumerated() {
            let expected = exp(Double(l)) / z
            #expect(abs(Double(c[i, default: 0]) / 20000 - expected) < 0.015, "token \(i)")
        }
    }

    @Test func repetitionPenaltyAsTransformersAppliesIt() {
        // Token 4 (logit 3) seen: 3 / 4 = 0.75 < 2, so greedy moves to token 0. A negative logit is multiplied.
        var s = Sampler(SamplingParameters(temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 4))
        #expect(s.sample(logits, history: [4]) == 0)
        var t = Sampler(SamplingParameters(temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 4))
        #expect(t.sample([-1, -2], history: [0]) == 1)
    }

    @Test func aSeedReproducesARun() {
        let p = SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0, seed: 99)
        var a = Sampler(p), b = Sampler(p)
        let x = (0..<50).map { _ in a.sample(logits, history: []) }
        let y = (0..<50).map { _ in b.sample(logits, history: []) }
        #expect(x == y)
    }
}
