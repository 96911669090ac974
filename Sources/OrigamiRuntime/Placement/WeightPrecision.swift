import Foundation

/// How weights are stored, and what each tensor costs in bytes that way.
///
/// Conventions (checked against bitsandbytes in Tests/Fixtures/configs/parameter_counts.json):
/// - `f32`, `bf16`, `f16`: every tensor at 4 or 2 bytes per element.
/// - `int8` (LLM.int8()): each linear weight at 1 byte per element plus one fp32 scale per output row.
/// - `nf4`: each linear weight at 4 bits, plus one fp32 absmax per block of 64 and the 16-entry fp32 codebook.
///   `nf4DoubleQuant` (QLoRA's double quantization) stores the absmaxes as 8-bit codes instead, with one fp32 scale
///   per 256 of them, a 256-entry fp32 codebook for those codes and an fp32 offset: 4 + 8/64 + 32/(64·256) ≈ 4.127
///   bits per weight against 4.5 without.
/// - For `int8` and `nf4`, as bitsandbytes does, only linear layers are quantized and never the LM head; token and
///   position tables, norms and biases stay at 16 bits.
/// - `bitsPerWeight(b)`: every parameter at `b` bits, scales included, the flat convention of the seed articles
///   ("4-bit = 0.5 bytes per parameter") and of ExLlamaV2's bpw targets.
public enum WeightPrecision: Sendable, Equatable, Hashable, CustomStringConvertible {
    case f32, bf16, f16, int8, nf4, nf4DoubleQuant
    case bitsPerWeight(Double)

    /// Parses `f32`, `fp32`, `bf16`, `f16`, `fp16`, `int8`, `nf4`, `nf4-dq`, or `bpw=2.5`.
    public init(parsing text: String) throws(PlanError) {
        switch text.lowercased() {
        case "f32", "fp32", "float32": self = .f32
        case "bf16", "bfloat16": self = .bf16
        case "f16", "fp16", "float16": self = .f16
        case "int8", "llm.int8": self = .int8
        case "nf4": self = .nf4
        case "nf4-dq", "nf4dq": self = .nf4DoubleQuant
        default:
            let lower = text.lowercased()
            guard lower.hasPrefix("bpw=") else {
                throw .invalidPrecision(text, reason: "expected f32, bf16, f16, int8, nf4, nf4-dq or bpw=<bits>")
            }
            guard let bits = Double(lower.dropFirst(4)), bits > 0, bits <= 32 else {
                throw .invalidPrecision(text, reason: "bits per weight must be a number in (0, 32]")
            }
            self = .bitsPerWeight(bits)
        }
    }

    public var description: String {
        switch self {
        case .f32: "f32"
        case .bf16: "bf16"
        case .f16: "f16"
        case .int8: "int8"
        case .nf4: "nf4"
        case .nf4DoubleQuant: "nf4-dq"
        case .bitsPerWeight(let b): "bpw=\(formatBits(b))"
        }
    }

    /// The precisions `origami plan` lists next to the chosen one.
    public static let common: [WeightPrecision] = [.f32, .bf16, .int8, .nf4, .nf4DoubleQuant, .bitsPerWeight(4), .bitsPerWeight(3)]

    /// Bytes of one tensor stored this way.
    public func bytes(_ t: TensorSpec) -> Int {
        let n = t.elements
        switch self {
        case .f32: return 4 * n
        case .bf16, .f16: return 2 * n
        case .bitsPerWeight(let b): return Int((Double(n) * b / 8).rounded(.up))
        case .int8, .nf4, .nf4DoubleQuant:
            guard case .linear(let rows, _) = t.shape, t.role != .lmHead else { return 2 * n }
            switch self {
            case .int8:
                return n + 4 * rows
            case .nf4:
                return (n + 1) / 2 + 4 * Self.blocks(n, 64) + 16 * 4
            default:
                let absmax = Self.blocks(n, 64)
                return (n + 1) / 2 + absmax + 4 * Self.blocks(absmax, 256) + 16 * 4 + 256 * 4 + 4
            }
        }
    }

    /// Bytes of a list of tensors.
    public func bytes(_ specs: [TensorSpec]) -> Int { specs.reduce(0) { $0 + bytes($1) } }

    static func blocks(_ n: Int, _ size: Int) -> Int { (n + size - 1) / size }
}

/// "2.5", "4", "2.51": bits without trailing zeros.
func formatBits(_ b: Double) -> String {
    b == b.rounded() ? String(Int(b)) : String(format: "%g", b)
}
