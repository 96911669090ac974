import COrigamiKernels

/// How activations are quantized on the fly for an int8 product (LLM.int8()'s vector-wise quantization: one absmax
/// per token, q = round(127 · x / absmax), ties to even) and how the integer sums are scaled back.
public struct Int8ActivationQuantization: Sendable, Equatable {
    /// Round activations to f16 before measuring and quantizing them: bitsandbytes casts them to float16 first.
    public var throughHalf: Bool
    /// LLM.int8()'s mixed-precision decomposition: input columns in which some token has |x| ≥ threshold are left
    /// out of the int8 product (and out of each token's absmax) and multiplied in f32 against the dequantized
    /// weight columns instead. 0 disables it (bitsandbytes' `threshold=0.0`).
    public var outlierThreshold: Float
    /// For `.absmax` weights, y = acc · (absmax_x · absmax_w) · rescale (+ bias). 1/127² by definition;
    /// bitsandbytes' `int8_mm_dequant` multiplies by the literal 6.200124e-05 instead (1.8e-5 relative off it).
    /// Zero-point weights always use 1/127 (their scale is already the step).
    public var rescale: Float

    public init(throughHalf: Bool = false, outlierThreshold: Float = 0, rescale: Float = 1 / (127 * 127)) {
        self.throughHalf = throughHalf
        self.outlierThreshold = outlierThreshold
        self.rescale = rescale
    }

    /// Exactly what bitsandbytes' `Linear8bitLt` (inference, `MatMul8bitLt`) computes on CPU.
    public static func bitsandbytes(threshold: Float = 0) -> Self {
        Self(throughHalf: true, outlierThreshold: threshold, rescale: 6.200124e-05)
    }
}

/// Which int8 kernel multiplies; `.automatic` is VNNI up to `Int8Kernel.vnniMaxTokens` tokens and AMX beyond.
public enum Int8Kernel: Sendable, CaseIterable {
    case automatic
    /// AVX-512 VNNI (`vpdpbusd`), tokens 4 at a time against each 16-row tile.
    case vnni
    /// AMX int8 tiles (`tdpbssd`/`tdpbsud`); VNNI where the machine has no AMX.
    case amx

    /// Token counts up to this use VNNI under `.automatic`: a matrix × vector streams the weights once either way,
    /// and AMX pays for whole 16-token tiles.
    public static let vnniMaxTokens = 4

    /// Whether this machine runs the AMX int8 kernel.
    public static var hasAMX: Bool { ok_amx_int8_available() }
}

/// `y[tokens, out] = x[tokens, in] · Wᵀ (+ bias)` with int8 × int8 products summed exactly in int32.
///
/// Each token's row is quantized on the fly (see `Int8ActivationQuantization`); with an outlier threshold the
/// outlier columns are then added in f32 against the dequantized weights, as LLM.int8() does.
///
/// - Parameters:
///   - x: `[tokens, weight.cols]` contiguous.
///   - bias: `[weight.rows]`, or nil.
///   - y: `[tokens, weight.rows]` contiguous; must not overlap `x`.
/// - Returns: the outlier columns that went through f32 (ascending; empty without a threshold).
@discardableResult
public func int8Linear(
    x: UnsafePointer<Float>, tokens: Int, weight: Int8Weights, bias: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, activations: Int8ActivationQuantization = .init(), kernel: Int8Kernel = .automatic,
    pool: ThreadPool = .shared
) -> [Int] {
    guard tokens > 0, weight.rows > 0 else { return [] }
    let k = weight.cols, ldq = weight.paddedCols, paddedTokens = (tokens + 15) / 16 * 16
    // Calling thread's scratch (slot 3): codes [paddedTokens, ldq] | absmax [tokens] | Σ codes [tokens] | columns [k]
    let codeBytes = (paddedTokens * ldq + 63) / 64 * 64
    let bytes = codeBytes + 8 * tokens + 4 * k + 64
    guard let scratch = ok_thread_scratch(3, bytes) else { fatalError("out of memory: \(bytes) bytes of kernel scratch") }
    let xq = scratch.assumingMemoryBound(to: Int8.self)
    let absmax = (scratch + codeBytes).assumingMemoryBound(to: Float.self)
    let sums = (scratch + codeBytes + 4 * tokens).assumingMemoryBound(to: Int32.self)
    let columns = (scratch + codeBytes + 8 * tokens).assumingMemoryBound(to: Int32.self)

    var outliers = 0
    let threshold = activations.outlierThreshold
    if threshold > 0 {
        outliers = ok_i8_outlier_columns(x, k, Int32(tokens), k, activations.throughHalf, threshold, columns)
    }
    // Token rows are independent once the outlier columns are known; prefill spreads them over the threads.
    let limit = threshold > 0 ? threshold : Float.infinity, half = activations.throughHalf
    let sumsOut = weight.encoding == .zeroPoint ? sums : nil, zeroCols = UnsafePointer(columns)
    let rowsPerChunk = max(16, (tokens + pool.threadCount - 1) / pool.threadCount)
    pool.parallelFor((tokens + rowsPerChunk - 1) / rowsPerChunk) { c in
        let t0 = c * rowsPerChunk, n = min(rowsPerChunk, tokens - t0)
        ok_i8_quantize_rows(x + t0 * k, k, Int32(n), k, half, limit, zeroCols, outliers, xq + t0 * ldq, ldq, absmax + t0,
                            sumsOut.map { $0 + t0 })
    }
    // AMX reads whole 16-token tiles: the padding rows must be zero codes.
    if paddedTokens > tokens { (xq + tokens * ldq).update(repeating: 0, count: (paddedTokens - tokens) * ldq) }

    let useAMX: Bool
    switch kernel {
    case .automatic: useAMX = tokens > Int8Kernel.vnniMaxTokens && Int8Kernel.hasAMX
    case .vnni: useAMX = false
    case .amx: useAMX = Int8Kernel.hasAMX
    }
    let matrix = weight.kernelMatrix(rescale: activations.rescale)
    let acts = ok_i8_acts(q: UnsafePointer(xq), ld: ldq, absmax: UnsafePointer(absmax), sum: UnsafePointer(sums))
    let tiles = weight.tiles, rows = weight.rows
    let perChunk = useAMX
        ? min(16, max(2, (tiles / (pool.threadCount * 2) + 1) & ~1))   // whole tile pairs, ≥ 2 chunks per thread
        : max(1, tiles / (pool.threadCount * 8))                        // ~8 chunks per thread for a noisy machine
    let chunks = (tiles + perChunk - 1) / perChunk
    let cols = UnsafePointer(columns)
    pool.parallelFor(chunks) { c in
        var m = matrix, a = acts
        let t0 = c * perChunk, t1 = min(tiles, t0 + perChunk)
        if !useAMX || !ok_i8_amx_tiles(&m, &a, Int32(tokens), t0, t1, bias, y, rows) {
            ok_i8_vnni_tiles(&m, &a, Int32(tokens), t0, t1, bias, y, rows)
        }
        if outliers > 0, !ok_i8_outlier_tiles(&m, x, k, Int32(tokens), cols, outliers, t0, t1, y, rows) {
            fatalError("out of memory for kernel scratch")
        }
    }
    return (0..<outliers).map { Int(columns[$0]) }
}

