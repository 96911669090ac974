public import Foundation

/// The architecture families Origami runs, keyed by Hugging Face `model_type`.
public enum ModelFamily: String, Sendable, CaseIterable {
    case llama, mistral, qwen2, falcon, bloom, opt, gpt2

    /// `model_type` spellings accepted for each family (Falcon's pre-transformers `RW` checkpoints say
    /// `RefinedWebModel` (7B layout) or `RefinedWeb` (40B layout)).
    static let modelTypes: [String: ModelFamily] = [
        "llama": .llama, "mistral": .mistral, "qwen2": .qwen2, "falcon": .falcon, "RefinedWebModel": .falcon,
        "RefinedWeb": .falcon, "bloom": .bloom, "opt": .opt, "gpt2": .gpt2,
    ]
    public static var supportedModelTypes: [String] { modelTypes.keys.sorted() }
}

/// Rotary position embedding parameters, after transformers' defaulting (`rope_parameters` in transformers 5
/// config files, `rope_theta` + `rope_scaling` in older ones).
public struct RopeConfig: Sendable, Equatable {
    public var theta: Double
    public var scaling: RopeScaling
    /// Fraction of each head's dimensions that rotate (1 for every model here).
    public var partialRotaryFactor: Double

    public init(theta: Double, scaling: RopeScaling = .none, partialRotaryFactor: Double = 1) {
        self.theta = theta
        self.scaling = scaling
        self.partialRotaryFactor = partialRotaryFactor
    }
}

public enum RopeScaling: Sendable, Equatable {
    case none
    /// Positions divided by `factor`.
    case linear(factor: Double)
    /// NTK-aware base growth once the sequence passes `originalMaxPositions`.
    case dynamic(factor: Double, originalMaxPositions: Int)
    /// Llama 3.1's wavelength-banded frequency scaling.
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int)
    /// YaRN: ramped interpolation between scaled and unscaled frequencies, with an attention temperature.
    case yarn(factor: Double, originalMaxPositions: Int, betaFast: Double, betaSlow: Double,
              attentionFactor: Double?, mscale: Double?, mscaleAllDim: Double?, truncate: Bool)
}

/// How a model knows where a token is.
public enum PositionEncoding: Sendable, Equatable {
    case rotary(RopeConfig)
    case alibi
    /// A learned table; OPT reads row `position + offset` (offset 2).
    case learned(offset: Int)
}

public enum NormKind: String, Sendable { case rms, layer }

/// Family-specific switches that change the block's wiring.
public enum ArchitectureOptions: Sendable, Equatable {
    case llama(LlamaOptions)
    case falcon(FalconOptions)
    case bloom(BloomOptions)
    case opt(OPTOptions)
    case gpt2(GPT2Options)
}

public struct LlamaOptions: Sendable, Equatable {
    public var attentionBias: Bool
    /// Qwen2: q/k/v carry biases, o_proj does not.
    public var qkvBias: Bool
    public var mlpBias: Bool
    /// Mistral / Qwen2: attend only to the last `slidingWindow` positions (nil: full attention).
    public var slidingWindow: Int?
    /// Qwen2: layers at or past this index use the sliding window.
    public var slidingWindowFromLayer: Int
}

public struct FalconOptions: Sendable, Equatable {
    public var newDecoderArchitecture: Bool
    public var multiQuery: Bool
    public var parallelAttention: Bool
    public var bias: Bool
    /// 2: separate `ln_attn` / `ln_mlp` (40B/180B); 1: one `input_layernorm`.
    public var numLayerNormsInParallelAttention: Int
}

public struct BloomOptions: Sendable, Equatable {
    public var applyResidualConnectionPostLayernorm: Bool
}

public struct OPTOptions: Sendable, Equatable {
    public var doLayerNormBefore: Bool
    public var wordEmbedProjDim: Int
    public var enableBias: Bool
    public var layerNormElementwiseAffine: Bool
    public var removeFinalLayerNorm: Bool
}

public struct GPT2Options: Sendable, Equatable {
    public var scaleAttentionWeights: Bool
    public var scaleAttentionByInverseLayerIndex: Bool
}

