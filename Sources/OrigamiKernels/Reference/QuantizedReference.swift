/// Plain twins of the quantized kernels, written from bitsandbytes' definitions and reading the checkpoint layouts
/// (never the packed copies), so a test also checks the repacking.
extension Reference {
    /// LLM.int8()'s vector-wise activation quantization, as bitsandbytes' `int8_vectorwise_quant`: x rounded to f16
    /// when asked; columns holding some |x| ≥ threshold are outliers; each token's absmax skips the values
    /// ≥ threshold; code = round-half-even(x · fl(127 / absmax)); outlier columns become 0.
    ///
    /// - Parameters:
    ///   - x: `[tokens, cols]`.
    ///   - threshold: 0 for none.
    /// - Returns: codes `[tokens, cols]`, absmax `[tokens]`, the outlier columns ascending.
    public static func int8QuantizeActivations(
        _ x: UnsafePointer<Float>, tokens: Int, cols: Int, throughHalf: Bool, threshold: Float
    ) -> (codes: [Int8], absmax: [Float], outliers: [Int]) {
        func value(_ t: Int, _ c: Int) -> Float { throughHalf ? Float(Float16(x[t * cols + c])) : x[t * cols + c] }
        let limit = threshold > 0 ? threshold : .infinity
        let outliers = (0..<cols).filter { c in (0..<tokens).contains { abs(value($0, c)) >= limit } }
        var codes = [Int8](repeating: 0, count: tokens * cols), absmax = [Float](repeating: 0, count: tokens)
        for t in 0..<tokens {
            var m: Float = 0
            for c in 0..<cols where abs(value(t, c)) < limit { m = max(m, abs(value(t, c))) }
            absmax[t] = m
            guard m > 0 else { continue }
            let inv = 127 / m
            for c in 0..<cols where abs(value(t, c)) < limit {
                codes[t * cols + c] = Int8((value(t, c) * inv).rounded(.toNearestOrEven))
            }
            for c in outliers { codes[t * cols + c] = 0 }
        }
        return (codes, absmax, outliers)
    }

    /// bitsandbytes' int8 dequantization of one weight: (code · absmax) · (1/127), each product in f32.
    public static func int8Dequantized(code: Int8, absmax: Float) -> Float {
        Float(code) * absmax * Float(7.874015718698502e-3)
    }

    /// `int8Linear` over bitsandbytes weights (`CB` codes `[rows, cols]`, `SCB` absmax `[rows]`), following
    /// `MatMul8bitLt`: the exact integer sum, scaled as `int8_mm_dequant` does (acc · (absmax_x · absmax_w) · rescale
    /// + bias, in f32), then the outlier columns added in f32 against the dequantized weights (summed in Double).
    ///
    /// - Returns: the outlier columns.
    @discardableResult
    public static func int8Linear(
        x: UnsafePointer<Float>, tokens: Int, codes: UnsafePointer<Int8>, scales: UnsafePointer<Float>, rows: Int,
        cols: Int, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
        activations: Int8ActivationQuantization = .init()
    ) -> [Int] {
        let (xq, sx, outliers) = int8QuantizeActivations(
            x, tokens: tokens, cols: cols, throughHalf: activations.throughHalf, threshold: activations.outlierThreshold)
        for t in 0..<tokens {
            for r in 0..<rows {
                var acc = 0
                for c in 0..<cols { acc += Int(xq[t * cols + c]) * Int(codes[r * cols + c]) }
                var v = Float(acc) * (sx[t] * scales[r]) * activations.rescale
                if let bias { v = v + bias[r] }
                if !outliers.isEmpty {
                    var s = 0.0
                    for c in outliers { s += Double(x[t * cols + c]) * Double(int8Dequantized(code: codes[r * cols + c], absmax: scales[r])) }
                    v = Float(Double(v) + s)
                }
                y[t * rows + r] = v
            }
        }
        return outliers
    }

