import ArgumentParser
import Foundation
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
