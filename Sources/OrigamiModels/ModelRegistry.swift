public import OrigamiFormats
public import OrigamiNN

/// From a config's family to the file that binds its weights.
public enum ModelRegistry {
    public static func load(config: ModelConfig, weights: WeightScope) throws(NNError) -> any CausalLM {
        switch config.family {
        case .llama, .mistral, .qwen2: try Llama.load(config: config, weights: weights)
        case .falcon: try Falcon.load(config: config, weights: weights)
        case .bloom: try Bloom.load(config: config, weights: weights)
        case .opt: try OPT.load(config: config, weights: weights)
        case .gpt2: try GPT2.load(config: config, weights: weights)
        }
    }
}
