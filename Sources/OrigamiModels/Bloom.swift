// BLOOM (transformers' modeling_bloom.py): ALiBi attention (slopes for any head count), a LayerNorm right after the
// word embeddings, fused query_key_value stored per head as [q, k, v], tanh-GELU MLP, tied LM head.
public import OrigamiFormats
public import OrigamiNN

public enum Bloom {
    public static func load(config c: ModelConfig, weights root: WeightScope) throws(NNError) -> DecoderModel {
        guard let o = c.bloom else { throw .unsupported("not a BLOOM config") }
        guard !o.applyResidualConnectionPostLayernorm else {
            throw .unsupported("BLOOM with apply_residual_connection_post_layernorm = true is not supported")
        }
        let t = root.scope("transformer")
        let hidden = c.hiddenSize
        func norm(_ s: WeightScope, _ name: String) throws(NNError) -> Norm {
            try Norm(s, name, kind: .layer, width: hidden, eps: c.normEps)
        }
        let embed = try Embedding(t, "word_embeddings", rows: c.vocabSize, width: hidden)
        let positions = AttentionPositions.alibi(slopes: alibiSlopes(heads: c.numHeads), scaledWithScores: false, bf16Bias: false)
        var blocks: [DecoderBlock] = []
        for i in 0..<c.numLayers {
            let l = t.scope("h.\(i)")
            let a = l.scope("self_attention")
            let attention = Attention(
                heads: c.numHeads, kvHeads: c.numHeads, headDim: c.headDim,
                projection: .fused(try Linear(a, "query_key_value", inFeatures: hidden, outFeatures: 3 * hidden, bias: true), layout: .perHead),
                output: try Linear(a, "dense", inFeatures: hidden, outFeatures: hidden, bias: true),
                positions: positions)
            let m = l.scope("mlp")
            let mlp = MLP.plain(
                up: try Linear(m, "dense_h_to_4h", inFeatures: hidden, outFeatures: c.intermediateSize, bias: true),
                down: try Linear(m, "dense_4h_to_h", inFeatures: c.intermediateSize, outFeatures: hidden, bias: true),
                activation: .geluTanh)
            blocks.append(DecoderBlock(wiring: .sequential, attentionNorm: try norm(l, "input_layernorm"),
                                       mlpNorm: try norm(l, "post_attention_layernorm"), attention: attention, mlp: mlp))
        }
        return DecoderModel(
            config: c, tokenEmbedding: embed, embeddingNorm: try norm(t, "word_embeddings_layernorm"), blocks: blocks,
            finalNorm: try norm(t, "ln_f"),
            lmHead: try tiedOrOwnHead(c, root: root, embedding: embed, embeddingName: t.fullName("word_embeddings.weight")),
            rotary: nil)
    }
}
