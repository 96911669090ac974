public import OrigamiTensor
import COrigamiKernels

/// How the products of a matrix × matrix are formed. Sums are always accumulated in f32.
public enum MatmulPrecision: Sendable, Equatable, CaseIterable {
    /// f32 activations times weights widened to f32: what a float32 PyTorch run computes.
    case f32
    /// Activations and weights rounded to bf16 (round to nearest even), products summed in f32, as a bf16
    /// PyTorch/oneDNN run does. Several times faster for prefill (AMX tiles where present, else `vdpbf16ps`).
    case bf16
}

/// `y[tokens, out] = x[tokens, in] · Wᵀ (+ bias)`, the Hugging Face `nn.Linear` forward over a stored weight.
///
/// Chooses the kernel by token count: up to `Gemm.matvecMaxTokens` tokens (`f32MatvecMaxTokens` in f32) the weights are streamed once through
/// a matrix × vector kernel (decode is bound by memory bandwidth, and is always computed in f32); more tokens go to
/// a blocked matrix × matrix kernel of the requested precision.
///
/// - Parameters:
///   - x: activations, `[tokens, weight.cols]` contiguous.
///   - bias: `[weight.rows]`, or nil.
///   - y: output, `[tokens, weight.rows]` contiguous; must not overlap `x`.
public func linear(
    x: UnsafePointer<Float>, tokens: Int, weight: WeightMatrix, bias: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, precision: MatmulPrecision = .f32, pool: ThreadPool = .shared
) {
    guard tokens > 0, weight.rows > 0 else { return }
    if weight.cols == 0 {
        Gemm.biasOnly(tokens: tokens, rows: weight.rows, bias: bias, y: y)
        return
    }
    if tokens <= Gemm.matvecMaxTokens || (precision == .f32 && tokens <= Gemm.f32MatvecMaxTokens) {
        Gemm.matvec(x: x, tokens: tokens, weight: weight, bias: bias, y: y, pool: pool)
        return
    }
    switch precision {
    case .f32: Gemm.f32(x: x, tokens: tokens, weight: weight, bias: bias, y: y, pool: pool)
    case .bf16:
        if !Gemm.bf16AMX(x: x, tokens: tokens, weight: weight, bias: bias, y: y, pool: pool) {
            Gemm.bf16(x: x, tokens: tokens, weight: weight, bias: bias, y: y, pool: pool)
        }
    }
}

/// The same over a raw pointer, for callers that hold weights as pointer + dtype.
///
/// `dtype` must be `.f32`, `.f16` or `.bf16` (validate it when loading; `WeightMatrix.init` throws for others).
public func linear(
    x: UnsafePointer<Float>, tokens: Int, inFeatures: Int, weight: UnsafeRawPointer, dtype: DType,
    outFeatures: Int, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
    precision: MatmulPrecision = .f32, pool: ThreadPool = .shared
) {
    precondition(dtype.isFloatingPoint, "linear: weight dtype must be F32, F16 or BF16")
    let w = try! WeightMatrix(data: weight, dtype: dtype, rows: outFeatures, cols: inFeatures)
    linear(x: x, tokens: tokens, weight: w, bias: bias, y: y, precision: precision, pool: pool)
}

/// The individual matrix kernels behind `linear`, for benchmarks, tests and callers that want one on purpose.
/// Shapes as in `linear`: x `[tokens, weight.cols]`, y `[tokens, weight.rows]`, both contiguous.
public enum Gemm {
    /// Token counts up to this go through `matvec`: the weights are streamed once and every token's row is
    /// computed from them, which beats padding a 32-token matrix tile.
    public static let matvecMaxTokens = 4

    /// In f32, token counts up to this also go through `matvec`, in groups of 4 over each chunk of rows while the
    /// chunk is in L2: the weights still come from memory once, and a batched decode step of up to 16 sequences
    /// (the server's continuous batching) costs far less than the blocked f32 kernel's 32-token tiles
    /// (`origami bench --batch 1,4,8,16` on the TinyLlama shape: 8 sequences 45.9 vs 24.5 tok/s, 16: 60.6 vs 55.0).
    public static let f32MatvecMaxTokens = 16

