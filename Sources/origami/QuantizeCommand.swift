import ArgumentParser
import Foundation
import OrigamiQuant
import OrigamiRuntime
import OrigamiTensor

/// `origami quantize --model DIR --method nf4 --output DIR`: write a quantized checkpoint.
struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantize a float checkpoint's linear layers (int8, int8-zp, llm-int8, nf4, fp4) into a new model directory.",
        discussion: """
            Embeddings and the LM head stay in float (bitsandbytes' default); --skip adds layers. The checkpoint is read \
            tensor by tensor from its memory mapping and the output is written into a temporary directory that is \
            renamed to --output at the end. --format bnb writes NF4/FP4 in the layout transformers + bitsandbytes \
            save_pretrained writes, so transformers loads it.
            """)

    @Option(name: .shortAndLong, help: "The float model directory (config.json, safetensors, tokenizer files).")
    var model: String

    @Option(help: ArgumentHelp("Quantization method.", valueName: "int8|int8-zp|llm-int8|nf4|fp4"))
    var method: String

    @Option(help: "Elements per absmax block for nf4/fp4 (a power of two, 32…4096).")
    var blockSize = QuantSpec.defaultBlockSize

    @Flag(help: "Double-quantize the nf4/fp4 absmax values (8-bit, blocks of 256, mean offset).")
    var doubleQuant = false

    @Option(help: "LLM.int8() outlier threshold (llm-int8).")
    var threshold = QuantSpec.defaultThreshold

    @Option(name: .customLong("skip"), help: "Keep layers matching this glob in float, e.g. '*.down_proj' (repeatable).")
    var skip: [String] = []

    @Flag(help: "Quantize the LM head too (bitsandbytes keeps it in float).")
    var quantizeLmHead = false

    @Option(help: ArgumentHelp("On-disk layout.", valueName: "origami|bnb"))
    var format = QuantizedFormat.origami.rawValue

    @Option(name: .shortAndLong, help: "The directory to create.")
    var output: String

    @Flag(help: "Print a JSON report.")
    var json = false

    func run() throws {
        let spec: QuantSpec
        let layout: QuantizedFormat
        do {
            spec = try QuantSpec(method: QuantMethod(parsing: method), blockSize: blockSize, doubleQuant: doubleQuant, threshold: threshold,
                                 skip: (quantizeLmHead ? [] : QuantSpec.defaultSkip) + skip)
            guard let f = QuantizedFormat(rawValue: format) else { throw ValidationError("--format must be origami or bnb, not '\(format)'") }
            layout = f
        } catch let e as QuantError {
            throw ValidationError("\(e)")
        }
        let bar = ProgressBar(enabled: isatty(2) != 0)
        let start = Date()
        let report = try ModelQuantizer.quantize(modelDirectory: model, spec: spec, format: layout, output: output) { p in
            bar.update(done: p.bytesDone, total: p.bytesTotal, label: p.tensor)
        }
        bar.finish()
        let seconds = Date().timeIntervalSince(start)
        if json {
            print(try jsonString([
                "output": output, "method": spec.method.rawValue, "format": layout.rawValue, "summary": spec.summary,
                "quantized_layers": report.quantizedLayers, "skipped_layers": report.skippedLayers,
                "quantized_parameters": report.quantizedParameters, "quantized_bytes": report.quantizedBytes,
                "bits_per_weight": report.bitsPerWeight, "input_bytes": report.inputBytes, "output_bytes": report.outputBytes,
                "files": report.files, "seconds": seconds,
            ]))
            return
        }
        print("quantized   \(report.quantizedLayers) linear layers (\(spec.summary)), \(report.skippedLayers.count) kept in float")
        print(String(format: "weights     %.3f bits per weight (codes + scales%@)", report.bitsPerWeight,
                     spec.method == .int8ZeroPoint ? " + zero points" : ""))
        print("size        \(formatBytes(report.inputBytes)) → \(formatBytes(report.outputBytes)) of tensors in \(report.files.joined(separator: ", "))")
        print(String(format: "wrote       %@ in %.1f s", output, seconds))
    }
}

/// A one-line progress bar on stderr, redrawn in place (nothing when stderr is not a terminal).
final class ProgressBar {
    let enabled: Bool
    private var lastDraw = Date.distantPast

    init(enabled: Bool) { self.enabled = enabled }

    func update(done: Int, total: Int, label: String) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.1 || done >= total else { return }
        lastDraw = Date()
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let shown = label.count > 48 ? "…" + label.suffix(47) : label
        FileHandle.standardError.write(Data(String(format: "\r\u{1B}[K%@ %3.0f%% %@ / %@  %@", bar, fraction * 100, formatBytes(done),
                                                   formatBytes(total), shown).utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
