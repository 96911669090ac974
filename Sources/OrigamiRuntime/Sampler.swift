import Foundation

/// How the next token is chosen. Temperature 0 means greedy. The filters apply in transformers' order: repetition
/// penalty, temperature, top-k, top-p, min-p.
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float
    /// 0 disables.
    public var topK: Int
    /// 1 disables.
    public var topP: Float
    /// 0 disables.
    public var minP: Float
    /// 1 disables; > 1 discourages tokens already in the context (CTRL-style, as transformers applies it).
    public var repetitionPenalty: Float
    /// How many recent tokens the penalty looks at (0: all).
    public var repetitionWindow: Int
    /// nil: seeded from the clock.
    public var seed: UInt64?

    public init(temperature: Float = 0.8, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
                repetitionPenalty: Float = 1.0, repetitionWindow: Int = 64, seed: UInt64? = nil)
    {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
    }

    public static let greedy = SamplingParameters(temperature: 0, topK: 0, topP: 1, minP: 0)
}

/// A small, fast, seedable generator (xoshiro256**), so a seed reproduces a run on every platform.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var random: SeededRandom

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        random = SeededRandom(seed: parameters.seed ?? UInt64(Date().timeIntervalSince1970 * 1e6))
    }

    /// Picks the next token from `logits[vocab]`, given the tokens so far.
    public mutating func sample(_ logits: [Float], history: [Int]) -> Int {
        var z = logits
        let p = parameters
        if p.repetitionPenalty != 1 {
            let recent = p.repetitionWindow > 0 ? history.suffix(p.repetitionWindow) : history[...]
            for id in Set(recent) where id >= 0 && id < z.count {
                z[id] = z[id] > 0 ? z[id] / p.repetitionPenalty : z[id] * p.repetitionPenalty
            }
        }
        if p.temperature <= 0 { return Self.argmax(z) }
        // Candidates sorted by logit, best first; every filter below keeps a prefix of them.
        var order = Array(z.indices)
        if p.topK > 0 && p.topK < z.count {
            order = Array(order.partialSort(p.topK, by: { z[$0] > z[$1] }))
        } else {
            order.sort { z[$0] > z[$1] }
        }
        let maxLogit = Double(z[order[0]])
        var probs = order.map { Foundation.exp((Double(z[$0]) - maxLogit) / Double(p.temperature)) }
        var total = probs.reduce(0, +)
        if p.topP < 1 {
            var cumulative = 0.0
            var keep = probs.count
            for (i, q) in probs.enumerated() {
                cumulative += q / total
                if cumulative >= Double(p.topP) { keep = i + 1; break }
            }
            probs.removeSubrange(keep...)
            order.removeSubrange(keep...)
            total = probs.reduce(0, +)
        }
        if p.minP > 0 {
            // Relative to the most likely token: keep tokens with p ≥ minP · p_max.
            let threshold = Double(p.minP) * probs[0]
            let keep = max(1, probs.firstIndex { $0 < threshold } ?? probs.count)
            probs.removeSubrange(keep...)
            order.removeSubrange(keep...)
            total = probs.reduce(0, +)
        }
        var r = random.nextUnit() * total
        for (i, q) in probs.enumerated() {
            r -= q
            if r < 0 { return order[i] }
        }
        return order[order.count - 1]
    }

    /// The index of the largest value (the first, on ties, as torch.argmax does).
    public static func argmax(_ x: [Float]) -> Int {
        var best = 0
        for i in 1..<x.count where x[i] > x[best] { best = i }
        return best
    }
}

extension Array {
    /// The first `k` elements in `areInIncreasingOrder` order (a partial selection sort for small k, a full sort else).
    func partialSort(_ k: Int, by areInIncreasingOrder: (Element, Element) -> Bool) -> ArraySlice<Element> {
        if k > 64 { return sorted(by: areInIncreasingOrder).prefix(k) }
        var heap: [Element] = []
        heap.reserveCapacity(k + 1)
        for e in self {
            if heap.count < k {
                let i = heap.firstIndex { areInIncreasingOrder(e, $0) } ?? heap.count
                heap.insert(e, at: i)
            } else if areInIncreasingOrder(e, heap[k - 1]) {
                heap.removeLast()
                let i = heap.firstIndex { areInIncreasingOrder(e, $0) } ?? heap.count
                heap.insert(e, at: i)
            }
        }
        return heap[...]
    }
}
