public import OrigamiModels
public import OrigamiNN
import OrigamiKernels
import Foundation

/// llama-bench-style measurements: prompt processing (pp) and token generation (tg) tokens/s over repeats, with the
/// machine's memory bandwidth measured in the same run and the decode roofline it implies.
public struct BenchmarkReport: Sendable {
    public var promptTokens: Int
    public var generatedTokens: Int
    public var repetitions: Int
    public var threads: Int
    public var prefillPrecision: String
    public var promptTokensPerSecond: (mean: Double, std: Double)
    public var generationTokensPerSecond: (mean: Double, std: Double)
    public var loadSeconds: Double
    public var peakResidentBytes: Int
    public var weightBytesPerToken: Int
    public var fileBytes: Int
    public var kvCacheBytes: Int
    public var bandwidthBytesPerSecond: Double
    /// Bandwidth ÷ weight bytes per token: the fastest decode the memory allows.
    public var rooflineTokensPerSecond: Double { bandwidthBytesPerSecond / Double(max(1, weightBytesPerToken)) }
    public var rooflineFraction: Double { generationTokensPerSecond.mean / rooflineTokensPerSecond }
}

public enum Benchmark {
    public static func run(model: any CausalLM, promptTokens: Int, generatedTokens: Int, repetitions: Int, context: ComputeContext,
                           loadSeconds: Double, fileBytes: Int, progress: (String) -> Void = { _ in }) -> BenchmarkReport
    {
        var random = SeededRandom(seed: 1234)
        let vocab = model.config.vocabSize
        let capacity = max(promptTokens, generatedTokens) + 1
        let cache = model.makeCache(capacity: capacity)
        // Warm-up: touches every weight page once so the first repetition does not measure page faults.
        progress("warm-up")
        _ = model.forward([1], cache: cache, logits: .last, context: context)
        var pp: [Double] = []
        var tg: [Double] = []
        for r in 0..<repetitions {
            if promptTokens > 0 {
                progress("pp\(promptTokens) \(r + 1)/\(repetitions)")
                let ids = (0..<promptTokens).map { _ in Int(random.next() % UInt64(vocab)) }
                cache.reset()
                let start = Date()
                _ = model.forward(ids, cache: cache, logits: .last, context: context)
                pp.append(Double(promptTokens) / Date().timeIntervalSince(start))
            }
            if generatedTokens > 0 {
                progress("tg\(generatedTokens) \(r + 1)/\(repetitions)")
                cache.reset()
                var id = Int(random.next() % UInt64(vocab))
                let start = Date()
                for _ in 0..<generatedTokens {
                    let logits = model.forward([id], cache: cache, logits: .last, context: context)
                    id = Sampler.argmax(logits)
                }
                tg.append(Double(generatedTokens) / Date().timeIntervalSince(start))
            }
        }
        // Peak RSS before the bandwidth probe, whose own buffer is not the model's memory.
        let peak = SystemInfo.peakResidentBytes()
        progress("memory bandwidth")
        let bandwidth = measureMemoryBandwidth(bytes: 512 << 20, threads: context.threads)
        return BenchmarkReport(
            promptTokens: promptTokens, generatedTokens: generatedTokens, repetitions: repetitions, threads: context.threads,
            prefillPrecision: context.prefillPrecision.rawValue, promptTokensPerSecond: meanAndSpread(pp),
            generationTokensPerSecond: meanAndSpread(tg), loadSeconds: loadSeconds,
            peakResidentBytes: peak, weightBytesPerToken: model.weightBytesPerToken,
            fileBytes: fileBytes, kvCacheBytes: cache.byteCount, bandwidthBytesPerSecond: bandwidth)
    }

    /// Decode throughput of `batch` sequences stepping together (continuous batching's steady state): every step runs
    /// one token of each sequence in one forward pass. Batch sizes run in the order given, repeated `repetitions`
    /// times round-robin so that noise hits them alike; returns each size's mean tokens/s (all sequences together).
    public static func batchedDecode(model: any CausalLM, batchSizes: [Int], steps: Int, repetitions: Int, context: ComputeContext,
                                     progress: (String) -> Void = { _ in }) -> [(batch: Int, tokensPerSecond: (mean: Double, std: Double))]
    {
        var random = SeededRandom(seed: 99)
        let vocab = model.config.vocabSize
        var results: [Int: [Double]] = [:]
        _ = model.forward([1], cache: model.makeCache(capacity: 2), logits: .last, context: context)   // warm-up
        for r in 0..<repetitions {
            for b in batchSizes {
                progress("batch \(b) tg\(steps) \(r + 1)/\(repetitions)")
                let caches = (0..<b).map { _ in model.makeCache(capacity: steps + 1) }
                var ids = (0..<b).map { _ in Int(random.next() % UInt64(vocab)) }
                let start = Date()
                for _ in 0..<steps {
                    let logits = model.forward(batch: zip(ids, caches).map { SequenceChunk(tokens: [$0], cache: $1) }, context: context)
                    ids = (0..<b).map { Sampler.argmax(Array(logits[($0 * vocab)..<(($0 + 1) * vocab)])) }
                }
                results[b, default: []].append(Double(b * steps) / Date().timeIntervalSince(start))
            }
        }
        return batchSizes.map { ($0, meanAndSpread(results[$0] ?? [])) }
    }
}
