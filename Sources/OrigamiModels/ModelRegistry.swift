public import OrigamiFormats
public import OrigamiNN

/// From a config's family to the file that binds its weights.
public enum ModelRegistry {
    public static func load(config: ModelConfig, weights: WeightScope) throws(NNError) -> any CausalLM {
        switch config.family {
        case .llama, .mistral, .qwen2: return try Llama.load(config: config, weights: weights)
        case .falcon, .bloom, .opt, .gpt2:
            throw .unsupported("model_type '\(config.modelType)' (\(config.family.rawValue)) is not runnable yet: supported families are llama, mistral, qwen2")
        }
    }
}
