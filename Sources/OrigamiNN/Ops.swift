public import OrigamiTensor
import OrigamiKernels

/// The layer-level operations, each a call into OrigamiKernels (whose fast kernels are tested against their plain
/// twins in OrigamiKernels/Reference).
public enum Ops {
    /// y[tokens, rows] = x[tokens, cols] · W[rows, cols]ᵀ (+ bias), W stored as F32/F16/BF16.
    public static func linear(x: UnsafePointer<Float>, tokens: Int, weight: UnsafeRawPointer, dtype: DType, rows: Int,
                              cols: Int, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, context: ComputeContext)
    {
        OrigamiKernels.linear(x: x, tokens: tokens, inFeatures: cols, weight: weight, dtype: dtype, outFeatures: rows, bias: bias,
                              y: y, precision: context.matmulPrecision, pool: context.pool)
    }

    /// y[tokens, out] = x[tokens, in] · W[in, out] (+ bias), W stored transposed (GPT-2's Conv1D).
    ///
    /// Decode streams each weight row once and accumulates it into the output (axpy). Prefill transposes the matrix
    /// into a transient F32 scratch `[out, in]` (one layer's matrix, freed after the call: not a second copy of the
    /// checkpoint) and runs the blocked GEMM on it, which costs one extra pass over the weights for many tokens.
    public static func linearTransposed(x: UnsafePointer<Float>, tokens: Int, weight: UnsafeRawPointer, dtype: DType,
                                        inFeatures: Int, outFeatures: Int, bias: UnsafePointer<Float>?,
                                        y: UnsafeMutablePointer<Float>, context: ComputeContext)
    {
        if tokens > 4 {
            let t = FloatBuffer(count: outFeatures * inFeatures)   // [out, in]
            let tp = t.pointer
            // Blocks of 32 stored rows: convert them whole (one long conversion each), then write 32 contiguous
            // values into every row of the transposed scratch.
            context.parallelChunks((inFeatures + 31) / 32) { blocks in
                let block = FloatBuffer(count: 32 * outFeatures)   // [32, out]
                let bp = block.pointer
                for b in blocks {
                    let i0 = b * 32, n = min(32, inFeatures - i0)
                    convertToFloat(weight + i0 * outFeatures * dtype.byteSize, dtype: dtype, count: n * outFeatures, into: bp)
                    for o in 0..<outFeatures {
                        let dst = tp + o * inFeatures + i0
                        for r in 0..<n { dst[r] = bp[r * outFeatures + o] }
                    }
                }
            }
            OrigamiKernels.linear(x: x, tokens: tokens, inFeatures: inFeatures, weight: UnsafeRawPointer(tp), dtype: .f32,
                                  outFeatures: outFeatures, bias: bias, y: y, precision: context.matmulPrecision, pool: context.pool)
            return
        }
        // One wide band per thread: long rows keep the per-row conversion and axpy calls cheap relative to the work.
        context.parallelChunks(outFeatures, minChunk: max(256, (outFeatures + context.threads - 1) / context.threads)) { cols in
            let width = cols.count
            let row = FloatBuffer(count: width)   // [width] one weight row's band, as F32
            for t in 0..<tokens {
                let yt = y + t * outFeatures + cols.lowerBound
                if let bias { yt.update(from: bias + cols.lowerBound, count: width) } else { yt.update(repeating: 0, count: width) }
            }
            for i in 0..<inFeatures {
                convertToFloat(weight + (i * outFeatures + cols.lowerBound) * dtype.byteSize, dtype: dtype, count: width,
                               into: row.pointer)
                for t in 0..<tokens {
                    axpy(x[t * inFeatures + i], row.pointer, y + t * outFeatures + cols.lowerBound, count: width)
                }
            }
        }
    }

    public static func convertRow(_ src: UnsafeRawPointer, dtype: DType, count: Int, into out: UnsafeMutablePointer<Float>,
                                  accumulate: Bool = false)
    {
        guard accumulate else { return convertToFloat(src, dtype: dtype, count: count, into: out) }
        let tmp = FloatBuffer(count: count)
        convertToFloat(src, dtype: dtype, count: count, into: tmp.pointer)
        vectorAdd(out, tmp.pointer, into: out, count: count)
    }

    public static func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        vectorAdd(y, x, into: y, count: count)
    }

    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, eps: Float, count: Int,
                               into y: UnsafeMutablePointer<Float>)
    {
        OrigamiKernels.rmsNorm(x, weight: weight, eps: eps, count: count, into: y)
    }

    public static func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?,
                                 eps: Float, count: Int, into y: UnsafeMutablePointer<Float>)
    {
        OrigamiKernels.layerNorm(x, weight: weight, bias: bias, eps: eps, count: count, into: y)
    }

    /// In-place softmax of `x[count]`.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        _ = OrigamiKernels.softmax(x, count: count, into: x)
    }

    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        OrigamiKernels.dot(a, b, count: count)
    }

    /// y += a · x
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        OrigamiKernels.axpy(a, x, y, count: count)
    }

    /// gate[i] = act(gate[i]) * up[i]
    public static func gatedActivation(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int, activation: Activation) {
        if activation == .silu { return siluMul(gate: gate, up: up, into: gate, count: count) }
        activate(gate, count: count, activation: activation)
        vectorMultiply(gate, up, into: gate, count: count)
    }

    public static func activate(_ x: UnsafeMutablePointer<Float>, count: Int, activation: Activation) {
        switch activation {
        case .silu: silu(x, into: x, count: count)
        case .relu: relu(x, into: x, count: count)
        case .gelu: gelu(x, into: x, count: count, approximation: .none)
        case .geluTanh: gelu(x, into: x, count: count, approximation: .tanh)
        }
    }

    /// Rotates pairs (i, i + d/2) of each head ("rotate_half", as transformers' Llama/Falcon do).
    public static func applyRotary(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, cos: UnsafePointer<Float>,
                                   sin: UnsafePointer<Float>)
    {
        for h in 0..<heads { applyRoPE(x + h * headDim, cos: cos, sin: sin, rotaryDim: headDim, layout: .rotateHalf) }
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
}
