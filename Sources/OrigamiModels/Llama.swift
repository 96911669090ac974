// Llama 1/2/3, Mistral and Qwen2 (transformers' modeling_llama.py, modeling_mistral.py, modeling_qwen2.py):
// pre-RMSNorm blocks, rotary positions with grouped-query attention, a SiLU-gated MLP.
public import OrigamiFormats
public import OrigamiNN

public enum Llama {
    public static func load(config c: ModelConfig, weights root: WeightScope) throws(NNError) -> DecoderModel {
        guard let options = c.llama, let ropeConfig = c.rope else { throw .unsupported("not a Llama-family config") }
        guard let act = Activation(huggingFaceName: c.activation) else {
            throw .unsupported("activation '\(c.activation)' is not supported")
        }
        let m = root.scope("model")
        let rotary = RotaryEmbedding(headDim: c.headDim, config: ropeConfig)
        let embed = try Embedding(m, "embed_tokens", rows: c.vocabSize, width: c.hiddenSize)
        let qWidth = c.numHeads * c.headDim, kvWidth = c.numKVHeads * c.headDim
        var blocks: [DecoderBlock] = []
        for i in 0..<c.numLayers {
            let l = m.scope("layers.\(i)")
            let a = l.scope("self_attn")
            let window = i >= options.slidingWindowFromLayer ? options.slidingWindow : nil
            let attention = Attention(
                heads: c.numHeads, kvHeads: c.numKVHeads, headDim: c.headDim,
                projection: .separate(
                    q: try Linear(a, "q_proj", inFeatures: c.hiddenSize, outFeatures: qWidth, bias: options.qkvBias),
                    k: try Linear(a, "k_proj", inFeatures: c.hiddenSize, outFeatures: kvWidth, bias: options.qkvBias),
                    v: try Linear(a, "v_proj", inFeatures: c.hiddenSize, outFeatures: kvWidth, bias: options.qkvBias)),
                output: try Linear(a, "o_proj", inFeatures: qWidth, outFeatures: c.hiddenSize, bias: options.attentionBias),
                positions: .rotary(rotary), slidingWindow: window)
            let f = l.scope("mlp")
            let mlp = MLP.gated(
                gate: try Linear(f, "gate_proj", inFeatures: c.hiddenSize, outFeatures: c.intermediateSize, bias: options.mlpBias),
                up: try Linear(f, "up_proj", inFeatures: c.hiddenSize, outFeatures: c.intermediateSize, bias: options.mlpBias),
                down: try Linear(f, "down_proj", inFeatures: c.intermediateSize, outFeatures: c.hiddenSize, bias: options.mlpBias),
                activation: act)
            blocks.append(DecoderBlock(
                wiring: .sequential,
                attentionNorm: try Norm(l, "input_layernorm", kind: .rms, width: c.hiddenSize, eps: c.normEps),
                mlpNorm: try Norm(l, "post_attention_layernorm", kind: .rms, width: c.hiddenSize, eps: c.normEps),
                attention: attention, mlp: mlp))
        }
        let head = try tiedOrOwnHead(c, root: root, embedding: embed, embeddingName: m.fullName("embed_tokens.weight"))
        return DecoderModel(
            config: c, tokenEmbedding: embed, blocks: blocks,
            finalNorm: try Norm(m, "norm", kind: .rms, width: c.hiddenSize, eps: c.normEps),
            lmHead: head, rotary: rotary)
    }
}
