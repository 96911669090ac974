import ArgumentParser
import Foundation
import OrigamiModels
import OrigamiNN
import OrigamiQuant
import OrigamiRuntime

/// Options every model-running command shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Model directory (config.json, safetensors, tokenizer.json). Default: the model shipped in Models/default.")
    var model: String?

    @Option(name: .shortAndLong, help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Prompt-processing precision: f32 (exact) or bf16 (faster, BF16 dot products).")
    var prefillPrecision: String = "f32"

    @Option(help: ArgumentHelp("Quantize the linear layers while loading a float checkpoint, layer by layer.",
                               valueName: "int8|int8-zp|llm-int8|nf4|fp4"))
    var quantize: String?

    @Option(help: "Block size for --quantize nf4/fp4 (a power of two, 32…4096).")
    var quantizeBlockSize = QuantSpec.defaultBlockSize

    @Flag(help: "Double-quantize the absmax values with --quantize nf4/fp4.")
    var quantizeDoubleQuant = false

    func validate() throws {
        guard ComputeContext.PrefillPrecision(rawValue: prefillPrecision) != nil else {
            throw ValidationError("--prefill-precision must be f32 or bf16, not '\(prefillPrecision)'")
        }
        _ = try quantSpec()
    }

    /// The `--quantize` request, validated (nil without one).
    func quantSpec() throws -> QuantSpec? {
        guard let quantize else { return nil }
        do {
            let method = try QuantMethod(parsing: quantize)
            return try QuantSpec(method: method, blockSize: quantizeBlockSize, doubleQuant: quantizeDoubleQuant)
        } catch {
            throw ValidationError("--quantize: \(error)")
        }
    }

    /// The model directory to use: --model, else $ORIGAMI_DEFAULT_MODEL, else Models/default in the working directory
    /// or in the checkout this binary was built from.
    var modelDirectory: String {
        if let model { return model }
        if let env = ProcessInfo.processInfo.environment["ORIGAMI_DEFAULT_MODEL"] { return env }
        let local = "Models/default"
        if FileManager.default.fileExists(atPath: local + "/config.json") { return local }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Models/default").path
    }

    func makeContext() -> ComputeContext {
        ComputeContext(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
                       prefillPrecision: ComputeContext.PrefillPrecision(rawValue: prefillPrecision) ?? .f32)
    }

    func load() throws -> LoadedModel {
        try LoadedModel(directory: modelDirectory, quantize: try quantSpec())
    }
}

/// `--max-memory` and friends: layer placement under a RAM budget, streaming the rest from the checkpoint.
struct PlacementOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Most resident memory to use, e.g. 6GB or 6GiB (GB = 10^9, GiB = 2^30). Layers that fit stay resident; the rest are streamed from disk each token.",
        valueName: "size"))
    var maxMemory: String?

    @Option(help: ArgumentHelp("GPU memory to plan for (printed, not executed: there is no GPU backend yet).", valueName: "size"))
    var gpuMemory: String?

    @Flag(help: "Stream without reading the next layer ahead on a background thread (for comparison).")
    var noPrefetch = false

    @Option(help: "How streamed layers are read: direct (O_DIRECT into the layer's own addresses; falls back per layer) or page-cache.")
    var streaming: String = "direct"

    func validate() throws {
        guard LayerStreamer.Mode(rawValue: streaming) != nil else {
            throw ValidationError("--streaming must be direct or page-cache, not '\(streaming)'")
        }
        for (name, value) in [("--max-memory", maxMemory), ("--gpu-memory", gpuMemory)] {
            if let value {
                do { _ = try ByteSize.parse(value) } catch { throw ValidationError("\(name): \(error)") }
            }
        }
    }

    var isActive: Bool { maxMemory != nil || gpuMemory != nil }

    /// The model to run: `loaded.model` as it is, or placed under the budget (printed to stderr unless `quiet`).
    ///
    /// - Parameters:
    ///   - kvCapacity: positions of KV cache the command will allocate.
    ///   - tokens: the most tokens one forward pass will run.
    ///   - logitsRows: rows of logits that pass returns.
    ///   - prefetch: overrides `--no-prefetch`; `mode` overrides `--streaming`.
    func apply(to loaded: LoadedModel, kvCapacity: Int, tokens: Int, logitsRows: Int, prefetch: Bool? = nil,
               mode: LayerStreamer.Mode? = nil, quiet: Bool = false) throws -> (any CausalLM, RuntimePlacement?)
    {
        guard isActive else { return (loaded.model, nil) }
        let c = loaded.config
        let kv = 2 * c.numLayers * kvCapacity * c.numKVHeads * c.headDim * MemoryLayout<Float>.stride
        // Without --max-memory the RAM is unlimited and only the GPU plan is of interest.
        let budget = try maxMemory.map { try ByteSize.parse($0) } ?? Int.max / 4
        let placed = try PlacedModel.place(
            loaded.model, budget: budget, gpu: try gpuMemory.map { try ByteSize.parse($0) }, prefetch: prefetch ?? !noPrefetch,
            mode: mode ?? LayerStreamer.Mode(rawValue: streaming) ?? .direct,
            kvCacheBytes: kv, activationBytes: RuntimePlacement.activationBytes(c, tokens: tokens, logitsRows: logitsRows))
        if !quiet {
            for line in placed.placement.describe() { note("[placement] " + line) }
        }
        return (placed, placed.placement)
    }
}

/// Sampling flags, with llama.cpp's defaults.
struct SamplingOptions: ParsableArguments {
    @Option(name: [.customLong("temperature"), .customLong("temp")], help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0.8

    @Option(help: "Keep the k most likely tokens (0: off).")
    var topK: Int = 40

    @Option(help: "Keep the smallest set of tokens whose probability reaches p (1: off).")
    var topP: Float = 0.95

    @Option(help: "Drop tokens less likely than min-p × the most likely one (0: off).")
    var minP: Float = 0.05

    @Option(name: [.customLong("repeat-penalty"), .customLong("repetition-penalty")], help: "Penalty for repeating recent tokens (1: off).")
    var repeatPenalty: Float = 1.0

    @Option(help: "How many recent tokens the repeat penalty considers (0: all).")
    var repeatLastN: Int = 64

    @Option(help: "Random seed, for reproducible sampling.")
    var seed: UInt64?

    var parameters: SamplingParameters {
        SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP, repetitionPenalty: repeatPenalty,
                           repetitionWindow: repeatLastN, seed: seed)
    }
}

/// Writes to stdout at once (streaming output must not wait for a newline).
func emit(_ s: String) {
    FileHandle.standardOutput.write(Data(s.utf8))
}

/// Writes to stderr (progress and diagnostics stay out of the way of piped output).
func note(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

func jsonString(_ object: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self)
}
