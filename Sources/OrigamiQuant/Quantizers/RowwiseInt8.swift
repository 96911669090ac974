public import OrigamiKernels

/// Per-row 8-bit quantizers of weights and activations.
public enum RowwiseInt8 {
    /// bitsandbytes' dequantization constant `1/127` as float32 (`7.874015718698502e-3`).
    public static let inverse127: Float = 7.874015718698502e-3
    /// The constant bitsandbytes' `int8_mm_dequant` rescales the int32 products with. It is 1/127² to five digits
    /// only (1/127² = 6.2000124e-05): Origami uses bitsandbytes' value so that its outputs agree with
    /// `Linear8bitLt` to float rounding.
    public static let productScale: Float = 6.200124e-05

    /// bitsandbytes' `int8_vectorwise_quant` of a weight, as `Linear8bitLt` stores it: the weight is first rounded to
    /// float16 (`Int8Params._quantize`), then per row `scale = max |w|` (its `SCB`) and
    /// `q = round(w · (127 / scale))` (float32, round half to even). A row of zeros gets codes 0.
    ///
    /// torch evaluates `127.0 / t` as `t.reciprocal() * 127` (`Tensor.__rtruediv__`): two roundings, which decide
    /// the code of a value that lands near a half — `multiplier(absmax:)` does the same.
    ///
    /// - Parameters:
    ///   - codes: `[rows, cols]` output.
    ///   - scales: `[rows]` output.
    public static func quantizeWeight(_ src: FloatMatrixSource, codes: UnsafeMutablePointer<Int8>,
                                      scales: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared)
    {
        let cols = src.cols
        forRowChunks(src.rows, pool: pool) { rows in
            let row = UnsafeMutablePointer<Float>.allocate(capacity: max(1, cols))
            defer { row.deallocate() }
            for r in rows {
                src.readRow(r, into: row)
                scales[r] = quantizeRowHalf(row, count: cols, into: codes + r * cols)
            }
        }
    }

    /// Only the `[rows]` scales of `quantizeWeight` (what a writer needs before the codes).
    public static func weightScales(_ src: FloatMatrixSource, pool: ThreadPool = .shared) -> [Float] {
        var out = [Float](repeating: 0, count: src.rows)
        let cols = src.cols
        out.withUnsafeMutableBufferPointer { o in
            let base = o.baseAddress!
            forRowChunks(src.rows, pool: pool) { rows in
                let row = UnsafeMutablePointer<Float>.allocate(capacity: max(1, cols))
                defer { row.deallocate() }
                for r in rows {
                    src.readRow(r, into: row)
                    var m: Float = 0
                    for i in 0..<cols { m = max(m, abs(Float(Float16(row[i])))) }
                    base[r] = m
                }
            }
        }
        return out
    }

    /// One row, float16-rounded, quantized symmetric: returns its absmax.
    @inline(__always)
    static func quantizeRowHalf(_ row: UnsafeMutablePointer<Float>, count: Int, into q: UnsafeMutablePointer<Int8>) -> Float {
        var m: Float = 0
        for i in 0..<count {
            let h = Float(Float16(row[i]))
            row[i] = h
            m = max(m, abs(h))
        }
        guard m > 0 else {
            q.update(repeating: 0, count: count)
            return m
        }
        let scale = multiplier(absmax: m)
        for i in 0..<count { q[i] = Int8(clamping: Int((row[i] * scale).rounded(.toNearestOrEven))) }
        return m
    }

    /// `127 / absmax` as torch computes it: the float32 reciprocal, times 127.
    @inline(__always)
    static func multiplier(absmax m: Float) -> Float { (1 / m) * 127 }

    /// Origami's asymmetric (zero-point) int8 of one weight, per output row (no bitsandbytes twin):
    ///
    ///     lo = min(0, min(row)), hi = max(0, max(row))     the range holds 0, so 0 is exact
    ///     scale = (hi − lo) / 255                          float32; a row of zeros gets scale 0 and codes 0
    ///     zero = clamp(round(−lo / scale), 0, 255)         round half to even
    ///     q = clamp(round(w / scale) + zero, 0, 255)       uint8
    ///     w ≈ (q − zero) · scale
    ///
    /// uint8 codes suit VNNI's unsigned × signed product (`vpdpbusd`): with int8 activations `a`,
    /// Σ a·(q − zero) = Σ a·q − zero · Σ a.
    public static func quantizeWeightZeroPoint(_ src: FloatMatrixSource, codes: UnsafeMutablePointer<UInt8>,
                                               scales: UnsafeMutablePointer<Float>, zeros: UnsafeMutablePointer<UInt8>,
                                               pool: ThreadPool = .shared)
    {
        let cols = src.cols
        forRowChunks(src.rows, pool: pool) { rows in
            let row = UnsafeMutablePointer<Float>.allocate(capacity: max(1, cols))
            defer { row.deallocate() }
            for r in rows {
                src.readRow(r, into: row)
                let (scale, zero) = zeroPointParameters(row, count: cols)
                scales[r] = scale
                zeros[r] = zero
                let q = codes + r * cols
                guard scale > 0 else {
                    q.update(repeating: 0, count: cols)
                    continue
                }
                let z = Float(zero)
                for i in 0..<cols { q[i] = UInt8(min(max((row[i] / scale).rounded(.toNearestOrEven) + z, 0), 255)) }
            }
        }
    }

