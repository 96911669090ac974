import OrigamiTensor
import COrigamiKernels

/// A 4-bit code-book weight (bitsandbytes NF4 or FP4) repacked at load for the 4-bit kernels.
///
/// bitsandbytes stores the `[out, in]` weight flattened row-major in blocks of `blockSize` elements, one Float
/// absmax per block, two 4-bit codes per byte (the first in the high nibble), w = codebook[code] · absmax. That
/// layout streams at ~57% of the memory bandwidth, so `repack` rewrites it into 16-row tiles of column groups
/// (layout in origami_kernels.h): per group a line of 16 f32 scales, then 16 rows × 8 columns of codes per
/// 64-byte line, in the order one shift and one `vpermps` decode.
///
/// Groups must not straddle quantization blocks, which holds whenever `cols` is a multiple of 32 (every real
/// model). Otherwise — a block spanning two rows at an odd offset — the weight keeps bitsandbytes' own layout and
/// takes a slower path that dequantizes row blocks to f32 before a dense product.
public struct Packed4BitWeights: Sendable {
    /// Output features (`out`).
    public let rows: Int
    /// Input features (`in`).
    public let cols: Int
    /// bitsandbytes' quantization block (elements per absmax).
    public let blockSize: Int
    /// The 16 values codes stand for (NF4 or FP4, as bitsandbytes' `quant_map`).
    public let codebook: [Float]
    /// Columns sharing one scale in the packed layout, or nil for the bitsandbytes-layout fallback.
    public let groupSize: Int?
    /// Packed tiles, or (fallback) the codes as given.
    let storage: AlignedBuffer
    /// Fallback only: the absmax as given.
    let flatAbsmax: AlignedBuffer?
    /// The code book padded to a 64-byte vector.
    let table: AlignedBuffer

    var tiles: Int { (rows + 15) / 16 }

    /// Repacks bitsandbytes 4-bit weights.
    ///
    /// - Parameters:
    ///   - codes: `(rows · cols + 1) / 2` bytes: the weight flattened row-major, two codes per byte, first in the high
    ///     nibble (bitsandbytes' packed `uint8` weight).
    ///   - absmax: `ceil(rows · cols / blockSize)` floats (dequantize double-quantized absmax first).
    ///   - codebook: the 16 code values.
    ///   - blockSize: a power of two from 32 to 4096.
    /// - Throws: `QuantizedWeightError` for a bad block size or code book, or when memory runs out.
    public static func repack(
        codes: UnsafePointer<UInt8>, absmax: UnsafePointer<Float>, codebook: [Float], rows: Int, cols: Int,
        blockSize: Int, pool: ThreadPool = .shared
    ) throws(QuantizedWeightError) -> Packed4BitWeights {
        try Packed4BitWeights(codes: codes, absmax: absmax, codebook: codebook, rows: rows, cols: cols,
                              blockSize: blockSize, pool: pool)
    }

