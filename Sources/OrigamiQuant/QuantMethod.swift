public import OrigamiNN

/// The quantization methods, named as the CLI names them.
public enum QuantMethod: String, CaseIterable, Sendable, Codable {
    /// int8 codes with one absmax scale per output row (bitsandbytes' vector-wise quantization); activations are
    /// quantized per token on the fly and the product is int8 × int8 → int32.
    case int8
    /// uint8 codes with a scale and a zero point per output row (asymmetric); activations as for `int8`.
    case int8ZeroPoint = "int8-zp"
    /// `int8` weights plus LLM.int8()'s mixed-precision decomposition: input columns holding an activation of
    /// magnitude ≥ threshold are multiplied in float against the dequantized weight columns.
    case llmInt8 = "llm-int8"
    /// 4-bit NormalFloat codes, blockwise absmax (QLoRA / bitsandbytes).
    case nf4
    /// bitsandbytes' 4-bit float (1 sign, 2 exponent, 1 mantissa bit), blockwise absmax.
    case fp4

    public init(parsing name: String) throws(QuantError) {
        guard let m = QuantMethod(rawValue: name.lowercased()) else { throw .unknownMethod(name) }
        self = m
    }

    public var isFourBit: Bool { self == .nf4 || self == .fp4 }
    public var fourBitType: FourBitType? {
        switch self {
        case .nf4: .nf4
        case .fp4: .fp4
        default: nil
        }
    }
}

/// A quantized weight type: a `LinearWeight` whose storage is counted with its scales and zero points.
public protocol QuantizedLinearWeight: LinearWeight {
    /// `storageBytes · 8 / (in · out)`: codes, scales, zero points and nested statistics per weight.
    var bitsPerWeight: Double { get }
}

/// What to quantize and how: the method and its parameters, and the layers to leave in float.
public struct QuantSpec: Sendable, Equatable {
    /// bitsandbytes' default 4-bit block.
    public static let defaultBlockSize = 64
    /// LLM.int8()'s default outlier threshold.
    public static let defaultThreshold: Float = 6.0
    /// bitsandbytes (and transformers) keep the output layer in float by default; embeddings never pass through a
    /// linear binder, so they stay float too.
    public static let defaultSkip = ["lm_head"]

    public let method: QuantMethod
    /// Elements per absmax block (4-bit methods).
    public let blockSize: Int
    /// Quantize the 4-bit absmax values again (8-bit dynamic code, blocks of 256, mean offset).
    public let doubleQuant: Bool
    /// LLM.int8() outlier threshold (`llm-int8` only).
    public let threshold: Float
    /// Glob patterns (`*`, `?`) of layer names kept in float, matched as `SkipPattern` describes.
    public let skip: [String]

    public init(method: QuantMethod, blockSize: Int = QuantSpec.defaultBlockSize, doubleQuant: Bool = false,
                threshold: Float = QuantSpec.defaultThreshold, skip: [String] = QuantSpec.defaultSkip) throws(QuantError)
    {
        try Self.validate(blockSize: blockSize)
        guard threshold.isFinite, threshold > 0 else { throw .invalidThreshold(threshold) }
        if doubleQuant && !method.isFourBit {
            throw .unsupported("double quantization applies to the 4-bit methods (nf4, fp4), not \(method.rawValue)")
        }
        self.method = method
        self.blockSize = blockSize
        self.doubleQuant = doubleQuant
        self.threshold = threshold
        self.skip = skip
    }

    /// The block sizes bitsandbytes' `quantize_4bit` accepts.
    public static func validate(blockSize: Int) throws(QuantError) {
        guard blockSize >= 32, blockSize <= 4096, blockSize & (blockSize - 1) == 0 else { throw .invalidBlockSize(blockSize) }
    }

    /// Whether the layer (e.g. `model.layers.3.mlp.up_proj`) stays in float.
    public func skips(_ layer: String) -> Bool { skip.contains { SkipPattern.matches($0, layer) } }

    /// One line for logs and reports, e.g. "nf4, block 64, double quant".
    public var summary: String {
        switch method {
        case .nf4, .fp4: "\(method.rawValue), block \(blockSize)\(doubleQuant ? ", double quant" : "")"
        case .llmInt8: "llm-int8, threshold \(threshold)"
        case .int8, .int8ZeroPoint: method.rawValue
        }
    }
}

/// Layer-name patterns for `--skip`: `*` matches any run of characters (dots included), `?` one character. A
/// pattern without wildcards also matches any layer whose name ends with `.` + the pattern, so `lm_head` and
/// `down_proj` work as transformers' `llm_int8_skip_modules` names do.
public enum SkipPattern {
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        if !pattern.contains("*") && !pattern.contains("?") {
            return name == pattern || name.hasSuffix("." + pattern)
        }
        return glob(Array(pattern.utf8), Array(name.utf8))
    }

    /// Iterative wildcard match with single-star backtracking: linear in practice, no recursion.
    static func glob(_ p: [UInt8], _ s: [UInt8]) -> Bool {
        var i = 0, j = 0, star = -1, mark = 0
        while j < s.count {
            if i < p.count && (p[i] == UInt8(ascii: "?") || p[i] == s[j]) {
                i += 1
                j += 1
            } else if i < p.count && p[i] == UInt8(ascii: "*") {
                star = i
                mark = j
                i += 1
            } else if star >= 0 {
                i = star + 1
                mark += 1
                j = mark
            } else {
                return false
            }
        }
        while i < p.count && p[i] == UInt8(ascii: "*") { i += 1 }
        return i == p.count
    }
}