    /// `[rows]` scales and zero points of `quantizeWeightZeroPoint`.
    public static func zeroPointParameters(_ src: FloatMatrixSource, pool: ThreadPool = .shared) -> (scales: [Float], zeros: [UInt8]) {
        var scales = [Float](repeating: 0, count: src.rows)
        var zeros = [UInt8](repeating: 0, count: src.rows)
        let cols = src.cols
        scales.withUnsafeMutableBufferPointer { s in
            zeros.withUnsafeMutableBufferPointer { z in
                let sb = s.baseAddress!, zb = z.baseAddress!
                forRowChunks(src.rows, pool: pool) { rows in
                    let row = UnsafeMutablePointer<Float>.allocate(capacity: max(1, cols))
                    defer { row.deallocate() }
                    for r in rows {
                        src.readRow(r, into: row)
                        (sb[r], zb[r]) = zeroPointParameters(row, count: cols)
                    }
                }
            }
        }
        return (scales, zeros)
    }

    @inline(__always)
    static func zeroPointParameters(_ row: UnsafePointer<Float>, count: Int) -> (scale: Float, zero: UInt8) {
        var lo: Float = 0, hi: Float = 0
        for i in 0..<count {
            lo = min(lo, row[i])
            hi = max(hi, row[i])
        }
        let scale = (hi - lo) / 255
        guard scale > 0 else { return (0, 0) }
        return (scale, UInt8(min(max((-lo / scale).rounded(.toNearestOrEven), 0), 255)))
    }

    /// Activations quantized per token, as bitsandbytes' `int8_vectorwise_quant(A.to(float16), threshold)` does in
    /// `MatMul8bitLt`.
    public struct Activations {
        /// `[tokens, cols]`; zero in the outlier columns.
        public var codes: [Int8]
        /// `[tokens]`: each token's max |x| over its non-outlier elements (float16-rounded values).
        public var absmax: [Float]
        /// Input columns holding an element with |x| ≥ threshold (in float16), ascending; empty without a threshold.
        public var outlierColumns: [Int]
    }

    /// - Parameters:
    ///   - x: `[tokens, cols]`.
    ///   - threshold: LLM.int8()'s outlier threshold, or nil for plain int8. An element is an outlier when its
    ///     float16 magnitude is ≥ threshold (bitsandbytes' test); its whole column is then taken out of the int8
    ///     product, but the column's other elements still count towards their token's absmax, as in bitsandbytes.
    public static func quantizeActivations(_ x: UnsafePointer<Float>, tokens: Int, cols: Int, threshold: Float?) -> Activations {
        var outlier = [Bool](repeating: false, count: cols)
        if let threshold {
            for t in 0..<tokens {
                for c in 0..<cols where abs(Float(Float16(x[t * cols + c]))) >= threshold { outlier[c] = true }
            }
        }
        var codes = [Int8](repeating: 0, count: tokens * cols)
        var absmax = [Float](repeating: 0, count: tokens)
        for t in 0..<tokens {
            let row = x + t * cols
            var m: Float = 0
            for c in 0..<cols {
                let h = abs(Float(Float16(row[c])))
                if let threshold, h >= threshold { continue }
                m = max(m, h)
            }
            absmax[t] = m
            guard m > 0 else { continue }
            let scale = multiplier(absmax: m)
            for c in 0..<cols where !outlier[c] {
                let h = Float(Float16(row[c]))
                // An outlier element in a column not flagged cannot happen: flagged columns are skipped.
                codes[t * cols + c] = Int8(clamping: Int((h * scale).rounded(.toNearestOrEven)))
            }
        }
        return Activations(codes: codes, absmax: absmax, outlierColumns: (0..<cols).filter { outlier[$0] })
    }

    /// Splits rows into chunks of ~64 KiB of work and runs them on the pool.
    static func forRowChunks(_ rows: Int, pool: ThreadPool, _ body: (Range<Int>) -> Void) {
        let chunk = 16
        pool.parallelFor((rows + chunk - 1) / chunk) { c in body((c * chunk)..<min(rows, (c + 1) * chunk)) }
    }
}
