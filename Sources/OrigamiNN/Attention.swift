import Foundation
public import OrigamiTensor

/// How a token's position enters attention.
public enum AttentionPositions: Sendable {
    case rotary(RotaryEmbedding)
    /// Per-head slopes times the key's absolute position. `scaledWithScores`: Falcon scales (scores + bias), BLOOM
    /// adds the bias after scaling. `bf16Bias`: Falcon rounds the slopes and the bias to bfloat16, and that rounding
    /// is part of the model's function.
    case alibi(slopes: [Float], scaledWithScores: Bool, bf16Bias: Bool)
    /// Positions were added to the embeddings (learned tables).
    case none
}

/// Where q, k and v come from.
public enum QKVProjection: Sendable {
    case separate(q: Linear, k: Linear, v: Linear)
    /// One fused projection; `layout` says how its output rows interleave q, k and v.
    case fused(Linear, layout: FusedQKVLayout)
}

/// Row layouts of fused QKV weights, as each architecture stores them.
public enum FusedQKVLayout: Sendable {
    /// `[q (H·D) | k (KV·D) | v (KV·D)]` (GPT-2, Falcon-7B multi-query).
    case blocks
    /// Per head `[q, k, v]` of D each (BLOOM; Falcon with neither multi-query nor the new decoder).
    case perHead
    /// Per KV group `[q × H/KV, k, v]` (Falcon-40B/180B's new decoder architecture).
    case perGroup
}

/// Multi-head attention with grouped KV heads, a KV cache, optional sliding window.
public struct Attention: Sendable {
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    public let projection: QKVProjection
    public let output: Linear
    public let positions: AttentionPositions
    /// Attend only to the last `slidingWindow` positions, the current one included.
    public let slidingWindow: Int?
    public let scale: Float

    public init(heads: Int, kvHeads: Int, headDim: Int, projection: QKVProjection, output: Linear,
                positions: AttentionPositions, slidingWindow: Int? = nil, scale: Float? = nil)
    {
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.projection = projection
        self.output = output
        self.positions = positions
        self.slidingWindow = slidingWindow
        self.scale = scale ?? 1 / Float(headDim).squareRoot()
    }

    /// Every linear layer, in the order they run.
    public var linears: [Linear] {
        switch projection {
        case .separate(let q, let k, let v): [q, k, v, output]
        case .fused(let qkv, _): [qkv, output]
        }
    }

    /// This attention with every linear weight relocated (see `LinearWeight.relocated`), or nil if one cannot move.
    public func relocated(_ address: (MappedRange) -> UnsafeRawPointer?, owner: any StorageOwner) -> Attention? {
        guard let out = output.relocated(address, owner: owner) else { return nil }
        let moved: QKVProjection
        switch projection {
        case .separate(let q, let k, let v):
            guard let q = q.relocated(address, owner: owner), let k = k.relocated(address, owner: owner),
                  let v = v.relocated(address, owner: owner) else { return nil }
            moved = .separate(q: q, k: k, v: v)
        case .fused(let qkv, let layout):
            guard let qkv = qkv.relocated(address, owner: owner) else { return nil }
            moved = .fused(qkv, layout: layout)
        }
        return Attention(heads: heads, kvHeads: kvHeads, headDim: headDim, projection: moved, output: out, positions: positions,
                         slidingWindow: slidingWindow, scale: scale)
    }

