import OrigamiTensor
import COrigamiKernels

/// An int8 weight matrix with one scale per output row, repacked at load for the int8 kernels.
///
/// Two encodings of Hugging Face `nn.Linear` weights `W[out, in]`:
/// - `.absmax` — bitsandbytes' LLM.int8() weights: Int8 codes `CB[out, in]` and the row absmax `SCB[out]`,
///   w ≈ code · absmax / 127;
/// - `.zeroPoint` — asymmetric: UInt8 codes, a Float scale and a Float zero point per row, w ≈ (code − zero) · scale.
///
/// The codes are copied into 16-row tiles of 64-byte lines (4 columns × 16 rows each, the `vpdpbusd` and AMX
/// B-tile operand layout; see origami_kernels.h), `in` padded with zero codes to a multiple of 64. Decode and
/// prefill stream the same copy; the caller's codes can be released after `init`.
public struct Int8Weights: Sendable {
    public enum Encoding: Sendable, Equatable {
        case absmax
        case zeroPoint
    }

    /// Output features (`out`).
    public let rows: Int
    /// Input features (`in`).
    public let cols: Int
    public let encoding: Encoding
    /// `cols` rounded up to a multiple of 64 (one AMX tile of k).
    let paddedCols: Int
    /// [tiles][paddedCols / 4][16 rows][4] codes.
    let codes: AlignedBuffer
    /// Per row, padded to whole tiles: scale (Float) | row sum or rint(zero) (Int32) | zero − rint(zero) (Float).
    let meta: AlignedBuffer

    /// Rows rounded up to whole 16-row tiles.
    var paddedRows: Int { (rows + 15) / 16 * 16 }
    var tiles: Int { (rows + 15) / 16 }

    /// bitsandbytes int8 weights.
    ///
    /// - Parameters:
    ///   - codes: `[rows, cols]` row-major (bitsandbytes `CB`).
    ///   - scales: `[rows]`, each row's absmax (bitsandbytes `SCB`): w = code · scale / 127.
    /// - Throws: `QuantizedWeightError.allocationFailed` when the packed copy cannot be allocated.
    public init(
        codes: UnsafePointer<Int8>, scales: UnsafePointer<Float>, rows: Int, cols: Int, pool: ThreadPool = .shared
    ) throws(QuantizedWeightError) {
        try self.init(raw: UnsafeRawPointer(codes), rows: rows, cols: cols, encoding: .absmax, pool: pool)
        scale.update(from: scales, count: rows)
    }

    /// Asymmetric int8 weights: w = (code − zeroPoint) · scale.
    ///
    /// - Parameters:
    ///   - codes: `[rows, cols]` row-major.
    ///   - scales, zeroPoints: `[rows]`.
    /// - Throws: `QuantizedWeightError.allocationFailed` when the packed copy cannot be allocated.
    public init(
        codes: UnsafePointer<UInt8>, scales: UnsafePointer<Float>, zeroPoints: UnsafePointer<Float>, rows: Int, cols: Int,
        pool: ThreadPool = .shared
    ) throws(QuantizedWeightError) {
        try self.init(raw: UnsafeRawPointer(codes), rows: rows, cols: cols, encoding: .zeroPoint, pool: pool)
        let zi = meta.raw.advanced(by: paddedRows * 4).assumingMemoryBound(to: Int32.self)
        let zf = meta.raw.advanced(by: paddedRows * 8).assumingMemoryBound(to: Float.self)
        for r in 0..<rows {
            scale[r] = scales[r]
            // Split so the integer part is taken off exactly in int32 and only the fraction in float.
            let whole = zeroPoints[r].rounded(.toNearestOrEven)
            precondition(abs(whole) < 1_048_576, "int8 zero point \(zeroPoints[r]) of row \(r) out of range")
            zi[r] = Int32(whole)
            zf[r] = zeroPoints[r] - whole
        }
    }

