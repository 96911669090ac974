// GPT-2 (transformers' modeling_gpt2.py): learned positions, pre-LayerNorm blocks, Conv1D weights stored [in, out]
// (used in place through a transposed weight type), q/k/v fused in blocks, gelu_new, tied LM head.
public import OrigamiFormats
public import OrigamiNN

public enum GPT2 {
    public static func load(config c: ModelConfig, weights root: WeightScope) throws(NNError) -> DecoderModel {
        guard let o = c.gpt2 else { throw .unsupported("not a GPT-2 config") }
        guard let act = Activation(huggingFaceName: c.activation) else {
            throw .unsupported("activation '\(c.activation)' is not supported")
        }
        // Checkpoints saved from GPT2LMHeadModel prefix "transformer."; bare GPT2Model ones do not.
        let t = root.contains("transformer.wte.weight") ? root.scope("transformer") : root
        let hidden = c.hiddenSize
        func norm(_ s: WeightScope, _ name: String) throws(NNError) -> Norm {
            try Norm(s, name, kind: .layer, width: hidden, eps: c.normEps)
        }
        func conv1D(_ s: WeightScope, _ name: String, _ inF: Int, _ outF: Int) throws(NNError) -> Linear {
            try Linear(s, name, inFeatures: inF, outFeatures: outF, bias: true, transposed: true)
        }
        let embed = try Embedding(t, "wte", rows: c.vocabSize, width: hidden)
        let positions = try Embedding(t, "wpe", rows: c.maxPositionEmbeddings, width: hidden)
        var blocks: [DecoderBlock] = []
        for i in 0..<c.numLayers {
            let l = t.scope("h.\(i)")
            var scale: Float = o.scaleAttentionWeights ? 1 / Float(c.headDim).squareRoot() : 1
            if o.scaleAttentionByInverseLayerIndex { scale /= Float(i + 1) }
            let attention = Attention(
                heads: c.numHeads, kvHeads: c.numHeads, headDim: c.headDim,
                projection: .fused(try conv1D(l, "attn.c_attn", hidden, 3 * hidden), layout: .blocks),
                output: try conv1D(l, "attn.c_proj", hidden, hidden), positions: .none, scale: scale)
            let mlp = MLP.plain(up: try conv1D(l, "mlp.c_fc", hidden, c.intermediateSize),
                                down: try conv1D(l, "mlp.c_proj", c.intermediateSize, hidden), activation: act)
            blocks.append(DecoderBlock(wiring: .sequential, attentionNorm: try norm(l, "ln_1"), mlpNorm: try norm(l, "ln_2"),
                                       attention: attention, mlp: mlp))
        }
        return DecoderModel(
            config: c, tokenEmbedding: embed, positionEmbedding: (positions, 0), blocks: blocks,
            finalNorm: try norm(t, "ln_f"),
            lmHead: try tiedOrOwnHead(c, root: root, embedding: embed, embeddingName: t.fullName("wte.weight")),
            rotary: nil)
    }
}