    /// x: `[T, hidden]`, the rows of `batch` → out: `[T, hidden]`. Writes this layer's keys and values into each
    /// segment's cache at its positions; the caller commits the batch once every layer has run. Rows of different
    /// segments never see each other's keys.
    public func callAsFunction(_ x: UnsafePointer<Float>, batch: TokenBatch, layer: Int,
                               rope: (cos: FloatBuffer, sin: FloatBuffer)?, into out: UnsafeMutablePointer<Float>,
                               context: ComputeContext)
    {
        let t = batch.rows
        let qWidth = heads * headDim
        let kvWidth = kvHeads * headDim
        let q = FloatBuffer(count: t * qWidth)                 // [T, H, D]
        // One sequence projects straight into its cache slots; several project into scratch, then scatter.
        let single = batch.segments.count == 1 ? batch.segments[0] : nil
        let scratch = single == nil ? FloatBuffer(count: 2 * t * kvWidth) : nil   // [2, T, KV, D]
        let keys = single.map { $0.cache.keys[layer].pointer + $0.start * kvWidth } ?? scratch!.pointer
        let values = single.map { $0.cache.values[layer].pointer + $0.start * kvWidth } ?? scratch!.pointer + t * kvWidth
        project(x, tokens: t, q: q.pointer, k: keys, v: values, context: context)

        if case .rotary = positions, let rope {
            let half = headDim / 2
            for i in 0..<t {
                Ops.applyRotary(q.pointer + i * qWidth, heads: heads, headDim: headDim, cos: rope.cos.pointer + i * half, sin: rope.sin.pointer + i * half)
                Ops.applyRotary(keys + i * kvWidth, heads: kvHeads, headDim: headDim, cos: rope.cos.pointer + i * half, sin: rope.sin.pointer + i * half)
            }
        }
        if single == nil {
            for s in batch.segments {
                (s.cache.keys[layer].pointer + s.start * kvWidth).update(from: keys + s.row * kvWidth, count: s.count * kvWidth)
                (s.cache.values[layer].pointer + s.start * kvWidth).update(from: values + s.row * kvWidth, count: s.count * kvWidth)
            }
        }

        let context_ = FloatBuffer(count: t * qWidth)          // [T, H, D]
        let group = heads / kvHeads
        let qp = UnsafePointer(q.pointer)
        let outp = context_.pointer
        context.parallelFor(t * heads) { job in
            let i = job / heads, h = job % heads
            let g = h / group
            let segment = batch.segments[batch.segmentOfRow[i]]
            let kAll = UnsafePointer(segment.cache.keys[layer].pointer)
            let vAll = UnsafePointer(segment.cache.values[layer].pointer)
            let p = segment.start + (i - segment.row)
            let lo = slidingWindow.map { max(0, p - $0 + 1) } ?? 0
            let n = p - lo + 1
            // One score per visible key, on the stack when small: this runs once per (token, head) per layer.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { buffer in
                let scores = buffer.baseAddress!
                let qh = qp + i * qWidth + h * headDim
                for j in 0..<n {
                    let kj = kAll + (lo + j) * kvWidth + g * headDim
                    var s = Ops.dot(qh, kj, count: headDim)
                    switch positions {
                    case .alibi(let slopes, let scaled, let bf16):
                        let bias = bf16 ? BFloat16.round(slopes[h] * Float(lo + j)) : slopes[h] * Float(lo + j)
                        s = scaled ? (s + bias) * scale : s * scale + bias
                    default: s *= scale
                    }
                    scores[j] = s
                }
                Ops.softmax(scores, count: n)
                let o = outp + i * qWidth + h * headDim
                o.update(repeating: 0, count: headDim)
                for j in 0..<n { Ops.axpy(scores[j], vAll + (lo + j) * kvWidth + g * headDim, o, count: headDim) }
            }
        }
        output(context_.pointer, tokens: t, into: out, context: context)
    }

    /// Projects x into q `[T, H·D]` and k, v `[T, KV·D]`.
    func project(_ x: UnsafePointer<Float>, tokens t: Int, q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>,
                 v: UnsafeMutablePointer<Float>, context: ComputeContext)
    {
        switch projection {
        case .separate(let qp, let kp, let vp):
            qp(x, tokens: t, into: q, context: context)
            kp(x, tokens: t, into: k, context: context)
            vp(x, tokens: t, into: v, context: context)
        case .fused(let qkv, let layout):
            let width = qkv.outFeatures
            let fused = FloatBuffer(count: t * width)   // [T, fused]
            qkv(x, tokens: t, into: fused.pointer, context: context)
            let d = headDim, group = heads / kvHeads
            for i in 0..<t {
                let row = fused.pointer + i * width
                let qi = q + i * heads * d, ki = k + i * kvHeads * d, vi = v + i * kvHeads * d
                switch layout {
                case .blocks:
                    qi.update(from: row, count: heads * d)
                    ki.update(from: row + heads * d, count: kvHeads * d)
                    vi.update(from: row + (heads + kvHeads) * d, count: kvHeads * d)
                case .perHead:
                    for h in 0..<heads {
                        qi.advanced(by: h * d).update(from: row + (3 * h) * d, count: d)
                        ki.advanced(by: h * d).update(from: row + (3 * h + 1) * d, count: d)
                        vi.advanced(by: h * d).update(from: row + (3 * h + 2) * d, count: d)
                    }
                case .perGroup:
                    for g in 0..<kvHeads {
                        let base = row + g * (group + 2) * d
                        qi.advanced(by: g * group * d).update(from: base, count: group * d)
                        ki.advanced(by: g * d).update(from: base + group * d, count: d)
                        vi.advanced(by: g * d).update(from: base + (group + 1) * d, count: d)
                    }
                }
            }
        }
    }
}

/// ALiBi slopes as BLOOM and Falcon compute them, including head counts that are not powers of two.
public func alibiSlopes(heads: Int) -> [Float] {
    var closest = 1
    while closest * 2 <= heads { closest *= 2 }
    let base = Foundation.pow(2.0, -Foundation.pow(2.0, -(Foundation.log2(Double(closest)) - 3)))
    var slopes = (1...closest).map { Float(Foundation.pow(base, Double($0))) }
    if closest != heads {
        let extraBase = Foundation.pow(2.0, -Foundation.pow(2.0, -(Foundation.log2(Double(2 * closest)) - 3)))
        let extra = min(closest, heads - closest)
        slopes += stride(from: 1, to: 1 + 2 * extra, by: 2).map { Float(Foundation.pow(extraBase, Double($0))) }
    }
    return slopes
}
