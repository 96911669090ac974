/// Decoding per family, with the keys and defaults each transformers config class uses.
extension ModelConfig {
    static func decode(family: ModelFamily, modelType: String, reader r: JSONObjectReader) throws -> ModelConfig {
        switch family {
        case .llama, .mistral, .qwen2: try decodeLlama(family: family, modelType: modelType, r)
        case .falcon: try decodeFalcon(modelType: modelType, r)
        case .bloom: try decodeBloom(modelType: modelType, r)
        case .opt: try decodeOPT(modelType: modelType, r)
        case .gpt2: try decodeGPT2(modelType: modelType, r)
        }
    }

    /// LlamaConfig, MistralConfig and Qwen2Config.
    static func decodeLlama(family: ModelFamily, modelType: String, _ r: JSONObjectReader) throws -> ModelConfig {
        let defaults: (vocab: Int, hidden: Int, ffn: Int, kv: Int?, maxPos: Int, bos: Int?, eos: [Int]) = switch family {
        case .mistral: (32000, 4096, 14336, 8, 4096 * 32, 1, [2])
        case .qwen2: (151936, 4096, 22016, 32, 32768, nil, [])
        default: (32000, 4096, 11008, nil, 2048, 1, [2])
        }
        let hidden = try r.positiveInt("hidden_size", default: defaults.hidden)
        let heads = try r.positiveInt("num_attention_heads", default: 32)
        let kv = try r.positiveInt("num_key_value_heads", default: defaults.kv ?? heads)
        let headDim = try r.positiveInt("head_dim", default: hidden / heads)
        let layers = try r.positiveInt("num_hidden_layers", default: 32)
        let maxPos = try r.positiveInt("max_position_embeddings", default: defaults.maxPos)
        var window: Int?
        var windowFrom = 0
        switch family {
        case .mistral:
            window = r.has("sliding_window") ? try r.positiveInt("sliding_window") : (r.value["sliding_window"] == .null ? nil : 4096)
        case .qwen2:
            if try r.bool("use_sliding_window", default: false) {
                window = try r.positiveInt("sliding_window", default: 4096)
                windowFrom = try r.int("max_window_layers", default: 28)
            }
        default: break
        }
        let options = LlamaOptions(
            attentionBias: try r.bool("attention_bias", default: false),
            qkvBias: family == .qwen2 ? true : try r.bool("attention_bias", default: false),
            mlpBias: try r.bool("mlp_bias", default: false),
            slidingWindow: window, slidingWindowFromLayer: windowFrom)
        return ModelConfig(
            family: family, modelType: modelType,
            vocabSize: try r.positiveInt("vocab_size", default: defaults.vocab), hiddenSize: hidden, numLayers: layers,
            numHeads: heads, numKVHeads: kv, headDim: headDim,
            intermediateSize: try r.positiveInt("intermediate_size", default: defaults.ffn), maxPositionEmbeddings: maxPos,
            norm: .rms, normEps: try r.double("rms_norm_eps", default: 1e-6),
            activation: try r.string("hidden_act") ?? "silu",
            tieWordEmbeddings: try r.bool("tie_word_embeddings", default: false),
            positions: .rotary(try decodeRope(r, maxPositions: maxPos)),
            options: .llama(options),
            bosTokenId: r.has("bos_token_id") ? try r.int("bos_token_id") : (r.value["bos_token_id"] == nil ? defaults.bos : nil),
            eosTokenIds: try r.intList("eos_token_id") ?? (r.value["eos_token_id"] == nil ? defaults.eos : []),
            padTokenId: try r.int("pad_token_id"))
    }

