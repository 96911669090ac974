public import OrigamiNN
import OrigamiKernels

/// The plain multiplies of the quantized weight types: what they compute, written to be read, and the twins the fast
/// kernels in OrigamiKernels are tested against. Each weight type's `multiply` calls exactly one function here, so
/// switching a type to its fast kernel is a one-line change there.
///
/// Every function computes `y[tokens, out] = x[tokens, in] · Wᵀ (+ bias[out])` and keeps the matrix × matrix shape
/// of prefill: the output rows are split over the threads, and a tile of rows is dequantized (or its codes read)
/// once and used for every token before the next tile.
public enum QuantReference {
    /// Rows dequantized at a time: 16 rows of a 4096-wide weight are 256 KiB of F32, which stays in L2 while every
    /// token passes over it.
    static let tileRows = 16

    /// NF4/FP4: each tile of rows dequantized to F32 (`code[q] · absmax`), then a float dot product per token.
    public static func multiply(_ w: FourBitWeight, _ x: UnsafePointer<Float>, tokens: Int, bias: UnsafePointer<Float>?,
                                into y: UnsafeMutablePointer<Float>, context: ComputeContext)
    {
        let n = w.inFeatures, m = w.outFeatures
        context.parallelChunks(m, minChunk: tileRows) { rows in
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * max(1, n))  // [tileRows, in]
            defer { tile.deallocate() }
            var r0 = rows.lowerBound
            while r0 < rows.upperBound {
                let r1 = min(rows.upperBound, r0 + tileRows)
                w.dequantizeRows(r0..<r1, into: tile)
                for t in 0..<tokens {
                    let xt = x + t * n, yt = y + t * m
                    for r in r0..<r1 { yt[r] = dot(xt, tile + (r - r0) * n, count: n) + (bias?[r] ?? 0) }
                }
                r0 = r1
            }
        }
    }

    /// int8 and LLM.int8(), as bitsandbytes' `MatMul8bitLt` computes them:
    /// 1. activations quantized per token (`RowwiseInt8.quantizeActivations`, outlier columns zeroed);
    /// 2. `acc = Σ xq · wq` in int32, `y = (acc · (x_absmax · w_scale)) · 6.200124e-05 + bias`;
    /// 3. with a threshold, `y += Σ_{outlier c} x[t, c] · ((wq[r, c] · w_scale) · (1/127))`.
    public static func multiply(_ w: Int8Weight, _ x: UnsafePointer<Float>, tokens: Int, bias: UnsafePointer<Float>?,
                                into y: UnsafeMutablePointer<Float>, context: ComputeContext)
    {
        let n = w.inFeatures, m = w.outFeatures
        let a = RowwiseInt8.quantizeActivations(x, tokens: tokens, cols: n, threshold: w.threshold)
        let codes = w.codes.raw.assumingMemoryBound(to: Int8.self)
        let scales = w.scales.pointer
        a.codes.withUnsafeBufferPointer { xqBuf in
            let xq = xqBuf.baseAddress!
            context.parallelChunks(m, minChunk: tileRows) { rows in
                for r in rows {
                    let wr = codes + r * n
                    for t in 0..<tokens {
                        let xt = xq + t * n
                        var acc: Int32 = 0
                        for k in 0..<n { acc &+= Int32(xt[k]) &* Int32(wr[k]) }
                        var v = (Float(acc) * (a.absmax[t] * scales[r])) * RowwiseInt8.productScale
                        if let bias { v += bias[r] }
                        if !a.outlierColumns.isEmpty {
                            var s: Float = 0
                            for c in a.outlierColumns {
                                s += x[t * n + c] * ((Float(wr[c]) * scales[r]) * RowwiseInt8.inverse127)
                            }
                            v += s
                        }
                        y[t * m + r] = v
                    }
                }
            }
        }
    }

    /// int8-zp: activations as for int8 (no threshold); `acc = Σ xq · q − zero · Σ xq` in int32,
    /// `y = (acc · (x_absmax · scale)) · (1/127) + bias`.
    public static func multiply(_ w: Int8ZeroPointWeight, _ x: UnsafePointer<Float>, tokens: Int, bias: UnsafePointer<Float>?,
                                into y: UnsafeMutablePointer<Float>, context: ComputeContext)
    {
        let n = w.inFeatures, m = w.outFeatures
        let a = RowwiseInt8.quantizeActivations(x, tokens: tokens, cols: n, threshold: nil)
        let sums: [Int32] = (0..<tokens).map { t in (0..<n).reduce(Int32(0)) { $0 &+ Int32(a.codes[t * n + $1]) } }
        let codes = w.codes.raw.assumingMemoryBound(to: UInt8.self)
        let scales = w.scales.pointer
        a.codes.withUnsafeBufferPointer { xqBuf in
            let xq = xqBuf.baseAddress!
            context.parallelChunks(m, minChunk: tileRows) { rows in
                for r in rows {
                    let wr = codes + r * n
                    let z = Int32(w.zeros[r])
                    for t in 0..<tokens {
                        let xt = xq + t * n
                        var acc: Int32 = 0
                        for k in 0..<n { acc &+= Int32(xt[k]) &* Int32(wr[k]) }
                        acc &-= z &* sums[t]
                        var v = (Float(acc) * (a.absmax[t] * scales[r])) * RowwiseInt8.inverse127
                        if let bias { v += bias[r] }
                        y[t * m + r] = v
                    }
                }
            }
        }
    }
}
