public import OrigamiFormats

/// One tensor a model holds, described by its shape and what it does (enough to price it at any precision and to
/// choose LoRA targets), never by its data.
public struct TensorSpec: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        case tokenEmbedding, positionEmbedding, norm, bias
        case query, key, value, fusedQKV, attentionOutput
        case gate, up, down
        case projectIn, projectOut, lmHead
    }

    public enum Shape: Sendable, Equatable {
        /// An `nn.Linear` weight `[out, in]` (GPT-2's Conv1D counts the same).
        case linear(out: Int, in: Int)
        /// A lookup table `[rows, width]`.
        case table(rows: Int, width: Int)
        case vector(Int)
    }

    public var role: Role
    public var shape: Shape

    public init(_ role: Role, _ shape: Shape) {
        self.role = role
        self.shape = shape
    }

    public var elements: Int {
        switch shape {
        case .linear(let o, let i): o * i
        case .table(let r, let w): r * w
        case .vector(let n): n
        }
    }

    /// A linear layer's weight (bias vectors are separate specs).
    public var isLinear: Bool { if case .linear = shape { true } else { false } }
}

/// How a decoder block wires its norms, which sets how many activations it keeps for backward.
public enum BlockWiring: Sendable, Equatable {
    case sequential
    /// Attention and MLP side by side; `norms` is 1 (Falcon-7B) or 2 (Falcon-40B/180B's ln_attn, ln_mlp).
    case parallel(norms: Int)
    case postNorm
}

/// Every tensor of a model, computed from config.json alone: the embeddings part, one decoder block (every block
/// of the supported families has the same shapes) and the head part.
///
/// The split: **embeddings** = token table, learned positions, the embedding LayerNorm (BLOOM) and OPT's
/// `project_in`; **blocks** = the decoder layers; **head** = the final norm, OPT's `project_out` and the LM head when
/// it is not tied to the token table (a tied head adds no parameters). Shapes follow transformers' modules for each
/// family, so the counts equal `sum(p.numel() for p in model.parameters())` (Tests/Fixtures/configs/parameter_counts.json).
public struct ModelInventory: Sendable {
    public let config: ModelConfig
    public let embeddings: [TensorSpec]
    /// One decoder layer.
    public let block: [TensorSpec]
    public let head: [TensorSpec]
    public let wiring: BlockWiring
    /// The MLP is gated (`down(act(gate) * up)`), which keeps three intermediate activations instead of two.
    public let gatedMLP: Bool

