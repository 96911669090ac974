// OPT (transformers' modeling_opt.py): learned positions read at position + 2, pre- or post-LayerNorm blocks
// (`do_layer_norm_before`), project_in/project_out when word_embed_proj_dim differs from the hidden size, ReLU MLP.
public import OrigamiFormats
public import OrigamiNN

public enum OPT {
    public static func load(config c: ModelConfig, weights root: WeightScope) throws(NNError) -> DecoderModel {
        guard let o = c.opt else { throw .unsupported("not an OPT config") }
        guard let act = Activation(huggingFaceName: c.activation) else {
            throw .unsupported("activation '\(c.activation)' is not supported")
        }
        let dec = root.scope("model.decoder")
        let hidden = c.hiddenSize, proj = o.wordEmbedProjDim
        func norm(_ s: WeightScope, _ name: String) throws(NNError) -> Norm {
            try Norm(s, name, kind: .layer, width: hidden, eps: c.normEps)
        }
        let embed = try Embedding(dec, "embed_tokens", rows: c.vocabSize, width: proj)
        let positions = try Embedding(dec, "embed_positions", rows: c.maxPositionEmbeddings + 2, width: hidden)
        var blocks: [DecoderBlock] = []
        for i in 0..<c.numLayers {
            let l = dec.scope("layers.\(i)")
            let a = l.scope("self_attn")
            func linear(_ s: WeightScope, _ name: String, _ inF: Int, _ outF: Int) throws(NNError) -> Linear {
                try Linear(s, name, inFeatures: inF, outFeatures: outF, bias: o.enableBias)
            }
            let attention = Attention(
                heads: c.numHeads, kvHeads: c.numHeads, headDim: c.headDim,
                projection: .separate(q: try linear(a, "q_proj", hidden, hidden), k: try linear(a, "k_proj", hidden, hidden),
                                      v: try linear(a, "v_proj", hidden, hidden)),
                output: try linear(a, "out_proj", hidden, hidden), positions: .none)
            let mlp = MLP.plain(up: try linear(l, "fc1", hidden, c.intermediateSize),
                                down: try linear(l, "fc2", c.intermediateSize, hidden), activation: act)
            blocks.append(DecoderBlock(wiring: o.doLayerNormBefore ? .sequential : .postNorm,
                                       attentionNorm: try norm(l, "self_attn_layer_norm"), mlpNorm: try norm(l, "final_layer_norm"),
                                       attention: attention, mlp: mlp))
        }
        let projected = proj != hidden
        return DecoderModel(
            config: c, tokenEmbedding: embed, positionEmbedding: (positions, 2),
            projectIn: projected ? try Linear(dec, "project_in", inFeatures: proj, outFeatures: hidden, bias: false) : nil,
            blocks: blocks,
            finalNorm: o.doLayerNormBefore && !o.removeFinalLayerNorm ? try norm(dec, "final_layer_norm") : nil,
            projectOut: projected ? try Linear(dec, "project_out", inFeatures: hidden, outFeatures: proj, bias: false) : nil,
            lmHead: try tiedOrOwnHead(c, root: root, embedding: embed, embeddingName: dec.fullName("embed_tokens.weight"), inFeatures: proj),
            rotary: nil)
    }
}
