#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import OrigamiTensor

/// Plain scalar twins of the fast kernels: one obvious loop each, sums in Double, math from libm. Tests compare
/// every fast kernel with its twin; nothing in the engine's hot path calls these.
public enum Reference {
    /// One stored element widened to Float.
    public static func element(_ w: WeightMatrix, _ r: Int, _ c: Int) -> Float {
        let i = r * w.rowStride + c
        switch w.dtype {
        case .f32: return w.data.load(fromByteOffset: i * 4, as: Float.self)
        case .f16: return Float(Float16(bitPattern: w.data.load(fromByteOffset: i * 2, as: UInt16.self)))
        default: return BFloat16.toFloat(w.data.load(fromByteOffset: i * 2, as: UInt16.self))
        }
    }

    /// Rounds to the nearest bf16 value (ties to even), as a Float.
    public static func roundToBF16(_ x: Float) -> Float { BFloat16.toFloat(BFloat16.fromFloat(x)) }

    /// y[t, r] = Σ_c x[t, c] · W[r, c] (+ bias[r]). With `.bf16` both factors are rounded to bf16 first.
    public static func linear(
        x: UnsafePointer<Float>, tokens: Int, weight: WeightMatrix, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, precision: MatmulPrecision = .f32
    ) {
        for t in 0..<tokens {
            for r in 0..<weight.rows {
                var sum = 0.0
                for c in 0..<weight.cols {
                    var a = x[t * weight.cols + c], b = element(weight, r, c)
                    if precision == .bf16 {
                        a = roundToBF16(a)
                        b = roundToBF16(b)
                    }
                    sum += Double(a) * Double(b)
                }
                y[t * weight.rows + r] = Float(sum + Double(bias?[r] ?? 0))
            }
        }
    }

    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s = 0.0
        for i in 0..<count { s += Double(a[i]) * Double(b[i]) }
        return Float(s)
    }

    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = Float(Double(alpha) * Double(x[i]) + Double(y[i])) }
    }

    public static func rmsNorm(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, eps: Float, count: Int, into out: UnsafeMutablePointer<Float>
    ) {
        var ss = 0.0
        for i in 0..<count { ss += Double(x[i]) * Double(x[i]) }
        let inv = 1 / (ss / Double(count) + Double(eps)).squareRoot()
        for i in 0..<count { out[i] = Float(Double(x[i]) * inv * Double(weight?[i] ?? 1)) }
    }

    public static func layerNorm(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, eps: Float, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        var mean = 0.0
        for i in 0..<count { mean += Double(x[i]) }
        mean /= Double(count)
        var v = 0.0
        for i in 0..<count { v += (Double(x[i]) - mean) * (Double(x[i]) - mean) }
        let rstd = 1 / (v / Double(count) + Double(eps)).squareRoot()
        for i in 0..<count {
            out[i] = Float((Double(x[i]) - mean) * rstd * Double(weight?[i] ?? 1) + Double(bias?[i] ?? 0))
        }
    }

    /// Softmax of x · scale; an all −∞ row gives zeros (as the fast kernel documents). The shifted logit
    /// x·scale − max is rounded to Float as an f32 model computes it (at |logit| ~ 100 that rounding alone moves
    /// exp by several ulps); exp and the sum are in Double.
    public static func softmax(_ x: UnsafePointer<Float>, count: Int, scale: Float = 1, into out: UnsafeMutablePointer<Float>) {
        var m = -Double.infinity
        for i in 0..<count { m = max(m, Double(x[i] * scale)) }
        if m == -.infinity {
            for i in 0..<count { out[i] = 0 }
            return
        }
        let mf = Float(m)
        var s = 0.0
        for i in 0..<count { s += exp(Double(x[i] * scale - mf)) }
        for i in 0..<count { out[i] = Float(exp(Double(x[i] * scale - mf)) / s) }
    }

    public static func silu(_ x: Float) -> Float { Float(Double(x) / (1 + exp(-Double(x)))) }
    public static func geluErf(_ x: Float) -> Float { Float(0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))) }
    public static func geluTanh(_ x: Float) -> Float {
        let d = Double(x)
        return Float(0.5 * d * (1 + tanh((2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d))))
    }
    public static func relu(_ x: Float) -> Float { x.isNaN ? x : max(x, 0) }

    /// Rotary embedding of one head vector in place, written from the transformers formulas
    /// (`q * cos + rotate_half(q) * sin` and GPT-J's `rotate_every_two`).
    public static func applyRoPE(
        _ x: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, rotaryDim: Int,
        layout: RoPELayout
    ) {
        let half = rotaryDim / 2
        for i in 0..<half {
            let (a, b) = layout == .rotateHalf ? (i, i + half) : (2 * i, 2 * i + 1)
            let xa = Double(x[a]), xb = Double(x[b]), c = Double(cos[i]), s = Double(sin[i])
            x[a] = Float(xa * c - xb * s)
            x[b] = Float(xb * c + xa * s)
        }
    }

    public static func convertToFloat(_ src: UnsafeRawPointer, dtype: DType, count: Int, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            switch dtype {
            case .f32: out[i] = src.load(fromByteOffset: 4 * i, as: Float.self)
            case .f16: out[i] = Float(Float16(bitPattern: src.load(fromByteOffset: 2 * i, as: UInt16.self)))
            default: out[i] = BFloat16.toFloat(src.load(fromByteOffset: 2 * i, as: UInt16.self))
            }
        }
    }
}