    /// FalconConfig, and the older RW configs (`n_head`, `n_layer`, `n_head_kv`, `n_embed`).
    static func decodeFalcon(modelType: String, _ r: JSONObjectReader) throws -> ModelConfig {
        let hidden = try r.positiveInt(r.has("n_embed") ? "n_embed" : "hidden_size", default: 4544)
        let heads = try r.positiveInt(r.has("n_head") ? "n_head" : "num_attention_heads", default: 71)
        let layers = try r.positiveInt(r.has("n_layer") ? "n_layer" : "num_hidden_layers", default: 32)
        // The RW code chose the decoder by model_type: "RefinedWeb" is the 40B layout.
        let newArch = try r.bool("new_decoder_architecture", default: modelType == "RefinedWeb")
        let multiQuery = try r.bool("multi_query", default: true)
        let parallel = try r.bool("parallel_attn", default: true)
        let kvKey = r.has("n_head_kv") ? "n_head_kv" : "num_kv_heads"
        var kv = try r.positiveInt(kvKey, default: heads)
        if !newArch { kv = multiQuery ? 1 : heads }
        let alibi = try r.bool("alibi", default: false)
        let maxPos = try r.positiveInt("max_position_embeddings", default: 2048)
        let options = FalconOptions(
            newDecoderArchitecture: newArch, multiQuery: multiQuery, parallelAttention: newArch || parallel,
            bias: try r.bool("bias", default: false),
            numLayerNormsInParallelAttention: try r.int("num_ln_in_parallel_attn") ?? (newArch ? 2 : 1))
        return ModelConfig(
            family: .falcon, modelType: modelType,
            vocabSize: try r.positiveInt("vocab_size", default: 65024), hiddenSize: hidden, numLayers: layers,
            numHeads: heads, numKVHeads: kv, headDim: hidden / heads,
            intermediateSize: try r.positiveInt("ffn_hidden_size", default: hidden * 4), maxPositionEmbeddings: maxPos,
            norm: .layer, normEps: try r.double("layer_norm_epsilon", default: 1e-5),
            activation: try r.string("activation") ?? "gelu",
            tieWordEmbeddings: try r.bool("tie_word_embeddings", default: true),
            positions: alibi ? .alibi : .rotary(try decodeRope(r, maxPositions: maxPos)),
            options: .falcon(options),
            bosTokenId: try r.int("bos_token_id") ?? 11, eosTokenIds: try r.intList("eos_token_id") ?? [11],
            padTokenId: try r.int("pad_token_id"))
    }

    static func decodeBloom(modelType: String, _ r: JSONObjectReader) throws -> ModelConfig {
        let hidden = try r.positiveInt(r.has("n_embed") ? "n_embed" : "hidden_size", default: 64)
        let heads = try r.positiveInt(r.has("num_attention_heads") ? "num_attention_heads" : "n_head", default: 8)
        let layers = try r.positiveInt(r.has("num_hidden_layers") ? "num_hidden_layers" : "n_layer", default: 2)
        return ModelConfig(
            family: .bloom, modelType: modelType,
            vocabSize: try r.positiveInt("vocab_size", default: 250880), hiddenSize: hidden, numLayers: layers,
            numHeads: heads, numKVHeads: heads, headDim: hidden / heads, intermediateSize: 4 * hidden,
            maxPositionEmbeddings: try r.positiveInt("seq_length", default: 2048),
            norm: .layer, normEps: try r.double("layer_norm_epsilon", default: 1e-5), activation: "gelu_pytorch_tanh",
            tieWordEmbeddings: try r.bool("tie_word_embeddings", default: true), positions: .alibi,
            options: .bloom(BloomOptions(
                applyResidualConnectionPostLayernorm: try r.bool("apply_residual_connection_post_layernorm", default: false))),
            bosTokenId: try r.int("bos_token_id") ?? 1, eosTokenIds: try r.intList("eos_token_id") ?? [2],
            padTokenId: try r.int("pad_token_id"))
    }

    static func decodeOPT(modelType: String, _ r: JSONObjectReader) throws -> ModelConfig {
        let hidden = try r.positiveInt("hidden_size", default: 768)
        let heads = try r.positiveInt("num_attention_heads", default: 12)
        let options = OPTOptions(
            doLayerNormBefore: try r.bool("do_layer_norm_before", default: true),
            wordEmbedProjDim: try r.positiveInt("word_embed_proj_dim", default: hidden),
            enableBias: try r.bool("enable_bias", default: true),
            layerNormElementwiseAffine: try r.bool("layer_norm_elementwise_affine", default: true),
            removeFinalLayerNorm: try r.bool("_remove_final_layer_norm", default: false))
        return ModelConfig(
            family: .opt, modelType: modelType,
            vocabSize: try r.positiveInt("vocab_size", default: 50272), hiddenSize: hidden,
            numLayers: try r.positiveInt("num_hidden_layers", default: 12), numHeads: heads, numKVHeads: heads,
            headDim: hidden / heads, intermediateSize: try r.positiveInt("ffn_dim", default: 3072),
            maxPositionEmbeddings: try r.positiveInt("max_position_embeddings", default: 2048),
            norm: .layer, normEps: 1e-5, activation: try r.string("activation_function") ?? "relu",
            tieWordEmbeddings: try r.bool("tie_word_embeddings", default: true), positions: .learned(offset: 2),
            options: .opt(options),
            bosTokenId: try r.int("bos_token_id") ?? 2, eosTokenIds: try r.intList("eos_token_id") ?? [2],
            padTokenId: r.value["pad_token_id"] == nil ? 1 : try r.int("pad_token_id"))
    }

