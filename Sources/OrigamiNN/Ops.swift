public import OrigamiTensor
import Foundation

/// The layer-level operations, in plain Swift. Every fast kernel is checked against these.
public enum Ops {
    /// y[tokens, rows] = x[tokens, cols] · W[rows, cols]ᵀ, W stored as F32/F16/BF16.
    public static func linear(x: UnsafePointer<Float>, tokens: Int, weight: UnsafeRawPointer, dtype: DType, rows: Int,
                              cols: Int, y: UnsafeMutablePointer<Float>, context: ComputeContext)
    {
        context.parallelChunks(rows, minChunk: 16) { range in
            var row = [Float](repeating: 0, count: cols)
            for r in range {
                convertRow(weight + r * cols * dtype.byteSize, dtype: dtype, count: cols, into: &row)
                for t in 0..<tokens {
                    var acc: Float = 0
                    let xt = x + t * cols
                    for c in 0..<cols { acc += xt[c] * row[c] }
                    y[t * rows + r] = acc
                }
            }
        }
    }

    /// y[tokens, out] = x[tokens, in] · W[in, out], W stored transposed (GPT-2 Conv1D): each weight row is read once
    /// and accumulated into every token's output.
    public static func linearTransposed(x: UnsafePointer<Float>, tokens: Int, weight: UnsafeRawPointer, dtype: DType,
                                        inFeatures: Int, outFeatures: Int, y: UnsafeMutablePointer<Float>,
                                        context: ComputeContext)
    {
        context.parallelChunks(outFeatures, minChunk: 64) { cols in
            var row = [Float](repeating: 0, count: cols.count)
            for t in 0..<tokens { for o in cols { y[t * outFeatures + o] = 0 } }
            for i in 0..<inFeatures {
                row.withUnsafeMutableBufferPointer {
                    convertRow(weight + (i * outFeatures + cols.lowerBound) * dtype.byteSize, dtype: dtype, count: cols.count,
                               into: $0.baseAddress!)
                }
                for t in 0..<tokens {
                    let a = x[t * inFeatures + i]
                    let yt = y + t * outFeatures + cols.lowerBound
                    for j in 0..<cols.count { yt[j] += a * row[j] }
                }
            }
        }
    }

    public static func convertRow(_ src: UnsafeRawPointer, dtype: DType, count: Int, into out: UnsafeMutablePointer<Float>,
                                  accumulate: Bool = false)
    {
        for i in 0..<count {
            let v: Float = switch dtype {
            case .f32: src.loadUnaligned(fromByteOffset: i * 4, as: Float.self)
            case .f16: Float(src.loadUnaligned(fromByteOffset: i * 2, as: Float16.self))
            case .bf16: BFloat16.toFloat(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
            default: 0
            }
            out[i] = accumulate ? out[i] + v : v
        }
    }

    static func convertRow(_ src: UnsafeRawPointer, dtype: DType, count: Int, into out: inout [Float]) {
        out.withUnsafeMutableBufferPointer { convertRow(src, dtype: dtype, count: count, into: $0.baseAddress!) }
    }

    public static func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, eps: Float, count: Int,
                               into y: UnsafeMutablePointer<Float>)
    {
        var ss: Float = 0
        for i in 0..<count { ss += x[i] * x[i] }
        let scale = 1 / (ss / Float(count) + eps).squareRoot()
        for i in 0..<count { y[i] = x[i] * scale * (weight?[i] ?? 1) }
    }

    public static func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?,
                                 eps: Float, count: Int, into y: UnsafeMutablePointer<Float>)
    {
        var mean: Float = 0
        for i in 0..<count { mean += x[i] }
        mean /= Float(count)
        var v: Float = 0
        for i in 0..<count { v += (x[i] - mean) * (x[i] - mean) }
        let scale = 1 / (v / Float(count) + eps).squareRoot()
        for i in 0..<count { y[i] = (x[i] - mean) * scale * (weight?[i] ?? 1) + (bias?[i] ?? 0) }
    }

    /// In-place softmax of `x[count]`.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var m = -Float.infinity
        for i in 0..<count { m = max(m, x[i]) }
        var s: Float = 0
        for i in 0..<count { x[i] = Foundation.exp(x[i] - m); s += x[i] }
        let inv = 1 / s
        for i in 0..<count { x[i] *= inv }
    }

    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s: Float = 0
        for i in 0..<count { s += a[i] * b[i] }
        return s
    }

    /// y += a · x
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += a * x[i] }
    }

    /// gate[i] = act(gate[i]) * up[i]
    public static func gatedActivation(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int, activation: Activation) {
        for i in 0..<count { gate[i] = activation.apply(gate[i]) * up[i] }
    }

    public static func activate(_ x: UnsafeMutablePointer<Float>, count: Int, activation: Activation) {
        for i in 0..<count { x[i] = activation.apply(x[i]) }
    }

    /// Rotates pairs (i, i + d/2) of each head ("rotate_half", as transformers' Llama/Falcon do).
    public static func applyRotary(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, cos: UnsafePointer<Float>,
                                   sin: UnsafePointer<Float>)
    {
        let half = headDim / 2
        for h in 0..<heads {
            let p = x + h * headDim
            for i in 0..<half {
                let a = p[i], b = p[i + half]
                p[i] = a * cos[i] - b * sin[i]
                p[i + half] = b * cos[i] + a * sin[i]
            }
        }
    }
}

/// Activation functions by their Hugging Face names.
public enum Activation: String, Sendable {
    case silu, relu, gelu
    /// tanh approximation: `gelu_new`, `gelu_pytorch_tanh`, BLOOM's gelu.
    case geluTanh

    public init?(huggingFaceName: String) {
        switch huggingFaceName {
        case "silu", "swish": self = .silu
        case "relu": self = .relu
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "bloom_gelu": self = .geluTanh
        default: return nil
        }
    }

    @inline(__always) public func apply(_ x: Float) -> Float {
        switch self {
        case .silu: return x / (1 + Foundation.exp(-x))
        case .relu: return max(0, x)
        case .gelu: return 0.5 * x * (1 + Float(Foundation.erf(Double(x) / 2.0.squareRoot())))
        case .geluTanh:
            let c: Float = 0.7978845608028654
            return 0.5 * x * (1 + Foundation.tanh(c * (x + 0.044715 * x * x * x)))
        }
    }
}
