import Foundation
public import OrigamiFormats
import OrigamiModels
import OrigamiNN
public import OrigamiQuant

/// `origami quantize`: a float model directory in, a quantized one out.
///
/// The linear layers are found by binding the model with its architecture (the same code that loads it), so
/// exactly the weights that run through `Linear` are quantized, and embeddings, norms and biases are copied. The
/// output is written into a temporary directory beside `output` and renamed at the end: `output` either does not
/// exist or is complete.
public enum ModelQuantizer {
    /// Files of a model directory that are not weights and are copied unchanged.
    public static let companionFiles = [
        "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
        "tokenizer.model", "vocab.json", "vocab.txt", "merges.txt", "chat_template.json", "chat_template.jinja",
    ]

    /// - Throws: `QuantError` (an existing output, a checkpoint that is already quantized, `--format bnb` with an
    ///   8-bit method, unreadable input, write failures).
    public static func quantize(modelDirectory: String, spec: QuantSpec, format: QuantizedFormat, output: String,
                                maxShardBytes: Int = QuantizedCheckpointWriter.defaultMaxShardBytes,
                                progress: (QuantizeProgress) -> Void = { _ in }) throws(QuantError) -> QuantizeReport
    {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: output) else { throw .outputExists(output) }
        let dir = URL(fileURLWithPath: modelDirectory)
        let configPath = dir.appendingPathComponent("config.json").path
        let config: ModelConfig
        do { config = try ModelConfig(contentsOf: configPath) } catch let e as ConfigError {
            throw .invalidConfig(file: configPath, path: "$", reason: e.description)
        } catch { throw .io(path: configPath, reason: "\(error)") }
        if let q = try CheckpointQuantization.parse(config.quantizationConfig, file: configPath) {
            throw .alreadyQuantized(file: configPath, method: q.summary)
        }
        let checkpoint: SafeTensorsCheckpoint
        do { checkpoint = try SafeTensorsCheckpoint(path: modelDirectory) } catch { throw .checkpoint(error) }
        let layers = try linearLayers(config: config, checkpoint: checkpoint)

        let temporary = output.hasSuffix("/") ? String(output.dropLast()) + ".tmp-\(getpid())" : output + ".tmp-\(getpid())"
        try? fm.removeItem(atPath: temporary)
        do { try fm.createDirectory(atPath: temporary, withIntermediateDirectories: true) } catch {
            throw .io(path: temporary, reason: "cannot create: \(error.localizedDescription)")
        }
        do throws(QuantError) {
            let report = try QuantizedCheckpointWriter.write(source: checkpoint, layers: layers, spec: spec, format: format, to: temporary,
                                                             maxShardBytes: maxShardBytes, progress: progress)
            try writeConfig(from: configPath, to: URL(fileURLWithPath: temporary).appendingPathComponent("config.json").path,
                            spec: spec, format: format, skipped: report.skippedLayers)
            for name in companionFiles {
                let from = dir.appendingPathComponent(name)
                guard fm.fileExists(atPath: from.path) else { continue }
                do { try fm.copyItem(at: from, to: URL(fileURLWithPath: temporary).appendingPathComponent(name)) } catch {
                    throw QuantError.io(path: from.path, reason: "cannot copy: \(error.localizedDescription)")
                }
            }
            guard rename(temporary, output) == 0 else {
                throw QuantError.io(path: output, reason: "cannot rename \(temporary) to it: \(String(cString: strerror(errno)))")
            }
            return report
        } catch {
            try? fm.removeItem(atPath: temporary)
            throw error
        }
    }

    /// The linear layers of the model, in binding order, found by binding it with a binder that records them.
    public static func linearLayers(config: ModelConfig, checkpoint: SafeTensorsCheckpoint) throws(QuantError) -> [LinearLayerInfo] {
        let recorder = LayerRecorder()
        do { _ = try ModelRegistry.load(config: config, weights: WeightScope(checkpoint: checkpoint, binder: RecordingBinder(recorder: recorder))) } catch {
            throw .weights(error)
        }
        return recorder.layers
    }

    /// config.json with `quantization_config` added, keys sorted and indented as transformers writes it.
    static func writeConfig(from source: String, to path: String, spec: QuantSpec, format: QuantizedFormat, skipped: [String]) throws(QuantError) {
        let value: JSONValue
        do { value = try JSONParser.parse(Data(contentsOf: URL(fileURLWithPath: source))) } catch {
            throw .invalidConfig(file: source, path: "$", reason: "\(error)")
        }
        guard var fields = value.objectValue else { throw .invalidConfig(file: source, path: "$", reason: "not an object") }
        let q: JSONValue
        switch format {
        case .origami: q = OrigamiQuantFormat.json(spec)
        case .bnb:
            // transformers' own default (the output layer in float) is written as null, as transformers writes it;
            // anything else lists the skipped layers by full name, which its pattern match reads back exactly.
            let skip: [String]? = spec.skip == QuantSpec.defaultSkip ? nil : skipped
            q = BitsAndBytesConfig(quantType: spec.method.fourBitType!, doubleQuant: spec.doubleQuant, skipModules: skip).json
        }
        fields.removeAll { $0.key == "quantization_config" }
        fields.append((key: "quantization_config", value: q))
        let text = PythonJSON.dumps(.object(fields)) + "\n"
        let bytes = Array(text.utf8)
        do {
            try AtomicFile.write(to: path) { handle throws(SafeTensorsError) in try handle.write(bytes) }
        } catch { throw .checkpoint(error) }
    }
}

/// Collects the layers a model binds (binding runs on one thread; the lock makes the box honestly Sendable).
final class LayerRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [LinearLayerInfo] = []

    func append(_ l: LinearLayerInfo) {
        lock.lock()
        list.append(l)
        lock.unlock()
    }

    var layers: [LinearLayerInfo] {
        lock.lock()
        defer { lock.unlock() }
        return list
    }
}

/// Binds densely (views only: no weight data is read) and records each linear layer.
struct RecordingBinder: LinearBinder {
    let recorder: LayerRecorder

    func bindLinear(_ layer: WeightScope, inFeatures: Int, outFeatures: Int, transposed: Bool) throws(NNError) -> any LinearWeight {
        recorder.append(LinearLayerInfo(name: layer.prefix, inFeatures: inFeatures, outFeatures: outFeatures, transposed: transposed))
        return try DenseBinder().bindLinear(layer, inFeatures: inFeatures, outFeatures: outFeatures, transposed: transposed)
    }
}