    static func decodeGPT2(modelType: String, _ r: JSONObjectReader) throws -> ModelConfig {
        let hidden = try r.positiveInt("n_embd", default: 768)
        let heads = try r.positiveInt("n_head", default: 12)
        return ModelConfig(
            family: .gpt2, modelType: modelType,
            vocabSize: try r.positiveInt("vocab_size", default: 50257), hiddenSize: hidden,
            numLayers: try r.positiveInt("n_layer", default: 12), numHeads: heads, numKVHeads: heads,
            headDim: hidden / heads, intermediateSize: try r.positiveInt("n_inner", default: 4 * hidden),
            maxPositionEmbeddings: try r.positiveInt("n_positions", default: 1024),
            norm: .layer, normEps: try r.double("layer_norm_epsilon", default: 1e-5),
            activation: try r.string("activation_function") ?? "gelu_new",
            tieWordEmbeddings: try r.bool("tie_word_embeddings", default: true), positions: .learned(offset: 0),
            options: .gpt2(GPT2Options(
                scaleAttentionWeights: try r.bool("scale_attn_weights", default: true),
                scaleAttentionByInverseLayerIndex: try r.bool("scale_attn_by_inverse_layer_idx", default: false))),
            bosTokenId: try r.int("bos_token_id") ?? 50256, eosTokenIds: try r.intList("eos_token_id") ?? [50256],
            padTokenId: try r.int("pad_token_id"))
    }

    /// `rope_parameters` (transformers 5) wins over `rope_scaling` + `rope_theta` (older files).
    static func decodeRope(_ r: JSONObjectReader, maxPositions: Int) throws -> RopeConfig {
        let scaling = try r.object("rope_parameters") ?? r.object("rope_scaling")
        let theta = try scaling?.double("rope_theta") ?? r.double("rope_theta", default: 10000)
        let partial = try scaling?.double("partial_rotary_factor") ?? r.double("partial_rotary_factor", default: 1)
        guard let s = scaling else { return RopeConfig(theta: theta, partialRotaryFactor: partial) }
        let kind = try s.string("rope_type") ?? s.string("type") ?? "default"
        let originalMax = try s.int("original_max_position_embeddings") ?? r.int("original_max_position_embeddings") ?? maxPositions
        func factor() throws -> Double {
            guard let f = try s.double("factor") else { throw ConfigError.missingKey(file: s.file, path: s.keyPath("factor")) }
            guard f >= 1 || kind == "linear" else { throw ConfigError.invalidValue(file: s.file, path: s.keyPath("factor"), reason: "must be ≥ 1, found \(f)") }
            return f
        }
        let parsed: RopeScaling
        switch kind {
        case "default": parsed = .none
        case "linear": parsed = .linear(factor: try factor())
        case "dynamic": parsed = .dynamic(factor: try factor(), originalMaxPositions: originalMax)
        case "llama3":
            parsed = .llama3(factor: try factor(), lowFreqFactor: try s.double("low_freq_factor", default: 1),
                             highFreqFactor: try s.double("high_freq_factor", default: 4), originalMaxPositions: originalMax)
        case "yarn":
            parsed = .yarn(factor: try factor(), originalMaxPositions: originalMax,
                           betaFast: try s.double("beta_fast", default: 32), betaSlow: try s.double("beta_slow", default: 1),
                           attentionFactor: try s.double("attention_factor"), mscale: try s.double("mscale"),
                           mscaleAllDim: try s.double("mscale_all_dim"), truncate: try s.bool("truncate", default: true))
        default:
            throw ConfigError.unsupported(file: s.file, path: s.keyPath(s.has("rope_type") ? "rope_type" : "type"),
                               reason: "rope type '\(kind)' is not supported (default, linear, dynamic, llama3, yarn)")
        }
        return RopeConfig(theta: theta, scaling: parsed, partialRotaryFactor: partial)
    }
}
