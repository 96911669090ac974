import Foundation
import OrigamiFormats
import Testing

/// Expected values are the published configs' own numbers plus the defaults of the transformers config classes
/// (transformers 5.23: LlamaConfig, MistralConfig, Qwen2Config, FalconConfig, BloomConfig, OPTConfig, GPT2Config).
@Suite struct ModelConfigTests {
    func load(_ name: String) throws -> ModelConfig {
        try ModelConfig(contentsOf: fixtures.appendingPathComponent("configs/\(name).json").path)
    }

    func decode(_ json: String) throws -> ModelConfig { try ModelConfig(json: Data(json.utf8)) }

    @Test func llama2_70b() throws {
        let c = try load("llama-2-70b")
        #expect(c.family == .llama)
        #expect(c.hiddenSize == 8192 && c.numLayers == 80 && c.numHeads == 64 && c.numKVHeads == 8 && c.headDim == 128)
        #expect(c.intermediateSize == 28672 && c.vocabSize == 32000 && c.maxPositionEmbeddings == 4096)
        #expect(c.normEps == 1e-5 && c.norm == .rms && c.activation == "silu" && !c.tieWordEmbeddings)
        #expect(c.rope == RopeConfig(theta: 10000))
        #expect(c.torchDType == "float16" && c.bosTokenId == 1 && c.eosTokenIds == [2])
    }

    @Test func llama31RopeScaling() throws {
        let c = try load("llama-3.1-8b")
        #expect(c.rope == RopeConfig(theta: 500000, scaling: .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192)))
        #expect(c.eosTokenIds == [128001, 128008, 128009])
    }

