public import OrigamiFormats
public import OrigamiNN
import OrigamiTensor

/// The shared shape of every supported architecture: embeddings (plus learned positions, an embedding norm, a
/// projection in), a stack of decoder blocks, a final norm (and projection out), and the LM head. Architecture files
/// bind their checkpoint's tensors into this.
public final class DecoderModel: CausalLM {
    public let config: ModelConfig
    public let tokenEmbedding: Embedding
    /// Learned positions and the row offset they are read at (OPT: 2).
    public let positionEmbedding: (table: Embedding, offset: Int)?
    public let embeddingNorm: Norm?
    public let projectIn: Linear?
    public let blocks: [DecoderBlock]
    public let finalNorm: Norm?
    public let projectOut: Linear?
    public let lmHead: Linear
    public let rotary: RotaryEmbedding?

    public init(config: ModelConfig, tokenEmbedding: Embedding, positionEmbedding: (table: Embedding, offset: Int)? = nil,
                embeddingNorm: Norm? = nil, projectIn: Linear? = nil, blocks: [DecoderBlock], finalNorm: Norm?,
                projectOut: Linear? = nil, lmHead: Linear, rotary: RotaryEmbedding?)
    {
        self.config = config
        self.tokenEmbedding = tokenEmbedding
        self.positionEmbedding = positionEmbedding
        self.embeddingNorm = embeddingNorm
        self.projectIn = projectIn
        self.blocks = blocks
        self.finalNorm = finalNorm
        self.projectOut = projectOut
        self.lmHead = lmHead
        self.rotary = rotary
    }

    public func makeCache(capacity: Int) -> KVCache {
        KVCache(layers: blocks.count, capacity: capacity, kvHeads: config.numKVHeads, headDim: config.headDim)
    }

    public var weightBytesPerToken: Int {
        let outside = [lmHead, projectIn, projectOut].compactMap { $0 }
        return (outside + blocks.flatMap(\.linears)).reduce(0) { $0 + $1.weight.storageBytes }
    }

    public func forward(_ tokens: [Int], cache: KVCache, logits selection: LogitsSelection, context: ComputeContext) -> [Float] {
        forward(tokens, cache: cache, logits: selection, context: context, hooks: nil)
    }

    public func forward(batch: [SequenceChunk], context: ComputeContext) -> [Float] {
        forward(batch: batch, context: context, hooks: nil)
    }

    /// `forward`, calling `hooks` before and after the embeddings, each block and the head.
    public func forward(_ tokens: [Int], cache: KVCache, logits selection: LogitsSelection, context: ComputeContext,
                        hooks: (any ForwardHooks)?) -> [Float]
    {
        let t = tokens.count
        precondition(t > 0, "a forward pass needs tokens")
        return run(tokens, batch: TokenBatch(cache: cache, count: t), logitRows: selection == .last ? t - 1..<t : 0..<t,
                   context: context, hooks: hooks)
    }

    /// `forward(batch:)`, calling `hooks` as `forward` does.
    public func forward(batch chunks: [SequenceChunk], context: ComputeContext, hooks: (any ForwardHooks)?) -> [Float] {
        precondition(!chunks.isEmpty && chunks.allSatisfy { !$0.tokens.isEmpty }, "a forward pass needs tokens")
        let batch = TokenBatch(chunks.map { ($0.cache, $0.tokens.count) })
        let last = batch.segments.map { $0.row + $0.count - 1 }
        return run(chunks.flatMap(\.tokens), batch: batch, logitRows: last, context: context, hooks: hooks)
    }

    /// Runs the rows of `batch` (`tokens[r]` is row r's token) and returns logits `[logitRows.count, vocab]`.
    func run(_ tokens: [Int], batch: TokenBatch, logitRows: some Collection<Int>, context: ComputeContext,
             hooks: (any ForwardHooks)?) -> [Float]
    {
        let t = batch.rows
        let hidden = config.hiddenSize
        hooks?.willRun(.embeddings)
        let embedWidth = tokenEmbedding.width
        let e = FloatBuffer(count: t * embedWidth)   // [T, embed]
        for (i, id) in tokens.enumerated() { tokenEmbedding.lookup(id, into: e.pointer + i * embedWidth) }
        var x = e
        if let projectIn {
            let p = FloatBuffer(count: t * hidden)   // [T, hidden]
            projectIn(e.pointer, tokens: t, into: p.pointer, context: context)
            x = p
        }
        if let (table, offset) = positionEmbedding {
            for i in 0..<t { table.lookup(batch.position(ofRow: i) + offset, into: x.pointer + i * hidden, accumulate: true) }
        }
        embeddingNorm?(x.pointer, rows: t, into: x.pointer)
        hooks?.didRun(.embeddings)
        let rope = rotary?.tables(for: batch)
        for (l, block) in blocks.enumerated() {
            hooks?.willRun(.block(l))
            let run = hooks?.block(l) ?? block
            run(x.pointer, batch: batch, hidden: hidden, layer: l, rope: rope, context: context)
            hooks?.didRun(.block(l))
        }
        batch.commit()

        hooks?.willRun(.head)
        defer { hooks?.didRun(.head) }
        let (lmHead, projectOut) = hooks?.head() ?? (lmHead, projectOut)
        let rows = logitRows.count
        let h = FloatBuffer(count: rows * hidden)   // [rows, hidden]
        for (i, r) in logitRows.enumerated() { (h.pointer + i * hidden).update(from: x.pointer + r * hidden, count: hidden) }
        finalNorm?(h.pointer, rows: rows, into: h.pointer)
        var headInput = h
        if let projectOut {
            let p = FloatBuffer(count: rows * projectOut.outFeatures)   // [rows, embed]
            projectOut(h.pointer, tokens: rows, into: p.pointer, context: context)
            headInput = p
        }
        let vocab = lmHead.outFeatures
        var out = [Float](repeating: 0, count: rows * vocab)   // [rows, vocab]
        out.withUnsafeMutableBufferPointer { lmHead(headInput.pointer, tokens: rows, into: $0.baseAddress!, context: context) }
        return out
    }
}

/// The LM head: the embedding table when tied, else `lm_head.weight`.
func tiedOrOwnHead(_ c: ModelConfig, root: WeightScope, embedding: Embedding, embeddingName: String,
                   inFeatures: Int? = nil) throws(NNError) -> Linear
{
    if c.tieWordEmbeddings {
        return Linear(weight: try DenseWeight(embedding.table, name: embeddingName), bias: nil)
    }
    return try Linear(root, "lm_head", inFeatures: inFeatures ?? c.hiddenSize, outFeatures: c.vocabSize, bias: false)
}
