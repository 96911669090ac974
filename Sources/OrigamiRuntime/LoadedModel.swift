public import OrigamiFormats
public import OrigamiModels
public import OrigamiNN
public import OrigamiQuant
public import OrigamiTokenizers
import Foundation

/// Why a model directory could not be opened, naming the file.
public enum LoadError: Error, CustomStringConvertible {
    case notADirectory(String)
    case config(ConfigError)
    case checkpoint(SafeTensorsError)
    case weights(NNError)
    case quantization(QuantError)
    case tokenizer(path: String, reason: String)

    public var description: String {
        switch self {
        case .notADirectory(let p): "\(p): not a model directory (expected config.json, *.safetensors, tokenizer.json)"
        case .config(let e): e.description
        case .checkpoint(let e): e.description
        case .weights(let e): e.description
        case .quantization(let e): e.description
        case .tokenizer(let p, let r): "\(p): \(r)"
        }
    }
}

/// A model directory opened for use: config, memory-mapped weights bound to the architecture, tokenizer.
public final class LoadedModel: Sendable {
    public let directory: String
    public let config: ModelConfig
    public let checkpoint: SafeTensorsCheckpoint
    public let model: any CausalLM
    public let tokenizer: Tokenizer
    public let generationConfig: GenerationConfig?
    /// Seconds spent opening and binding (the weights themselves are paged in on first use).
    public let loadSeconds: Double
    /// How the linear weights are stored or were quantized (nil: the checkpoint's float weights, used in place).
    public let quantization: String?

    /// - Parameters:
    ///   - quantize: quantize a float checkpoint's linear layers while binding them (`--quantize`); a checkpoint
    ///     that is already quantized (config.json `quantization_config`) binds its stored weights, and asking to
    ///     quantize it again is an error.
    public init(directory: String, quantize: QuantSpec? = nil) throws(LoadError) {
        let start = Date()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw .notADirectory(directory)
        }
        self.directory = directory
        let dir = URL(fileURLWithPath: directory)
        do { config = try ModelConfig(contentsOf: dir.appendingPathComponent("config.json").path) } catch let e as ConfigError {
            throw .config(e)
        } catch { throw .config(.unreadable(file: directory, reason: "\(error)")) }
        do { checkpoint = try SafeTensorsCheckpoint(path: directory) } catch { throw .checkpoint(error) }
        let choice: QuantBinding.Choice
        do {
            choice = try QuantBinding.choose(quantization: config.quantizationConfig, configFile: dir.appendingPathComponent("config.json").path,
                                             checkpoint: checkpoint, quantizeAtLoad: quantize)
        } catch { throw .quantization(error) }
        quantization = choice.summary
        do { model = try ModelRegistry.load(config: config, weights: WeightScope(checkpoint: checkpoint, binder: choice.binder)) } catch {
            throw .weights(error)
        }
        do { tokenizer = try Tokenizer(directory: dir) } catch {
            throw .tokenizer(path: dir.appendingPathComponent("tokenizer.json").path, reason: "\(error)")
        }
        let generation = dir.appendingPathComponent("generation_config.json")
        generationConfig = FileManager.default.fileExists(atPath: generation.path) ? try? GenerationConfig(contentsOf: generation) : nil
        loadSeconds = Date().timeIntervalSince(start)
    }

    /// Token ids that end generation: generation_config.json's, else the tokenizer's, else config.json's.
    public var eosTokenIds: Set<Int> {
        if let g = generationConfig?.eosTokenIds, !g.isEmpty { return Set(g) }
        if !tokenizer.eosTokenIds.isEmpty { return Set(tokenizer.eosTokenIds) }
        return Set(config.eosTokenIds)
    }
}