    /// `int8Linear` over zero-point weights (codes `[rows, cols]`, scale and zero point `[rows]`):
    /// y = Σ_c (absmax_x / 127 · x_q) · ((code − zero) · scale) (+ bias), summed in Double, plus the outlier columns
    /// in f32 against (code − zero) · scale.
    public static func int8ZeroPointLinear(
        x: UnsafePointer<Float>, tokens: Int, codes: UnsafePointer<UInt8>, scales: UnsafePointer<Float>,
        zeroPoints: UnsafePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, activations: Int8ActivationQuantization = .init()
    ) {
        let (xq, sx, outliers) = int8QuantizeActivations(
            x, tokens: tokens, cols: cols, throughHalf: activations.throughHalf, threshold: activations.outlierThreshold)
        for t in 0..<tokens {
            for r in 0..<rows {
                var s = 0.0
                for c in 0..<cols { s += Double(xq[t * cols + c]) * (Double(codes[r * cols + c]) - Double(zeroPoints[r])) }
                s *= Double(sx[t]) / 127 * Double(scales[r])
                for c in outliers { s += Double(x[t * cols + c]) * (Double(codes[r * cols + c]) - Double(zeroPoints[r])) * Double(scales[r]) }
                y[t * rows + r] = Float(s + Double(bias?[r] ?? 0))
            }
        }
    }

    /// Exact f32 activations against dequantized int8 weights (`int8DequantizedLinear`), summed in Double.
    /// `zeroPoints` nil: `codes` are bitsandbytes' signed `CB` (read as Int8) with absmax `scales`.
    public static func int8DequantizedLinear(
        x: UnsafePointer<Float>, tokens: Int, codes: UnsafeRawPointer, scales: UnsafePointer<Float>,
        zeroPoints: UnsafePointer<Float>?, rows: Int, cols: Int, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>
    ) {
        let bytes = codes.assumingMemoryBound(to: UInt8.self)
        for t in 0..<tokens {
            for r in 0..<rows {
                var s = 0.0
                for c in 0..<cols {
                    let b = bytes[r * cols + c]
                    let w = zeroPoints.map { (Double(b) - Double($0[r])) * Double(scales[r]) }
                        ?? Double(int8Dequantized(code: Int8(bitPattern: b), absmax: scales[r]))
                    s += Double(x[t * cols + c]) * w
                }
                y[t * rows + r] = Float(s + Double(bias?[r] ?? 0))
            }
        }
    }

    /// bitsandbytes' 4-bit dequantization: element i of the flattened weight is codebook[code] · absmax[i / blockSize],
    /// code in the high nibble of byte i/2 for even i, the low nibble for odd i.
    ///
    /// - Returns: `[rows, cols]`.
    public static func fourBitDequantize(
        codes: UnsafePointer<UInt8>, absmax: UnsafePointer<Float>, codebook: [Float], rows: Int, cols: Int, blockSize: Int
    ) -> [Float] {
        (0..<(rows * cols)).map { i in
            let code = i % 2 == 0 ? codes[i / 2] >> 4 : codes[i / 2] & 15
            return codebook[Int(code)] * absmax[i / blockSize]
        }
    }

    /// `fourBitLinear`: x against the dequantized weights, summed in Double; with `.bf16` both factors are rounded
    /// to bf16 first (the weight after code · absmax).
    public static func fourBitLinear(
        x: UnsafePointer<Float>, tokens: Int, codes: UnsafePointer<UInt8>, absmax: UnsafePointer<Float>,
        codebook: [Float], rows: Int, cols: Int, blockSize: Int, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, precision: MatmulPrecision = .f32
    ) {
        let w = fourBitDequantize(codes: codes, absmax: absmax, codebook: codebook, rows: rows, cols: cols, blockSize: blockSize)
        for t in 0..<tokens {
            for r in 0..<rows {
                var s = 0.0
                for c in 0..<cols {
                    var a = x[t * cols + c], b = w[r * cols + c]
                    if precision == .bf16 {
                        a = roundToBF16(a)
                        b = roundToBF16(b)
                    }
                    s += Double(a) * Double(b)
                }
                y[t * rows + r] = Float(s + Double(bias?[r] ?? 0))
            }
        }
    }
}