    private init(
        raw: UnsafeRawPointer, rows: Int, cols: Int, encoding: Encoding, pool: ThreadPool
    ) throws(QuantizedWeightError) {
        precondition(rows >= 0 && cols >= 0, "negative matrix size")
        precondition(cols < 1 << 24, "int8 rows longer than 2^24 would overflow the int32 sums")
        self.rows = rows
        self.cols = cols
        self.encoding = encoding
        paddedCols = (cols + 63) / 64 * 64
        let tiles = (rows + 15) / 16
        let codeBytes = tiles * paddedCols * 16
        do {
            codes = try AlignedBuffer(byteCount: max(64, codeBytes), zeroed: false)
            meta = try AlignedBuffer(byteCount: max(64, tiles * 16 * 12), zeroed: true)
        } catch {
            throw .allocationFailed(bytes: codeBytes)
        }
        let src = raw.assumingMemoryBound(to: UInt8.self), dst = codes.pointer(as: UInt8.self), kpad = paddedCols
        // Σ codes per row: vpdpbusd multiplies activations offset to unsigned (+128), so 128 · Σ codes is taken off
        // after (the zero-point kernels put activations on the signed side and need none).
        let sums = encoding == .absmax ? meta.raw.advanced(by: tiles * 64).assumingMemoryBound(to: Int32.self) : nil
        let perChunk = max(1, tiles / (pool.threadCount * 4))
        pool.parallelFor((tiles + perChunk - 1) / perChunk) { c in
            let t0 = c * perChunk
            ok_i8_repack(src, rows, cols, kpad, 0, t0, min(tiles, t0 + perChunk), dst, sums)
        }
    }

    private var scale: UnsafeMutablePointer<Float> { meta.pointer(as: Float.self) }

    /// Bytes a matrix × vector product streams: codes (with their padding) and the per-row data.
    public var byteCount: Int { tiles * paddedCols * 16 + rows * (encoding == .absmax ? 4 : 8) }

    /// The code at (row, column), read back from the packed layout.
    public func code(row: Int, column: Int) -> Int {
        precondition(row >= 0 && row < rows && column >= 0 && column < cols, "index out of range")
        let offset = ((row / 16) * (paddedCols / 4) + column / 4) * 64 + (row % 16) * 4 + column % 4
        let byte = codes.pointer(as: UInt8.self)[offset]
        return encoding == .absmax ? Int(Int8(bitPattern: byte)) : Int(byte)
    }

    /// The row's scale: absmax (`.absmax`) or the step (`.zeroPoint`).
    public func scale(row: Int) -> Float { scale[row] }

    /// The row's zero point (0 for `.absmax`).
    public func zeroPoint(row: Int) -> Float {
        guard encoding == .zeroPoint else { return 0 }
        let zi = meta.raw.advanced(by: paddedRows * 4).assumingMemoryBound(to: Int32.self)
        let zf = meta.raw.advanced(by: paddedRows * 8).assumingMemoryBound(to: Float.self)
        return Float(zi[row]) + zf[row]
    }

    /// An independent copy (benchmarks lay copies out past the last-level cache).
    func duplicate() throws(QuantizedWeightError) -> Int8Weights {
        var copy = self
        do {
            copy = Int8Weights(rows: rows, cols: cols, encoding: encoding, paddedCols: paddedCols,
                               codes: try AlignedBuffer(byteCount: codes.byteCount, zeroed: false),
                               meta: try AlignedBuffer(byteCount: meta.byteCount, zeroed: false))
        } catch {
            throw .allocationFailed(bytes: codes.byteCount)
        }
        copy.codes.raw.copyMemory(from: codes.raw, byteCount: codes.byteCount)
        copy.meta.raw.copyMemory(from: meta.raw, byteCount: meta.byteCount)
        return copy
    }

    private init(rows: Int, cols: Int, encoding: Encoding, paddedCols: Int, codes: AlignedBuffer, meta: AlignedBuffer) {
        self.rows = rows
        self.cols = cols
        self.encoding = encoding
        self.paddedCols = paddedCols
        self.codes = codes
        self.meta = meta
    }

    /// The C description; `rescale` multiplies acc · absmax_x · scale.
    func kernelMatrix(rescale: Float) -> ok_i8_matrix {
        let p = paddedRows
        return ok_i8_matrix(
            codes: UnsafePointer(codes.pointer(as: UInt8.self)), quads: paddedCols / 4, rows: rows,
            zero_point: encoding == .zeroPoint, scale: UnsafePointer(scale),
            row_sum: UnsafePointer(meta.raw.advanced(by: p * 4).assumingMemoryBound(to: Int32.self)),
            zero_int: UnsafePointer(meta.raw.advanced(by: p * 4).assumingMemoryBound(to: Int32.self)),
            zero_frac: UnsafePointer(meta.raw.advanced(by: p * 8).assumingMemoryBound(to: Float.self)),
            rescale: encoding == .absmax ? rescale : 1 / 127)
    }
}