/// LLM.int8()'s float part on its own: `y[t, r] += Σ_{c ∈ columns} x[t, c] · w[r, c]` with the weights
/// dequantized as bitsandbytes does (code · absmax · (1/127), or (code − zero) · scale).
///
/// - Parameters:
///   - x: `[tokens, weight.cols]` contiguous.
///   - columns: input column indices (each < weight.cols).
///   - y: `[tokens, weight.rows]`, accumulated into.
public func int8OutlierColumns(
    x: UnsafePointer<Float>, tokens: Int, weight: Int8Weights, columns: [Int], y: UnsafeMutablePointer<Float>,
    pool: ThreadPool = .shared
) {
    guard tokens > 0, weight.rows > 0, !columns.isEmpty else { return }
    precondition(columns.allSatisfy { $0 >= 0 && $0 < weight.cols }, "outlier column out of range")
    let cols = columns.map { Int32($0) }
    let matrix = weight.kernelMatrix(rescale: 1)
    let tiles = weight.tiles, rows = weight.rows, k = weight.cols
    let perChunk = max(1, tiles / (pool.threadCount * 8))
    cols.withUnsafeBufferPointer { cp in
        let base = cp.baseAddress!, n = cp.count
        pool.parallelFor((tiles + perChunk - 1) / perChunk) { c in
            var m = matrix
            let t0 = c * perChunk
            if !ok_i8_outlier_tiles(&m, x, k, Int32(tokens), base, n, t0, min(tiles, t0 + perChunk), y, rows) {
                fatalError("out of memory for kernel scratch")
            }
        }
    }
}

/// `y = x · Ŵᵀ (+ bias)` in exact f32 against the dequantized weights (what bitsandbytes' training path
/// `MatMul8bitFp` computes on CPU): no activation quantization, the weights widened in registers, never copied.
///
/// - Parameters: as `int8Linear`.
public func int8DequantizedLinear(
    x: UnsafePointer<Float>, tokens: Int, weight: Int8Weights, bias: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared
) {
    guard tokens > 0, weight.rows > 0 else { return }
    let matrix = weight.kernelMatrix(rescale: 1)
    let tiles = weight.tiles, rows = weight.rows, k = weight.cols
    let perChunk = max(1, tiles / (pool.threadCount * 8))
    pool.parallelFor((tiles + perChunk - 1) / perChunk) { c in
        var m = matrix
        let t0 = c * perChunk
        ok_i8_dequant_tiles(&m, x, k, Int32(tokens), k, t0, min(tiles, t0 + perChunk), bias, y, rows)
    }
}
