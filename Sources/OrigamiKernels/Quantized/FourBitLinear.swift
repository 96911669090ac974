import OrigamiTensor
import COrigamiKernels

/// `y[tokens, out] = x[tokens, in] · Wᵀ (+ bias)` over 4-bit code-book weights, read packed (never a dequantized
/// copy of the matrix).
///
/// Up to `Gemm.matvecMaxTokens` tokens, and for any token count with `.f32`, the weights are decoded in registers
/// and multiplied in exact f32 (FMA), every token of a pass sharing each decoded line: decode runs near the memory
/// bandwidth, but prefill is FMA-bound (~110 GOP/s per core). More tokens with `.bf16` run on AMX tiles, several
/// times faster: each pair of 16-row tiles is dequantized to bf16 (code · scale, rounded) in per-thread scratch,
/// the next pair while the current one multiplies, and multiplied with all tokens, products summed in f32. Where
/// the machine has no AMX `.bf16` takes the f32 path (`vdpbf16ps` is no faster than FMA there).
///
/// - Parameters:
///   - x: `[tokens, weight.cols]` contiguous.
///   - bias: `[weight.rows]`, or nil.
///   - y: `[tokens, weight.rows]` contiguous; must not overlap `x`.
public func fourBitLinear(
    x: UnsafePointer<Float>, tokens: Int, weight: Packed4BitWeights, bias: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, precision: MatmulPrecision = .f32, pool: ThreadPool = .shared
) {
    guard tokens > 0, weight.rows > 0 else { return }
    guard weight.cols > 0 else { return Gemm.biasOnly(tokens: tokens, rows: weight.rows, bias: bias, y: y) }
    guard let group = weight.groupSize else {
        return FourBit.flat(x: x, tokens: tokens, weight: weight, bias: bias, y: y, precision: precision, pool: pool)
    }
    if precision == .bf16, tokens > Gemm.matvecMaxTokens, Gemm.hasAMX {
        return FourBit.amx(x: x, tokens: tokens, weight: weight, group: group, bias: bias, y: y, pool: pool)
    }
    FourBit.f32(x: x, tokens: tokens, weight: weight, group: group, bias: bias, y: y, pool: pool)
}

/// The individual 4-bit kernels behind `fourBitLinear`.
enum FourBit {
    static func f32(
        x: UnsafePointer<Float>, tokens: Int, weight: Packed4BitWeights, group: Int, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, pool: ThreadPool
    ) {
        let tiles = weight.tiles, rows = weight.rows, cols = weight.cols
        let w = UnsafePointer(weight.storage.pointer(as: UInt8.self)), cb = UnsafePointer(weight.table.pointer(as: Float.self))
        // ~8 chunks per thread balance a noisy machine.
        let perChunk = max(1, tiles / (pool.threadCount * 8))
        pool.parallelFor((tiles + perChunk - 1) / perChunk) { c in
            let t0 = c * perChunk
            ok_q4_f32_tiles(w, cols, group, rows, cb, x, cols, Int32(tokens), t0, min(tiles, t0 + perChunk), bias, y, rows)
        }
    }

    /// AMX bf16 (the caller checked `Gemm.hasAMX`).
    static func amx(
        x: UnsafePointer<Float>, tokens: Int, weight: Packed4BitWeights, group: Int, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, pool: ThreadPool
    ) {
        let tiles = weight.tiles, rows = weight.rows, cols = weight.cols
        let w = UnsafePointer(weight.storage.pointer(as: UInt8.self)), cb = UnsafePointer(weight.table.pointer(as: Float.self))
        // Whole tile pairs, at least three chunks per thread, and long chunks: each call dequantizes its first pair
        // before any multiply can hide it.
        let perChunk = min(64, max(2, (tiles / (pool.threadCount * 3) + 1) & ~1))
        // Token groups bound the bf16 copy of x (≤ 256 × in × 2 bytes, calling thread's scratch slot 3).
        var first = 0
        while first < tokens {
            let n = min(Gemm.tokenGroup, tokens - first)
            let bytes = (n + 15) / 16 * 16 * cols * 2
            guard let xb = ok_thread_scratch(3, bytes)?.assumingMemoryBound(to: UInt16.self) else {
                fatalError("out of memory: \(bytes) bytes of kernel scratch")
            }
            // Whole 16-token tiles per chunk (the packer zero-fills a chunk's last tile).
            let tilesPerChunk = max(1, ((n + 15) / 16 + pool.threadCount - 1) / pool.threadCount)
            pool.parallelFor(((n + 15) / 16 + tilesPerChunk - 1) / tilesPerChunk) { c in
                let t0 = c * tilesPerChunk * 16
                ok_q4_pack_x_bf16(x + (first + t0) * cols, cols, Int32(min(tilesPerChunk * 16, n - t0)), cols, xb + t0 * cols)
            }
            let xbc = UnsafePointer(xb), yb = y + first * rows
            pool.parallelFor((tiles + perChunk - 1) / perChunk) { c in
                let t0 = c * perChunk
                if !ok_q4_amx_tiles(w, cols, group, rows, cb, xbc, Int32(n), t0, min(tiles, t0 + perChunk), bias, yb, rows) {
                    fatalError("out of memory for kernel scratch")
                }
            }
            first += n
        }
    }

    /// Blocks that straddle rows at odd offsets: dequantize 64 rows at a time to f32 and run the dense kernels.
    static func flat(
        x: UnsafePointer<Float>, tokens: Int, weight: Packed4BitWeights, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, precision: MatmulPrecision, pool: ThreadPool
    ) {
        let rows = weight.rows, cols = weight.cols, block = 64
        let bytes = block * cols * 4 + tokens * block * 4
        guard let scratch = ok_thread_scratch(3, bytes) else { fatalError("out of memory: \(bytes) bytes of kernel scratch") }
        let wf = scratch.assumingMemoryBound(to: Float.self)
        let yb = wf + block * cols   // [tokens, n]
        let codes = weight.storage.pointer(as: UInt8.self), absmax = weight.flatAbsmax!.pointer(as: Float.self)
        let cb = weight.table.pointer(as: Float.self)
        for r0 in stride(from: 0, to: rows, by: block) {
            let n = min(block, rows - r0)
            ok_q4_dequant_flat(codes, absmax, cb, cols, weight.blockSize, r0, r0 + n, wf)
            let w = try! WeightMatrix(data: wf, dtype: .f32, rows: n, cols: cols)
            linear(x: x, tokens: tokens, weight: w, bias: bias.map { $0 + r0 }, y: yb, precision: precision, pool: pool)
            for t in 0..<tokens { (y + t * rows + r0).update(from: yb + t * n, count: n) }
        }
    }
}