/// A Hugging Face config.json, decoded into what the engine needs, with the defaults transformers applies.
public struct ModelConfig: Sendable, Equatable {
    public var family: ModelFamily
    /// `model_type` as written in the file.
    public var modelType: String
    public var architectures: [String]
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var numKVHeads: Int
    public var headDim: Int
    /// Width of the feed-forward block.
    public var intermediateSize: Int
    public var maxPositionEmbeddings: Int
    public var norm: NormKind
    public var normEps: Double
    /// Hugging Face activation name (`silu`, `gelu`, `gelu_new`, `relu`, `gelu_pytorch_tanh`).
    public var activation: String
    public var tieWordEmbeddings: Bool
    public var positions: PositionEncoding
    public var options: ArchitectureOptions
    /// `torch_dtype` (or transformers 5's `dtype`), e.g. "float16".
    public var torchDType: String?
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var padTokenId: Int?
    /// `quantization_config`, kept raw for the quantized weight loaders.
    public var quantizationConfig: JSONValue?

    public var rope: RopeConfig? { if case .rotary(let r) = positions { r } else { nil } }
    public var llama: LlamaOptions? { if case .llama(let o) = options { o } else { nil } }
    public var falcon: FalconOptions? { if case .falcon(let o) = options { o } else { nil } }
    public var bloom: BloomOptions? { if case .bloom(let o) = options { o } else { nil } }
    public var opt: OPTOptions? { if case .opt(let o) = options { o } else { nil } }
    public var gpt2: GPT2Options? { if case .gpt2(let o) = options { o } else { nil } }

    /// Reads `config.json` from a model directory, or the given file.
    public init(contentsOf path: String) throws {
        var isDir: ObjCBool = false
        let file = FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
            ? URL(fileURLWithPath: path).appendingPathComponent("config.json").path : path
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw ConfigError.unreadable(file: file, reason: (error as NSError).localizedDescription)
        }
        try self.init(json: data, file: file)
    }

    public init(json data: Data, file: String = "config.json") throws {
        let value: JSONValue
        do { value = try JSONParser.parse(data) } catch {
            throw ConfigError.notJSON(file: file, byteOffset: error.offset, reason: error.message)
        }
        let r = try JSONObjectReader(file: file, value: value)
        guard let modelType = try r.string("model_type") else {
            throw ConfigError.unsupportedModelType(file: file, modelType: "(missing)", supported: ModelFamily.supportedModelTypes)
        }
        guard let family = ModelFamily.modelTypes[modelType] else {
            throw ConfigError.unsupportedModelType(file: file, modelType: modelType, supported: ModelFamily.supportedModelTypes)
        }
        self = try Self.decode(family: family, modelType: modelType, reader: r)
        architectures = try r.strings("architectures") ?? []
        torchDType = try r.string("torch_dtype") ?? r.string("dtype")
        quantizationConfig = r.value["quantization_config"]
        try validate(file: file)
    }

    init(family: ModelFamily, modelType: String, vocabSize: Int, hiddenSize: Int, numLayers: Int, numHeads: Int,
         numKVHeads: Int, headDim: Int, intermediateSize: Int, maxPositionEmbeddings: Int, norm: NormKind,
         normEps: Double, activation: String, tieWordEmbeddings: Bool, positions: PositionEncoding,
         options: ArchitectureOptions, bosTokenId: Int?, eosTokenIds: [Int], padTokenId: Int?)
    {
        self.family = family
        self.modelType = modelType
        architectures = []
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.numKVHeads = numKVHeads
        self.headDim = headDim
        self.intermediateSize = intermediateSize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.norm = norm
        self.normEps = normEps
        self.activation = activation
        self.tieWordEmbeddings = tieWordEmbeddings
        self.positions = positions
        self.options = options
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
    }

    /// Rejects what cannot run: heads that do not divide, KV heads that do not divide heads.
    func validate(file: String) throws {
        guard numHeads % numKVHeads == 0 else {
            throw ConfigError.invalidValue(file: file, path: "$.num_key_value_heads",
                                reason: "\(numKVHeads) KV heads do not divide \(numHeads) attention heads")
        }
        if family != .llama && family != .mistral && family != .qwen2 {
            guard hiddenSize % numHeads == 0 else {
                throw ConfigError.invalidValue(file: file, path: "$.hidden_size",
                                    reason: "hidden size \(hiddenSize) is not a multiple of \(numHeads) heads")
            }
        }
        if let r = rope, r.partialRotaryFactor != 1 {
            throw ConfigError.unsupported(file: file, path: "$.partial_rotary_factor", reason: "partial rotary embeddings are not supported")
        }
    }
}
