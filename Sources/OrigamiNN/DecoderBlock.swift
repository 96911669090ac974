public import OrigamiTensor

/// One transformer decoder block: attention and MLP around a residual stream, wired one of three ways.
public struct DecoderBlock: Sendable {
    public enum Wiring: Sendable {
        /// `x += attn(n1(x)); x += mlp(n2(x))` (Llama, BLOOM, GPT-2, OPT pre-LN, Falcon-RW).
        case sequential
        /// `x += attn(n1(x)) + mlp(n2(x))`, n2 = n1 when the model has one norm (Falcon).
        case parallel
        /// `x = n1(x + attn(x)); x = n2(x + mlp(x))` (OPT with do_layer_norm_before false).
        case postNorm
    }

    public let wiring: Wiring
    public let attentionNorm: Norm
    /// nil: the parallel block shares `attentionNorm`.
    public let mlpNorm: Norm?
    public let attention: Attention
    public let mlp: MLP

    public init(wiring: Wiring, attentionNorm: Norm, mlpNorm: Norm?, attention: Attention, mlp: MLP) {
        self.wiring = wiring
        self.attentionNorm = attentionNorm
        self.mlpNorm = mlpNorm
        self.attention = attention
        self.mlp = mlp
    }

    /// Every linear layer of the block, attention's then the MLP's.
    public var linears: [Linear] { attention.linears + mlp.linears }

    /// This block with every linear weight relocated (see `LinearWeight.relocated`), or nil if one cannot move. Norms
    /// hold F32 copies and stay as they are.
    public func relocated(_ address: (MappedRange) -> UnsafeRawPointer?, owner: any StorageOwner) -> DecoderBlock? {
        guard let a = attention.relocated(address, owner: owner), let m = mlp.relocated(address, owner: owner) else { return nil }
        return DecoderBlock(wiring: wiring, attentionNorm: attentionNorm, mlpNorm: mlpNorm, attention: a, mlp: m)
    }

    /// x: `[T, hidden]`, the rows of `batch`, updated in place.
    public func callAsFunction(_ x: UnsafeMutablePointer<Float>, batch: TokenBatch, hidden: Int, layer: Int,
                               rope: (cos: FloatBuffer, sin: FloatBuffer)?, context: ComputeContext)
    {
        let t = batch.rows
        let n = t * hidden
        let h = FloatBuffer(count: n)   // [T, hidden]
        let a = FloatBuffer(count: n)   // [T, hidden]
        let m = FloatBuffer(count: n)   // [T, hidden]
        switch wiring {
        case .sequential:
            attentionNorm(x, rows: t, into: h.pointer)
            attention(h.pointer, batch: batch, layer: layer, rope: rope, into: a.pointer, context: context)
            Ops.add(x, a.pointer, count: n)
            (mlpNorm ?? attentionNorm)(x, rows: t, into: h.pointer)
            mlp(h.pointer, tokens: t, into: m.pointer, context: context)
            Ops.add(x, m.pointer, count: n)
        case .parallel:
            attentionNorm(x, rows: t, into: h.pointer)
            attention(h.pointer, batch: batch, layer: layer, rope: rope, into: a.pointer, context: context)
            if let mlpNorm {
                mlpNorm(x, rows: t, into: h.pointer)
            }
            mlp(h.pointer, tokens: t, into: m.pointer, context: context)
            Ops.add(x, a.pointer, count: n)
            Ops.add(x, m.pointer, count: n)
        case .postNorm:
            attention(x, batch: batch, layer: layer, rope: rope, into: a.pointer, context: context)
            Ops.add(x, a.pointer, count: n)
            attentionNorm(x, rows: t, into: x)
            mlp(x, tokens: t, into: m.pointer, context: context)
            Ops.add(x, m.pointer, count: n)
            (mlpNorm ?? attentionNorm)(x, rows: t, into: x)
        }
    }
}