    public init(config c: ModelConfig) {
        config = c
        let h = c.hiddenSize, v = c.vocabSize, ffn = c.intermediateSize
        let qWidth = c.numHeads * c.headDim, kvWidth = c.numKVHeads * c.headDim
        var emb: [TensorSpec] = []
        var blk: [TensorSpec] = []
        var hd: [TensorSpec] = []
        /// A LayerNorm's weight and bias, or an RMSNorm's weight.
        func norm(_ into: inout [TensorSpec], bias: Bool = true) {
            into.append(TensorSpec(.norm, .vector(h)))
            if bias { into.append(TensorSpec(.norm, .vector(h))) }
        }
        func linear(_ role: TensorSpec.Role, out: Int, in inF: Int, bias: Bool) {
            blk.append(TensorSpec(role, .linear(out: out, in: inF)))
            if bias { blk.append(TensorSpec(.bias, .vector(out))) }
        }
        var wiring = BlockWiring.sequential
        var gated = false
        var headWidth = h
        switch c.options {
        case .llama(let o):
            gated = true
            emb.append(TensorSpec(.tokenEmbedding, .table(rows: v, width: h)))
            norm(&blk, bias: false)
            norm(&blk, bias: false)
            linear(.query, out: qWidth, in: h, bias: o.qkvBias)
            linear(.key, out: kvWidth, in: h, bias: o.qkvBias)
            linear(.value, out: kvWidth, in: h, bias: o.qkvBias)
            linear(.attentionOutput, out: h, in: qWidth, bias: o.attentionBias)
            linear(.gate, out: ffn, in: h, bias: o.mlpBias)
            linear(.up, out: ffn, in: h, bias: o.mlpBias)
            linear(.down, out: h, in: ffn, bias: o.mlpBias)
            norm(&hd, bias: false)
        case .falcon(let o):
            emb.append(TensorSpec(.tokenEmbedding, .table(rows: v, width: h)))
            let qkv = o.newDecoderArchitecture ? (c.numHeads + 2 * c.numKVHeads) * c.headDim
                : o.multiQuery ? (c.numHeads + 2) * c.headDim : 3 * c.numHeads * c.headDim
            linear(.fusedQKV, out: qkv, in: h, bias: o.bias)
            linear(.attentionOutput, out: h, in: h, bias: o.bias)
            linear(.up, out: ffn, in: h, bias: o.bias)
            linear(.down, out: h, in: ffn, bias: o.bias)
            if o.newDecoderArchitecture && o.numLayerNormsInParallelAttention == 2 {
                wiring = .parallel(norms: 2)
            } else if o.parallelAttention {
                wiring = .parallel(norms: 1)
            }
            let norms = if case .parallel(let n) = wiring { n } else { 2 }
            for _ in 0..<norms { norm(&blk) }
            norm(&hd)
        case .bloom:
            emb.append(TensorSpec(.tokenEmbedding, .table(rows: v, width: h)))
            norm(&emb)
            norm(&blk)
            norm(&blk)
            linear(.fusedQKV, out: 3 * h, in: h, bias: true)
            linear(.attentionOutput, out: h, in: h, bias: true)
            linear(.up, out: ffn, in: h, bias: true)
            linear(.down, out: h, in: ffn, bias: true)
            norm(&hd)
        case .opt(let o):
            let proj = o.wordEmbedProjDim
            headWidth = proj
            emb.append(TensorSpec(.tokenEmbedding, .table(rows: v, width: proj)))
            emb.append(TensorSpec(.positionEmbedding, .table(rows: c.maxPositionEmbeddings + 2, width: h)))
            if proj != h { emb.append(TensorSpec(.projectIn, .linear(out: h, in: proj))) }
            if o.layerNormElementwiseAffine {
                norm(&blk)
                norm(&blk)
            }
            for role in [TensorSpec.Role.query, .key, .value, .attentionOutput] {
                linear(role, out: h, in: h, bias: o.enableBias)
            }
            linear(.up, out: ffn, in: h, bias: o.enableBias)
            linear(.down, out: h, in: ffn, bias: o.enableBias)
            wiring = o.doLayerNormBefore ? .sequential : .postNorm
            if o.doLayerNormBefore && !o.removeFinalLayerNorm && o.layerNormElementwiseAffine { norm(&hd) }
            if proj != h { hd.append(TensorSpec(.projectOut, .linear(out: proj, in: h))) }
        case .gpt2:
            emb.append(TensorSpec(.tokenEmbedding, .table(rows: v, width: h)))
            emb.append(TensorSpec(.positionEmbedding, .table(rows: c.maxPositionEmbeddings, width: h)))
            norm(&blk)
            norm(&blk)
            linear(.fusedQKV, out: 3 * h, in: h, bias: true)
            linear(.attentionOutput, out: h, in: h, bias: true)
            linear(.up, out: ffn, in: h, bias: true)
            linear(.down, out: h, in: ffn, bias: true)
            norm(&hd)
        }
        if !c.tieWordEmbeddings { hd.append(TensorSpec(.lmHead, .linear(out: v, in: headWidth))) }
        embeddings = emb
        block = blk
        head = hd
        self.wiring = wiring
        gatedMLP = gated
    }

    public var layers: Int { config.numLayers }

    /// Every tensor, embeddings then the blocks then the head.
    public var allTensors: [TensorSpec] {
        embeddings + Array([[TensorSpec]](repeating: block, count: layers).joined()) + head
    }
}

/// Parameters per part of the model.
public struct ParameterCount: Sendable, Equatable {
    public var embeddings: Int
    public var perBlock: Int
    public var blocks: Int
    public var head: Int
    public var total: Int { embeddings + blocks + head }

    public init(_ inventory: ModelInventory) {
        func sum(_ specs: [TensorSpec]) -> Int { specs.reduce(0) { $0 + $1.elements } }
        embeddings = sum(inventory.embeddings)
        perBlock = sum(inventory.block)
        blocks = perBlock * inventory.layers
        head = sum(inventory.head)
    }
}