    /// Tokens packed and multiplied per pass; bounds the packed copy of x (≤ 256 × in × 4 bytes).
    static let tokenGroup = 256

    /// Whether the bf16 precision runs on AMX tiles on this machine.
    public static var hasAMX: Bool { ok_amx_available() }

    /// Matrix × vector (each token separately, up to 4 per weight pass), exact f32 accumulation.
    public static func matvec(
        x: UnsafePointer<Float>, tokens: Int, weight: WeightMatrix, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared
    ) {
        let rows = weight.rows, cols = weight.cols
        guard tokens > 0, rows > 0 else { return }
        // ~8 chunks per thread balance a noisy machine; ≥ 16 rows keep the claim cost (~0.1 µs) negligible;
        // multiples of 8 rows suit the kernel, which streams 8 rows at a time.
        let perChunk = (max(16, (rows + pool.threadCount * 8 - 1) / (pool.threadCount * 8)) + 7) & ~7
        let chunks = (rows + perChunk - 1) / perChunk
        let code = weight.kernelCode, data = weight.data, ld = weight.rowStride
        pool.parallelFor(chunks) { c in
            let r0 = c * perChunk, r1 = min(rows, r0 + perChunk)
            // Token groups inside the chunk: the chunk's rows stay in L2 for the next group.
            var t = 0
            while t < tokens {
                let n = min(4, tokens - t)
                ok_matvec_multi(code, Int32(n), x + t * cols, cols, data, ld, cols, r0, r1, bias, y + t * rows, rows)
                t += n
            }
        }
    }

    /// Blocked matrix × matrix in exact f32 (f16/bf16 weights widened block by block).
    public static func f32(
        x: UnsafePointer<Float>, tokens: Int, weight: WeightMatrix, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared
    ) {
        guard tokens > 0, weight.rows > 0 else { return }
        guard weight.cols > 0 else { return biasOnly(tokens: tokens, rows: weight.rows, bias: bias, y: y) }
        let k = weight.cols
        forEachTokenGroup(tokens) { t0, nt in
            let blocks = (nt + 31) / 32
            let xp = scratch(bytes: blocks * 32 * k * 4).assumingMemoryBound(to: Float.self)  // [blocks, k, 32]
            pool.parallelFor(blocks) { b in
                ok_pack_x_f32(x + (t0 + b * 32) * k, k, Int32(min(32, nt - b * 32)), k, xp + b * 32 * k)
            }
            rowChunks(weight, chunkRows: tiledChunkRows(weight.rows, pool), pool: pool) { r0, r1 in
                ok_gemm_f32_rows(weight.kernelCode, xp, Int32(nt), k, weight.data, weight.rowStride, r0, r1, bias,
                                 y + t0 * weight.rows, weight.rows)
            }
        }
    }

    /// Blocked matrix × matrix with bf16 products (`vdpbf16ps`), f32 sums.
    public static func bf16(
        x: UnsafePointer<Float>, tokens: Int, weight: WeightMatrix, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared
    ) {
        guard tokens > 0, weight.rows > 0 else { return }
        guard weight.cols > 0 else { return biasOnly(tokens: tokens, rows: weight.rows, bias: bias, y: y) }
        let k = weight.cols, pairs = (k + 1) / 2
        forEachTokenGroup(tokens) { t0, nt in
            let blocks = (nt + 31) / 32
            let xp = scratch(bytes: blocks * 32 * pairs * 4).assumingMemoryBound(to: UInt16.self)  // [blocks, k/2, 32, 2]
            pool.parallelFor(blocks) { b in
                ok_pack_x_bf16(x + (t0 + b * 32) * k, k, Int32(min(32, nt - b * 32)), k, xp + b * 64 * pairs)
            }
            rowChunks(weight, chunkRows: tiledChunkRows(weight.rows, pool), pool: pool) { r0, r1 in
                ok_gemm_bf16_rows(weight.kernelCode, xp, Int32(nt), k, weight.data, weight.rowStride, r0, r1, bias,
                                  y + t0 * weight.rows, weight.rows)
            }
        }
    }

