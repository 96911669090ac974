import ArgumentParser
import Foundation
import OrigamiRuntime
import OrigamiTensor

/// `origami bench`: prompt-processing and generation speed, peak memory, and the decode roofline.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prompt processing (pp) and generation (tg) tokens/s, peak RSS and the memory-bandwidth roofline.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: [.customShort("p"), .customLong("prompt")], help: "Prompt tokens for the pp test (0: skip).")
    var prompt = 128

    @Option(name: [.customLong("gen")], help: "Generated tokens for the tg test (0: skip).")
    var gen = 64

    @Option(name: [.customShort("r"), .customLong("repetitions")], help: "Repeats of each test.")
    var repetitions = 5

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let loaded = try modelOptions.load()
        let context = modelOptions.makeContext()
        let isTTY = isatty(2) != 0
        let r = Benchmark.run(model: loaded.model, promptTokens: prompt, generatedTokens: gen, repetitions: repetitions,
                              context: context, loadSeconds: loaded.loadSeconds, fileBytes: loaded.checkpoint.fileBytes) { stage in
            if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K[\(stage)]".utf8)) }
        }
        if isTTY { note("") }
        let c = loaded.config
        let weights = WeightSummary.of(loaded.model)
        if json {
            print(try jsonString([
                "model": modelOptions.modelDirectory, "architecture": c.family.rawValue, "threads": r.threads,
                "prefill_precision": r.prefillPrecision, "repetitions": r.repetitions,
                "pp": ["tokens": r.promptTokens, "tokens_per_s": r.promptTokensPerSecond.mean, "std": r.promptTokensPerSecond.std],
                "tg": ["tokens": r.generatedTokens, "tokens_per_s": r.generationTokensPerSecond.mean, "std": r.generationTokensPerSecond.std],
                "load_s": r.loadSeconds, "peak_rss_bytes": r.peakResidentBytes, "file_bytes": r.fileBytes,
                "kv_cache_bytes": r.kvCacheBytes, "weight_bytes_per_token": r.weightBytesPerToken,
                "bandwidth_bytes_per_s": r.bandwidthBytesPerSecond, "roofline_tokens_per_s": r.rooflineTokensPerSecond,
                "roofline_fraction": r.rooflineFraction, "cpu": SystemInfo.cpuName(),
                "quantization": loaded.quantization ?? "none", "linear_weight_formats": weights?.formats ?? [:],
                "linear_bits_per_weight": weights?.bitsPerWeight ?? 0, "linear_parameters": weights?.parameters ?? 0,
                "linear_bytes": weights?.bytes ?? 0,
            ] as [String: Any]))
            return
        }
        print("model       \(modelOptions.modelDirectory) (\(c.family.rawValue), \(c.numLayers) layers, hidden \(c.hiddenSize))")
        print("cpu         \(SystemInfo.cpuName()), \(r.threads) threads, prefill \(r.prefillPrecision)")
        if let w = weights {
            print(String(format: "weights     %@: %.3f bits per weight (linear layers, scales and zeros included)%@", w.formatList,
                         w.bitsPerWeight, loaded.quantization.map { "; \($0)" } ?? ""))
        }
        print(String(format: "pp%-8d  %8.2f ± %.2f tok/s", r.promptTokens, r.promptTokensPerSecond.mean, r.promptTokensPerSecond.std))
        print(String(format: "tg%-8d  %8.2f ± %.2f tok/s", r.generatedTokens, r.generationTokensPerSecond.mean, r.generationTokensPerSecond.std))
        print(String(format: "load        %.3f s", r.loadSeconds))
        print("peak RSS    \(formatBytes(r.peakResidentBytes)) (file \(formatBytes(r.fileBytes)), KV cache \(formatBytes(r.kvCacheBytes)))")
        print(String(format: "bandwidth   %.1f GB/s measured; weights %@ per token ⇒ roofline %.2f tok/s; tg reaches %.0f%%",
                     r.bandwidthBytesPerSecond / 1e9, formatBytes(r.weightBytesPerToken), r.rooflineTokensPerSecond,
                     r.rooflineFraction * 100))
    }
}