    @Test func transformers5RopeParameters() throws {
        let c = try decode(#"{"model_type":"llama","hidden_size":64,"num_attention_heads":4,"rope_parameters":{"rope_type":"linear","factor":2.0,"rope_theta":5000.0}}"#)
        #expect(c.rope == RopeConfig(theta: 5000, scaling: .linear(factor: 2)))
        let y = try decode(#"{"model_type":"llama","max_position_embeddings":4096,"rope_scaling":{"type":"yarn","factor":4.0}}"#)
        #expect(y.rope?.scaling == .yarn(factor: 4, originalMaxPositions: 4096, betaFast: 32, betaSlow: 1,
                                         attentionFactor: nil, mscale: nil, mscaleAllDim: nil, truncate: true))
        let d = try decode(#"{"model_type":"llama","rope_scaling":{"type":"dynamic","factor":2.0}}"#)
        #expect(d.rope?.scaling == .dynamic(factor: 2, originalMaxPositions: 2048))
    }

    @Test func llamaDefaults() throws {
        let c = try decode(#"{"model_type":"llama"}"#)
        #expect(c.vocabSize == 32000 && c.hiddenSize == 4096 && c.intermediateSize == 11008 && c.numLayers == 32)
        #expect(c.numKVHeads == 32 && c.maxPositionEmbeddings == 2048 && c.normEps == 1e-6)
        let o = try #require(c.llama)
        #expect(!o.attentionBias && !o.qkvBias && !o.mlpBias && o.slidingWindow == nil)
    }

    @Test func mistralSlidingWindow() throws {
        let c = try load("mistral-7b")
        #expect(c.family == .mistral && c.numKVHeads == 8 && c.llama?.slidingWindow == 4096)
        #expect(try decode(#"{"model_type":"mistral","sliding_window":null}"#).llama?.slidingWindow == nil)
        #expect(try decode(#"{"model_type":"mistral"}"#).llama?.slidingWindow == 4096)
    }

    @Test func qwen2() throws {
        let c = try load("qwen2-7b")
        #expect(c.family == .qwen2 && c.llama?.qkvBias == true && c.llama?.attentionBias == false)
        #expect(c.numKVHeads == 4 && c.headDim == 128 && c.normEps == 1e-6 && c.rope?.theta == 1_000_000)
        #expect(c.llama?.slidingWindow == nil)
        #expect(try decode(#"{"model_type":"qwen2"}"#).bosTokenId == nil)
    }

    @Test func falcon180b() throws {
        let c = try load("falcon-180b")
        #expect(c.family == .falcon && c.hiddenSize == 14848 && c.numHeads == 232 && c.numKVHeads == 8 && c.numLayers == 80)
        #expect(c.headDim == 64 && c.intermediateSize == 4 * 14848 && c.norm == .layer && c.activation == "gelu")
        let f = try #require(c.falcon)
        #expect(f.newDecoderArchitecture && f.parallelAttention && !f.bias && f.numLayerNormsInParallelAttention == 2)
        #expect(c.tieWordEmbeddings && c.rope == RopeConfig(theta: 10000))
    }

    @Test func falconRWSpellings() throws {
        let seven = try load("falcon-7b-rw")
        #expect(seven.family == .falcon && seven.numHeads == 71 && seven.numLayers == 32 && seven.numKVHeads == 1)
        #expect(seven.falcon?.newDecoderArchitecture == false && seven.falcon?.numLayerNormsInParallelAttention == 1)
        let forty = try load("falcon-40b-rw")
        #expect(forty.numHeads == 128 && forty.numKVHeads == 8 && forty.numLayers == 60)
        #expect(forty.falcon?.newDecoderArchitecture == true)
        let alibi = try decode(#"{"model_type":"falcon","alibi":true,"multi_query":false,"parallel_attn":false,"hidden_size":64,"num_attention_heads":4}"#)
        #expect(alibi.positions == .alibi && alibi.numKVHeads == 4 && alibi.falcon?.parallelAttention == false)
    }

    @Test func bloom176b() throws {
        let c = try load("bloom-176b")
        #expect(c.family == .bloom && c.hiddenSize == 14336 && c.numHeads == 112 && c.numLayers == 70)
        #expect(c.intermediateSize == 4 * 14336 && c.positions == .alibi && c.tieWordEmbeddings && c.padTokenId == 3)
    }

    @Test func opt175b() throws {
        let c = try load("opt-175b")
        #expect(c.family == .opt && c.hiddenSize == 12288 && c.numLayers == 96 && c.intermediateSize == 49152)
        #expect(c.positions == .learned(offset: 2) && c.activation == "relu" && c.opt?.wordEmbedProjDim == 12288)
        let post = try decode(#"{"model_type":"opt","do_layer_norm_before":false,"hidden_size":64,"word_embed_proj_dim":32,"num_attention_heads":4}"#)
        #expect(post.opt?.doLayerNormBefore == false && post.opt?.wordEmbedProjDim == 32 && post.padTokenId == 1)
    }

    @Test func gpt2Defaults() throws {
        let c = try decode(#"{"model_type":"gpt2"}"#)
        #expect(c.vocabSize == 50257 && c.hiddenSize == 768 && c.numLayers == 12 && c.numHeads == 12)
        #expect(c.intermediateSize == 3072 && c.maxPositionEmbeddings == 1024 && c.activation == "gelu_new")
        #expect(c.positions == .learned(offset: 0) && c.tieWordEmbeddings && c.eosTokenIds == [50256])
    }

    @Test func unknownModelTypeListsSupportedOnes() throws {
        do {
            _ = try decode(#"{"model_type":"mamba"}"#)
            Issue.record("expected an error")
        } catch let e as ConfigError {
            #expect(e == .unsupportedModelType(file: "config.json", modelType: "mamba", supported: ModelFamily.supportedModelTypes))
            #expect(e.description.contains("llama") && e.description.contains("RefinedWeb"))
        }
    }

    @Test func errorsCarryTheJSONPath() throws {
        #expect(throws: ConfigError.invalidValue(file: "config.json", path: "$.num_attention_heads", reason: "expected an integer, found a string")) {
            try decode(#"{"model_type":"llama","num_attention_heads":"32"}"#)
        }
        #expect(throws: ConfigError.missingKey(file: "config.json", path: "$.rope_scaling.factor")) {
            try decode(#"{"model_type":"llama","rope_scaling":{"type":"linear"}}"#)
        }
        #expect(throws: ConfigError.unsupported(file: "config.json", path: "$.rope_scaling.rope_type",
                                                reason: "rope type 'longrope' is not supported (default, linear, dynamic, llama3, yarn)")) {
            try decode(#"{"model_type":"llama","rope_scaling":{"rope_type":"longrope","factor":2}}"#)
        }
        #expect(throws: ConfigError.invalidValue(file: "config.json", path: "$.num_key_value_heads", reason: "3 KV heads do not divide 32 attention heads")) {
            try decode(#"{"model_type":"llama","num_key_value_heads":3}"#)
        }
        #expect(throws: ConfigError.invalidValue(file: "config.json", path: "$.hidden_size", reason: "must be positive, found 0")) {
            try decode(#"{"model_type":"gpt2","n_embd":0}"#.replacingOccurrences(of: "n_embd", with: "hidden_size").replacingOccurrences(of: "gpt2", with: "llama"))
        }
        #expect(throws: ConfigError.notJSON(file: "config.json", byteOffset: 16, reason: "expected a string key")) {
            try decode(#"{"model_type":1,}"#)
        }
        #expect(throws: ConfigError.invalidValue(file: "config.json", path: "$", reason: "expected an object, found an array")) {
            try decode("[]")
        }
    }
}
