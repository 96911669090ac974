// Falcon (transformers' modeling_falcon.py): Falcon-7B's multi-query parallel block, Falcon-40B/180B's "new decoder
// architecture" with grouped KV heads and separate ln_attn/ln_mlp, and the ALiBi, sequential Falcon-RW variant. The
// fused query_key_value rows are split as transformers' `_split_heads` does for each layout.
public import OrigamiFormats
public import OrigamiNN
import OrigamiTensor

public enum Falcon {
    public static func load(config c: ModelConfig, weights root: WeightScope) throws(NNError) -> DecoderModel {
        guard let o = c.falcon else { throw .unsupported("not a Falcon config") }
        guard let act = Activation(huggingFaceName: c.activation) else {
            throw .unsupported("activation '\(c.activation)' is not supported")
        }
        let t = root.scope("transformer")
        let d = c.headDim, hidden = c.hiddenSize
        let rotary = c.rope.map { RotaryEmbedding(headDim: d, config: $0) }
        let positions: AttentionPositions = rotary.map { .rotary($0) }
            ?? .alibi(slopes: alibiSlopes(heads: c.numHeads).map(BFloat16.round), scaledWithScores: true, bf16Bias: true)
        let (qkvWidth, layout): (Int, FusedQKVLayout) =
            o.newDecoderArchitecture ? ((c.numHeads + 2 * c.numKVHeads) * d, .perGroup)
            : o.multiQuery ? ((c.numHeads + 2) * d, .blocks)
            : (3 * c.numHeads * d, .perHead)
        let embed = try Embedding(t, "word_embeddings", rows: c.vocabSize, width: hidden)
        var blocks: [DecoderBlock] = []
        for i in 0..<c.numLayers {
            let l = t.scope("h.\(i)")
            let a = l.scope("self_attention")
            let attention = Attention(
                heads: c.numHeads, kvHeads: c.numKVHeads, headDim: d,
                projection: .fused(try Linear(a, "query_key_value", inFeatures: hidden, outFeatures: qkvWidth, bias: o.bias), layout: layout),
                output: try Linear(a, "dense", inFeatures: hidden, outFeatures: hidden, bias: o.bias),
                positions: positions)
            let m = l.scope("mlp")
            let mlp = MLP.plain(
                up: try Linear(m, "dense_h_to_4h", inFeatures: hidden, outFeatures: c.intermediateSize, bias: o.bias),
                down: try Linear(m, "dense_4h_to_h", inFeatures: c.intermediateSize, outFeatures: hidden, bias: o.bias),
                activation: act)
            func norm(_ name: String) throws(NNError) -> Norm { try Norm(l, name, kind: .layer, width: hidden, eps: c.normEps) }
            let block: DecoderBlock
            if o.newDecoderArchitecture && o.numLayerNormsInParallelAttention == 2 {
                block = DecoderBlock(wiring: .parallel, attentionNorm: try norm("ln_attn"), mlpNorm: try norm("ln_mlp"), attention: attention, mlp: mlp)
            } else if o.parallelAttention {
                block = DecoderBlock(wiring: .parallel, attentionNorm: try norm("input_layernorm"), mlpNorm: nil, attention: attention, mlp: mlp)
            } else {
                block = DecoderBlock(wiring: .sequential, attentionNorm: try norm("input_layernorm"),
                                     mlpNorm: try norm("post_attention_layernorm"), attention: attention, mlp: mlp)
            }
            blocks.append(block)
        }
        return DecoderModel(
            config: c, tokenEmbedding: embed, blocks: blocks,
            finalNorm: try Norm(t, "ln_f", kind: .layer, width: hidden, eps: c.normEps),
            lmHead: try tiedOrOwnHead(c, root: root, embedding: embed, embeddingName: t.fullName("word_embeddings.weight")),
            rotary: rotary)
    }
}