    /// bf16 products on AMX tiles. Returns false (computing nothing) when this machine has no usable AMX.
    @discardableResult
    public static func bf16AMX(
        x: UnsafePointer<Float>, tokens: Int, weight: WeightMatrix, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared
    ) -> Bool {
        guard hasAMX else { return false }
        guard tokens > 0, weight.rows > 0 else { return true }
        guard weight.cols > 0 else {
            biasOnly(tokens: tokens, rows: weight.rows, bias: bias, y: y)
            return true
        }
        let k = weight.cols, pairs = (k + 31) / 32 * 16
        forEachTokenGroup(tokens) { t0, nt in
            let groups = (nt + 15) / 16
            let xp = scratch(bytes: groups * 16 * pairs * 4).assumingMemoryBound(to: UInt16.self)  // [groups, pairs, 16, 2]
            pool.parallelFor((groups + 1) / 2) { b in
                ok_pack_x_amx(x + (t0 + b * 32) * k, k, Int32(min(32, nt - b * 32)), k, xp + b * 64 * pairs)
            }
            // Long chunks let the kernel prefetch each next 32-row block while computing the current one; short
            // matrices still get a few chunks per thread.
            let chunkRows = min(256, max(32, (weight.rows / (pool.threadCount * 2) + 31) / 32 * 32))
            rowChunks(weight, chunkRows: chunkRows, pool: pool) { r0, r1 in
                ok_gemm_amx_rows(weight.kernelCode, xp, Int32(nt), k, weight.data, weight.rowStride, r0, r1, bias,
                                 y + t0 * weight.rows, weight.rows)
            }
        }
        return true
    }

    /// y = bias (or 0) for an empty inner dimension, where the kernels would have nothing to sum.
    static func biasOnly(tokens: Int, rows: Int, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        for t in 0..<tokens {
            if let bias { (y + t * rows).update(from: bias, count: rows) } else { (y + t * rows).update(repeating: 0, count: rows) }
        }
    }

    private static func forEachTokenGroup(_ tokens: Int, _ body: (_ first: Int, _ count: Int) -> Void) {
        var t0 = 0
        while t0 < tokens {
            let n = min(tokenGroup, tokens - t0)
            body(t0, n)
            t0 += n
        }
    }

    /// Rows per chunk for the AVX-512 kernels: a multiple of their 12-row tile, up to 96 (each chunk streams all
    /// of packed x once, so longer chunks halve that traffic when x outgrows L2), and at least two chunks per thread.
    private static func tiledChunkRows(_ rows: Int, _ pool: ThreadPool) -> Int {
        min(96, max(12, rows / (pool.threadCount * 2) / 12 * 12))
    }

    /// The calling thread's scratch for packed activations (slot 2; slots 0 and 1 belong to the row kernels).
    private static func scratch(bytes: Int) -> UnsafeMutableRawPointer {
        guard let p = ok_thread_scratch(2, bytes) else { fatalError("out of memory: \(bytes) bytes of kernel scratch") }
        return p
    }

    /// Runs `body` over row ranges of `chunkRows` in parallel. The row kernels allocate per-thread scratch and
    /// report failure only when memory is exhausted.
    private static func rowChunks(
        _ weight: WeightMatrix, chunkRows: Int, pool: ThreadPool, _ body: (_ r0: Int, _ r1: Int) -> Bool
    ) {
        let rows = weight.rows
        let chunks = (rows + chunkRows - 1) / chunkRows
        pool.parallelFor(chunks) { c in
            let r0 = c * chunkRows
            if !body(r0, min(rows, r0 + chunkRows)) { fatalError("out of memory for kernel scratch") }
        }
    }
}