    private init(
        codes: UnsafePointer<UInt8>, absmax: UnsafePointer<Float>, codebook: [Float], rows: Int, cols: Int,
        blockSize: Int, pool: ThreadPool
    ) throws(QuantizedWeightError) {
        precondition(rows >= 0 && cols >= 0, "negative matrix size")
        guard blockSize >= 32, blockSize <= 4096, blockSize & (blockSize - 1) == 0 else {
            throw .invalidBlockSize(blockSize)
        }
        guard codebook.count == 16 else { throw .invalidCodebook(count: codebook.count) }
        self.rows = rows
        self.cols = cols
        self.blockSize = blockSize
        self.codebook = codebook
        // The largest group (≤ 256: fewer scales to stream) dividing both the row and the block.
        var group: Int? = nil
        if cols > 0, cols % 32 == 0 {
            var g = 32
            while g < 256, cols % (2 * g) == 0, blockSize % (2 * g) == 0 { g *= 2 }
            group = g
        }
        groupSize = group
        do {
            table = try AlignedBuffer(byteCount: 64)
            if let group {
                let tileBytes = ok_q4_tile_bytes(cols, group)
                storage = try AlignedBuffer(byteCount: (rows + 15) / 16 * tileBytes, zeroed: false)
                flatAbsmax = nil
            } else {
                let codeBytes = (rows * cols + 1) / 2, blocks = (rows * cols + blockSize - 1) / blockSize
                storage = try AlignedBuffer(byteCount: max(64, codeBytes))
                let copy = try AlignedBuffer(byteCount: max(64, blocks * 4))
                storage.raw.copyMemory(from: codes, byteCount: codeBytes)
                copy.raw.copyMemory(from: absmax, byteCount: blocks * 4)
                flatAbsmax = copy
            }
        } catch {
            throw .allocationFailed(bytes: rows * cols / 2)
        }
        table.pointer(as: Float.self).update(from: codebook, count: 16)
        if let group {
            let dst = storage.pointer(as: UInt8.self), tiles = (rows + 15) / 16
            let perChunk = max(1, tiles / (pool.threadCount * 4))
            pool.parallelFor((tiles + perChunk - 1) / perChunk) { c in
                let t0 = c * perChunk
                ok_q4_repack(codes, absmax, rows, cols, blockSize, group, t0, min(tiles, t0 + perChunk), dst)
            }
        }
    }

    /// An independent copy (benchmarks lay copies out past the last-level cache).
    func duplicate() throws(QuantizedWeightError) -> Packed4BitWeights {
        let copy: AlignedBuffer
        do { copy = try AlignedBuffer(byteCount: storage.byteCount, zeroed: false) } catch {
            throw .allocationFailed(bytes: storage.byteCount)
        }
        copy.raw.copyMemory(from: storage.raw, byteCount: storage.byteCount)
        return Packed4BitWeights(rows: rows, cols: cols, blockSize: blockSize, codebook: codebook, groupSize: groupSize,
                                 storage: copy, flatAbsmax: flatAbsmax, table: table)
    }

    private init(
        rows: Int, cols: Int, blockSize: Int, codebook: [Float], groupSize: Int?, storage: AlignedBuffer,
        flatAbsmax: AlignedBuffer?, table: AlignedBuffer
    ) {
        self.rows = rows
        self.cols = cols
        self.blockSize = blockSize
        self.codebook = codebook
        self.groupSize = groupSize
        self.storage = storage
        self.flatAbsmax = flatAbsmax
        self.table = table
    }

    /// Bytes a matrix × vector product streams (codes and scales).
    public var byteCount: Int {
        guard let group = groupSize else { return (rows * cols + 1) / 2 + (rows * cols + blockSize - 1) / blockSize * 4 }
        return tiles * ok_q4_tile_bytes(cols, group)
    }

    /// The dequantized weight at (row, column), codebook[code] · absmax, read back from the packed layout.
    public func weight(row: Int, column: Int) -> Float {
        precondition(row >= 0 && row < rows && column >= 0 && column < cols, "index out of range")
        guard let group = groupSize else {
            let i = row * cols + column, byte = storage.pointer(as: UInt8.self)[i / 2]
            let code = i % 2 == 0 ? byte >> 4 : byte & 15
            return codebook[Int(code)] * flatAbsmax!.pointer(as: Float.self)[i / blockSize]
        }
        let groupBytes = 64 + group * 8
        let g = storage.raw + (row / 16) * ok_q4_tile_bytes(cols, group) + (column / group) * groupBytes
        let scale = g.load(fromByteOffset: (row % 16) * 4, as: Float.self)
        let within = column % group, line = within / 8, pair = (within % 8) / 2
        let word = g.load(fromByteOffset: 64 + line * 64 + (row % 16) * 4, as: UInt32.self)
        let code = (word >> UInt32((within % 2 == 0 ? 0 : 16) + 4 * pair)) & 15
        return codebook[Int(code)] * scale
    }
}
