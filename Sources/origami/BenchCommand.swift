import ArgumentParser
import Foundation
import OrigamiModels
import OrigamiNN
import OrigamiRuntime
import OrigamiTensor

/// `origami bench`: prompt-processing and generation speed, peak memory, and the decode roofline; with
/// `--max-memory`, the disk's read bandwidth and the streaming roofline it implies.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prompt processing (pp) and generation (tg) tokens/s, peak RSS and the memory-bandwidth roofline.",
        discussion: """
            With --max-memory, layers that do not fit are streamed from disk; bench then also measures the disk's \
            sequential read bandwidth (O_DIRECT) and reports tokens/s against what the disk allows (bytes streamed per \
            token ÷ bandwidth). --compare-streaming runs, in the same process, read-ahead on, read-ahead off, and plain \
            mmap with no budget after dropping the page cache, each from a cold cache, with its own peak RSS.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var placement: PlacementOptions

    @Option(name: [.customShort("p"), .customLong("prompt")], help: "Prompt tokens for the pp test (0: skip).")
    var prompt = 128

    @Option(name: [.customLong("gen")], help: "Generated tokens for the tg test (0: skip).")
    var gen = 64

    @Option(name: [.customShort("r"), .customLong("repetitions")], help: "Repeats of each test.")
    var repetitions = 5

    @Flag(help: "Measure the disk's sequential read bandwidth even without --max-memory.")
    var diskProbe = false

    @Flag(help: "With --max-memory: compare read-ahead on, read-ahead off and plain mmap (cold page cache) in one run.")
    var compareStreaming = false

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: ArgumentHelp("Instead of pp/tg: decode throughput with this many sequences batched per step, e.g. 1,4,16 (the server's continuous batching), with each size's ratio to the first.", valueName: "sizes"))
    var batch: String?

    func validate() throws {
        if compareStreaming && placement.maxMemory == nil { throw ValidationError("--compare-streaming needs --max-memory") }
    }

    func run() throws {
        let loaded = try modelOptions.load()
        let context = modelOptions.makeContext()
        let isTTY = isatty(2) != 0
        let progress: (String) -> Void = { stage in
            if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K[\(stage)]".utf8)) }
        }
        let capacity = max(prompt, gen) + 1
        if let batch {
            let sizes = batch.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--batch takes sizes like 1,4,16") }
            let (model, _) = try placement.apply(to: loaded, kvCapacity: capacity * sizes.max()!, tokens: sizes.max()!, logitsRows: sizes.max()!,
                                                 quiet: json)
            let rows = Benchmark.batchedDecode(model: model, batchSizes: sizes, steps: gen, repetitions: repetitions, context: context,
                                               progress: progress)
            if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            let base = rows[0].tokensPerSecond.mean
            if json {
                print(try jsonString(["model": modelOptions.modelDirectory, "threads": context.threads, "steps": gen,
                                      "peak_rss_bytes": SystemInfo.peakResidentBytes(),
                                      "batches": rows.map { ["batch": $0.batch, "tokens_per_s": $0.tokensPerSecond.mean,
                                                             "std": $0.tokensPerSecond.std, "vs_first": $0.tokensPerSecond.mean / base] }]))
            } else {
                print("model       \(modelOptions.modelDirectory), \(context.threads) threads, \(gen) decode steps × \(repetitions)")
                print("batch   tokens/s (all sequences)   per sequence   vs batch \(rows[0].batch)")
                for r in rows {
                    print(String(format: "%5d   %8.2f ± %-6.2f           %8.2f       %.2fx", r.batch, r.tokensPerSecond.mean, r.tokensPerSecond.std,
                                 r.tokensPerSecond.mean / Double(r.batch), r.tokensPerSecond.mean / base))
                }
                print("peak RSS    \(formatBytes(SystemInfo.peakResidentBytes()))")
            }
            return
        }
        if compareStreaming {
            try compare(loaded, context: context, capacity: capacity, progress: progress)
            return
        }
        let (model, placed) = try placement.apply(to: loaded, kvCapacity: capacity, tokens: prompt, logitsRows: 1, quiet: json)
        let probe = placement.isActive || diskProbe ? probeFiles(loaded, placed) : []
        var probes: [DiskProbe.Result] = []
        if !probe.isEmpty, let d = DiskProbe.measure(paths: probe) { probes.append(d) }
        let r = Benchmark.run(model: model, promptTokens: prompt, generatedTokens: gen, repetitions: repetitions,
                              context: context, loadSeconds: loaded.loadSeconds, fileBytes: loaded.checkpoint.fileBytes,
                              progress: progress)
        if !probe.isEmpty {
            progress("disk read bandwidth")
            if let d = DiskProbe.measure(paths: probe) { probes.append(d) }
        }
        if isTTY { note("") }
        let disk = DiskProbe.mean(probes)
        let streamed = placed?.streamedBytesPerPass ?? 0
        let diskRoof = disk.map { streamed > 0 ? $0.bytesPerSecond / Double(streamed) : 0 } ?? 0
        let c = loaded.config
        let weights = WeightSummary.of(loaded.model)
        if json {
            var out: [String: Any] = [
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
            ]
            if let placed { out["placement"] = placed.json }
            if let disk {
                out["disk"] = ["read_bytes_per_s": disk.bytesPerSecond, "method": disk.method, "bytes_read": disk.bytesRead,
                               "probes_bytes_per_s": probes.map(\.bytesPerSecond),
                               "streamed_bytes_per_token": streamed, "disk_roofline_tokens_per_s": diskRoof,
                               "disk_roofline_fraction": diskRoof > 0 ? r.generationTokensPerSecond.mean / diskRoof : 0]
            }
            print(try jsonString(out))
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
        if let disk {
            print(String(format: "disk        %.2f GB/s sequential read (%@; mean of before and after: %@)", disk.bytesPerSecond / 1e9,
                         disk.method, probes.map { String(format: "%.2f", $0.bytesPerSecond / 1e9) }.joined(separator: ", ")))
            if streamed > 0 {
                print(String(format: "streaming   %@ per token ⇒ disk roofline %.3f tok/s; tg reaches %.0f%%",
                             formatDecimalBytes(streamed), diskRoof, r.generationTokensPerSecond.mean / diskRoof * 100))
                if let s = (model as? PlacedModel)?.streamer?.statistics {
                    print(String(format: "            %d layers streamed (%d through slots, %d through the page cache); waited %.2f s for reads, %.2f s releasing; reads took %.2f s (%.2f GB/s)",
                                 s.releasedUnits, s.slotUnits, s.pageCacheUnits, s.waitSeconds, s.releaseSeconds,
                                 s.readSeconds, Double(s.readBytes) / max(1e-9, s.readSeconds) / 1e9))
                }
            }
        }
    }

    /// One mode of `--compare-streaming`.
    struct ModeResult {
        var name: String
        var firstTokenSeconds: Double
        var report: BenchmarkReport
        var streamedBytesPerToken: Int
        var waitSeconds: Double?
    }

    /// Read-ahead on, read-ahead off, plain mmap: each from a cold page cache, each with its own peak RSS.
    func compare(_ loaded: LoadedModel, context: ComputeContext, capacity: Int, progress: @escaping (String) -> Void) throws {
        var probes: [DiskProbe.Result] = []
        var probe: [String] = []
        let modes: [(name: String, prefetch: Bool?, mode: LayerStreamer.Mode)] = [
            ("slots, read-ahead", true, .direct), ("slots, no read-ahead", false, .direct),
            ("page cache, read-ahead", true, .pageCache), ("page cache, no read-ahead", false, .pageCache),
            ("plain mmap, no budget", nil, .direct),
        ]
        var results: [ModeResult] = []
        for mode in modes {
            for f in loaded.checkpoint.files { Pages.dropCache(f.mapping) }
            SystemInfo.resetPeakResident()
            let model: any CausalLM
            var placed: RuntimePlacement?
            if let prefetch = mode.prefetch {
                (model, placed) = try placement.apply(to: loaded, kvCapacity: capacity, tokens: prompt, logitsRows: 1,
                                                      prefetch: prefetch, mode: mode.mode, quiet: json || !results.isEmpty)
            } else {
                model = loaded.model
            }
            progress("\(mode.name): first token, cold")
            let cache = model.makeCache(capacity: 2)
            let start = Date()
            _ = model.forward([1], cache: cache, logits: .last, context: context)
            let first = Date().timeIntervalSince(start)
            let r = Benchmark.run(model: model, promptTokens: prompt, generatedTokens: gen, repetitions: repetitions,
                                  context: context, loadSeconds: loaded.loadSeconds, fileBytes: loaded.checkpoint.fileBytes) {
                progress("\(mode.name): \($0)")
            }
            if probe.isEmpty {
                probe = probeFiles(loaded, placed)
                progress("disk read bandwidth")
                if let d = DiskProbe.measure(paths: probe) { probes.append(d) }
            }
            let wait = (model as? PlacedModel)?.streamer?.statistics.waitSeconds
            results.append(ModeResult(name: mode.name, firstTokenSeconds: first, report: r,
                                      streamedBytesPerToken: placed?.streamedBytesPerPass ?? 0, waitSeconds: wait))
        }
        for f in loaded.checkpoint.files { Pages.dropCache(f.mapping) }
        progress("disk read bandwidth")
        if let d = DiskProbe.measure(paths: probe) { probes.append(d) }
        if isatty(2) != 0 { note("") }
        let disk = DiskProbe.mean(probes)
        let bandwidth = disk?.bytesPerSecond ?? 0
        func roof(_ m: ModeResult) -> Double { m.streamedBytesPerToken > 0 && bandwidth > 0 ? bandwidth / Double(m.streamedBytesPerToken) : 0 }
        if json {
            print(try jsonString([
                "model": modelOptions.modelDirectory, "budget": placement.maxMemory ?? "",
                "disk": ["read_bytes_per_s": bandwidth, "method": disk?.method ?? "none",
                         "probes_bytes_per_s": probes.map(\.bytesPerSecond)],
                "file_bytes": loaded.checkpoint.fileBytes,
                "modes": results.map { m -> [String: Any] in
                    [
                        "mode": m.name, "first_token_s": m.firstTokenSeconds,
                        "tg_tokens_per_s": m.report.generationTokensPerSecond.mean, "tg_std": m.report.generationTokensPerSecond.std,
                        "pp_tokens_per_s": m.report.promptTokensPerSecond.mean, "peak_rss_bytes": m.report.peakResidentBytes,
                        "streamed_bytes_per_token": m.streamedBytesPerToken, "disk_roofline_tokens_per_s": roof(m),
                        "disk_roofline_fraction": roof(m) > 0 ? m.report.generationTokensPerSecond.mean / roof(m) : 0,
                        "read_ahead_wait_s": m.waitSeconds ?? 0,
                    ]
                },
            ]))
            return
        }
        print("model       \(modelOptions.modelDirectory), \(formatDecimalBytes(loaded.checkpoint.fileBytes)) of weights")
        print(String(format: "disk        %.2f GB/s sequential read (%@; mean of before and after: %@)", bandwidth / 1e9,
                     disk?.method ?? "not measured", probes.map { String(format: "%.2f", $0.bytesPerSecond / 1e9) }.joined(separator: ", ")))
        print("mode                       first token  tg tok/s         peak RSS    streamed/token  disk roofline")
        for m in results {
            let r = roof(m)
            let roofText = r > 0 ? String(format: "%.3f tok/s, %3.0f%%", r, m.report.generationTokensPerSecond.mean / r * 100) : "-"
            print(m.name.padding(toLength: 26, withPad: " ", startingAt: 0)
                  + String(format: " %9.2f s  %7.3f ± %.3f  ", m.firstTokenSeconds, m.report.generationTokensPerSecond.mean,
                           m.report.generationTokensPerSecond.std)
                  + formatDecimalBytes(m.report.peakResidentBytes).leftPad(10) + "  "
                  + (m.streamedBytesPerToken > 0 ? formatDecimalBytes(m.streamedBytesPerToken) : "-").leftPad(14) + "  " + roofText)
        }
    }

    /// The files a disk probe reads: those of the streamed units, in forward order (what a token reads), else all.
    func probeFiles(_ loaded: LoadedModel, _ placed: RuntimePlacement?) -> [String] {
        var paths: [String] = []
        for u in placed?.streamedUnits ?? [] where !u.sparse {
            for r in u.ranges where !paths.contains(r.file.path) { paths.append(r.file.path) }
        }
        return paths.isEmpty ? loaded.checkpoint.files.map(\.path) : paths
    }
}
