public import OrigamiTensor
import COrigamiKernels

// Row kernels over f32 vectors: 16 lanes at a time with masked tails, so any length works. Unless stated
// otherwise `out` may be the same buffer as an input (in place), but must not partially overlap it.

/// Σ a[i]·b[i]
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    count > 0 ? ok_dot(a, b, count) : 0
}

/// y += alpha · x
public func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    if count > 0 { ok_axpy(alpha, x, y, count) }
}

/// out = alpha · x
public func vectorScale(_ x: UnsafePointer<Float>, by alpha: Float, into out: UnsafeMutablePointer<Float>, count: Int) {
    if count > 0 { ok_scale(x, alpha, count, out) }
}

/// out = a + b (residual connections)
public func vectorAdd(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
    if count > 0 { ok_add(a, b, out, count) }
}

/// out = a · b elementwise
public func vectorMultiply(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int
) {
    if count > 0 { ok_mul(a, b, out, count) }
}

/// RMSNorm as Llama computes it: `x / sqrt(mean(x²) + eps) · weight` (weight nil: no scale).
public func rmsNorm(
    _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, eps: Float, count: Int, into out: UnsafeMutablePointer<Float>
) {
    if count > 0 { ok_rmsnorm(x, weight, eps, count, out) }
}

/// LayerNorm: `(x − mean) / sqrt(var + eps) · weight + bias`, biased variance as torch uses; weight/bias optional.
public func layerNorm(
    _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, eps: Float, count: Int,
    into out: UnsafeMutablePointer<Float>
) {
    if count > 0 { ok_layernorm(x, weight, bias, eps, count, out) }
}

/// out = softmax(x · scale), subtracting the maximum first so no exponent overflows.
///
/// A row whose entries are all −∞ (fully masked) becomes all zeros instead of NaN.
/// - Parameters:
///   - maximum: max(x · scale) when the caller already has it (attention often does); it saves one pass. It must
///     not be below the true maximum.
/// - Returns: the maximum of `x · scale` (−∞ for such a row), for callers that combine partial softmaxes.
@discardableResult
public func softmax(
    _ x: UnsafePointer<Float>, count: Int, scale: Float = 1, maximum: Float? = nil, into out: UnsafeMutablePointer<Float>
) -> Float {
    ok_softmax(x, count, scale, maximum != nil, maximum ?? 0, out)
}

/// out[i] = exp(x[i] − shift); returns Σ out[i]. The building block of online (streaming) softmax in attention.
public func expShifted(_ x: UnsafePointer<Float>, count: Int, shift: Float, into out: UnsafeMutablePointer<Float>) -> Float {
    count > 0 ? ok_exp_shifted_sum(x, count, shift, out) : 0
}

/// out = silu(gate) · up, the gated MLP of Llama-style models (`act_fn(gate_proj(x)) * up_proj(x)`).
public func siluMul(
    gate: UnsafePointer<Float>, up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int
) {
    if count > 0 { ok_silu_mul(gate, up, out, count) }
}

/// out = x · sigmoid(x)
public func silu(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
    if count > 0 { ok_silu(x, out, count) }
}

/// GELU variants of transformers' `ACT2FN`.
public enum GELUApproximation: Sendable, Equatable {
    /// `gelu`: 0.5·x·(1 + erf(x/√2)).
    case none
    /// `gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))).
    case tanh
}

/// out = gelu(x)
public func gelu(
    _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, approximation: GELUApproximation = .none
) {
    guard count > 0 else { return }
    switch approximation {
    case .none: ok_gelu_erf(x, out, count)
    case .tanh: ok_gelu_tanh(x, out, count)
    }
}

/// out = max(x, 0) (NaN stays NaN)
public func relu(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
    if count > 0 { ok_relu(x, out, count) }
}

/// Which elements a rotary embedding rotates together.
public enum RoPELayout: Sendable, Equatable {
    /// Llama, Mistral, GPT-NeoX, Falcon (`rotate_half`): element i pairs with i + rotaryDim/2.
    case rotateHalf
    /// GPT-J, CodeGen (`rotate_every_two`): elements 2i and 2i+1 pair.
    case interleaved
}

/// Rotates the first `rotaryDim` elements of one head vector in place; later elements (partial rotary) are left
/// alone.
///
/// - Parameters:
///   - cos: `[rotaryDim / 2]` values cos(position · θᵢ) for this position, pair i's angle.
///   - sin: `[rotaryDim / 2]`, likewise.
public func applyRoPE(
    _ x: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, rotaryDim: Int,
    layout: RoPELayout
) {
    precondition(rotaryDim % 2 == 0, "rotary dimension must be even")
    if rotaryDim > 0 { ok_rope(x, cos, sin, rotaryDim / 2, layout == .rotateHalf) }
}

/// `applyRoPE` for `heads` head vectors of one token, `headStride` elements apart (`[heads, headDim]` → headDim).
public func applyRoPE(
    _ x: UnsafeMutablePointer<Float>, heads: Int, headStride: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
    rotaryDim: Int, layout: RoPELayout
) {
    precondition(rotaryDim % 2 == 0, "rotary dimension must be even")
    precondition(heads <= 1 || headStride >= rotaryDim, "heads overlap")
    if rotaryDim > 0, heads > 0 { ok_rope_heads(x, heads, headStride, cos, sin, rotaryDim / 2, layout == .rotateHalf) }
}

/// Widens `count` stored elements (F32, F16 or BF16) to f32, e.g. one embedding row.
public func convertToFloat(_ src: UnsafeRawPointer, dtype: DType, count: Int, into out: UnsafeMutablePointer<Float>) {
    guard count > 0 else { return }
    switch dtype {
    case .f32: out.update(from: src.assumingMemoryBound(to: Float.self), count: count)
    case .f16: ok_f16_to_f32(src.assumingMemoryBound(to: UInt16.self), out, count)
    case .bf16: ok_bf16_to_f32(src.assumingMemoryBound(to: UInt16.self), out, count)
    default: preconditionFailure("convertToFloat: \(dtype) is not a float dtype")
    }
}

/// Rounds f32 to bf16 (nearest even) or f16, e.g. to store a KV cache or write a checkpoint.
public func convertFromFloat(_ src: UnsafePointer<Float>, dtype: DType, count: Int, into out: UnsafeMutableRawPointer) {
    guard count > 0 else { return }
    switch dtype {
    case .f32: out.assumingMemoryBound(to: Float.self).update(from: src, count: count)
    case .f16: ok_f32_to_f16(src, out.assumingMemoryBound(to: UInt16.self), count)
    case .bf16: ok_f32_to_bf16(src, out.assumingMemoryBound(to: UInt16.self), count)
    default: preconditionFailure("convertFromFloat: \(dtype) is not a float dtype")
    }
}
