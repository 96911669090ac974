public import OrigamiKernels

/// NF4 / FP4 blockwise quantization exactly as bitsandbytes 0.50.2's CPU `quantize_4bit` defines it.
///
/// The weight is flattened (row-major `[out, in]`) and cut into blocks of `blockSize` elements; the last block may
/// be shorter. Per block:
/// - `absmax` = max |x| (a full block of zeros keeps absmax 0; the short last block stores max(absmax, 1e-38)).
/// - full blocks scale by the float32 reciprocal, `x · (1 / max(absmax, 1e-38))`; the short last block divides,
///   `x / max(absmax, 1e-38)` — the rounding differs, and the codes follow it. Both are clamped to [-1, 1].
/// - the code is the bucket among the sorted code values (`torch.bucketize` over their midpoints: a value equal to a
///   midpoint goes down), mapped back to the code's index (FP4 is not sorted by value).
/// - two codes per byte, the first element in the high nibble; an odd count pads the last low nibble with the code
///   of 0.0.
public enum Blockwise4Bit {
    /// Bytes of packed codes for `count` elements.
    public static func packedBytes(_ count: Int) -> Int { (count + 1) / 2 }
    public static func blocks(_ count: Int, blockSize: Int) -> Int { (count + blockSize - 1) / blockSize }

    /// bitsandbytes' floor for the divisor (`absmax.clamp(min=1e-38)`): a float32 subnormal.
    static let tiny: Float = 1e-38

    /// The absmax of every block (`[blocks]`), as bitsandbytes stores it.
    public static func absmax(_ src: FloatMatrixSource, blockSize: Int, pool: ThreadPool = .shared) -> [Float] {
        let n = src.count
        let blocks = blocks(n, blockSize: blockSize)
        var out = [Float](repeating: 0, count: blocks)
        let perTask = max(1, 65536 / blockSize)
        out.withUnsafeMutableBufferPointer { outBuf in
            let o = outBuf.baseAddress!
            pool.parallelFor((blocks + perTask - 1) / perTask) { task in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: blockSize)
                defer { scratch.deallocate() }
                for b in (task * perTask)..<min(blocks, (task + 1) * perTask) {
                    let start = b * blockSize, len = min(blockSize, n - start)
                    src.read(start, len, into: scratch)
                    var m: Float = 0
                    for i in 0..<len { m = max(m, abs(scratch[i])) }
                    o[b] = len < blockSize ? max(m, tiny) : m
                }
            }
        }
        return out
    }

    /// Packs the codes of `src` into `packed[packedBytes(count)]`, given its `absmax` (from `absmax(_:)`).
    public static func encode(_ src: FloatMatrixSource, type: FourBitType, blockSize: Int, absmax: [Float],
                              into packed: UnsafeMutablePointer<UInt8>, pool: ThreadPool = .shared)
    {
        let n = src.count
        let blocks = blocks(n, blockSize: blockSize)
        precondition(absmax.count == blocks, "absmax has \(absmax.count) entries for \(blocks) blocks")
        let buckets = CodeBooks.buckets(type)
        let zeroCode = buckets.code(0)
        // Tasks own whole bytes: blocks are even-sized (≥ 32), so a task of whole blocks starts on a byte.
        let perTask = max(1, 65536 / blockSize)
        absmax.withUnsafeBufferPointer { am in
            pool.parallelFor((blocks + perTask - 1) / perTask) { task in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: blockSize)
                defer { scratch.deallocate() }
                for b in (task * perTask)..<min(blocks, (task + 1) * perTask) {
                    let start = b * blockSize, len = min(blockSize, n - start)
                    src.read(start, len, into: scratch)
                    encodeBlock(scratch, count: len, full: len == blockSize, absmax: am[b], buckets: buckets, zeroCode: zeroCode,
                                into: packed + (start >> 1))
                }
            }
        }
    }

    /// Absmax and codes in one pass over the weight (what quantize-at-load uses): each block is read once.
    /// - Returns: the absmax values, as `absmax(_:)` computes them.
    public static func quantize(_ src: FloatMatrixSource, type: FourBitType, blockSize: Int, into packed: UnsafeMutablePointer<UInt8>,
                                pool: ThreadPool = .shared) -> [Float]
    {
        let n = src.count
        let blocks = blocks(n, blockSize: blockSize)
        var absmax = [Float](repeating: 0, count: blocks)
        let buckets = CodeBooks.buckets(type)
        let zeroCode = buckets.code(0)
        let perTask = max(1, 65536 / blockSize)
        absmax.withUnsafeMutableBufferPointer { amBuf in
            let am = amBuf.baseAddress!
            pool.parallelFor((blocks + perTask - 1) / perTask) { task in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: blockSize)
                defer { scratch.deallocate() }
                for b in (task * perTask)..<min(blocks, (task + 1) * perTask) {
                    let start = b * blockSize, len = min(blockSize, n - start)
                    src.read(start, len, into: scratch)
                    var m: Float = 0
                    for i in 0..<len { m = max(m, abs(scratch[i])) }
                    am[b] = len < blockSize ? max(m, tiny) : m
                    encodeBlock(scratch, count: len, full: len == blockSize, absmax: am[b], buckets: buckets, zeroCode: zeroCode,
                                into: packed + (start >> 1))
                }
            }
        }
        return absmax
    }

    /// One block's codes from its float values (overwritten with the scaled values) and absmax.
    @inline(__always)
    static func encodeBlock(_ x: UnsafeMutablePointer<Float>, count len: Int, full: Bool, absmax: Float, buckets: CodeBooks.Buckets,
                            zeroCode: UInt8, into out: UnsafeMutablePointer<UInt8>)
    {
        let divisor = max(absmax, tiny)
        if full {
            let scale = 1 / divisor
            for i in 0..<len { x[i] = min(max(x[i] * scale, -1), 1) }
        } else {
            for i in 0..<len { x[i] = min(max(x[i] / divisor, -1), 1) }
        }
        var i = 0
        while i < len {
            let hi = buckets.code(x[i])
            let lo = i + 1 < len ? buckets.code(x[i + 1]) : zeroCode
            out[i >> 1] = hi << 4 | lo
            i += 2
        }
    }

    /// Quantizes a float array (tests, tools): packed codes and absmax.
    public static func quantize(_ values: [Float], type: FourBitType, blockSize: Int) -> (packed: [UInt8], absmax: [Float]) {
        values.withUnsafeBufferPointer { buf in
            let src = FloatMatrixSource(floats: buf, rows: 1, cols: values.count, owner: Owner())
            let am = absmax(src, blockSize: blockSize)
            var packed = [UInt8](repeating: 0, count: packedBytes(values.count))
            packed.withUnsafeMutableBufferPointer { encode(src, type: type, blockSize: blockSize, absmax: am, into: $0.baseAddress!) }
            return (packed, am)
        }
    }

    /// Element `i` of a packed stream: code and value (`code[q] · scale`, float32, as bitsandbytes dequantizes).
    @inline(__always)
    public static func code(_ packed: UnsafePointer<UInt8>, _ i: Int) -> UInt8 {
        let byte = packed[i >> 1]
        return i & 1 == 0 ? byte >> 4 : byte & 0x0F
    }

    private final class Owner: Sendable {}
}

/// bitsandbytes' double quantization of the 4-bit absmax values (`compress_statistics=True`).
///
/// `offset = mean(absmax)` (torch's float32 mean, `TorchFloatSum`), then `absmax − offset` is quantized with
/// blockwise 8-bit dynamic quantization in blocks of 256 by bitsandbytes' CPU kernel: per block `nested = max |v|`
/// (0 if the block is all zero: codes 0), `v · (1 / nested)` clamped to [-1, 1], then `CodeBooks.dynamicLUT`.
/// Dequantized: `absmax ≈ dynamic[code] · nested[i / 256] + offset`, float32, in that order.
public enum DoubleQuant {
    /// bitsandbytes' block for the nested quantization (transformers only loads 256).
    public static let blockSize = 256

    public struct Result: Sendable, Equatable {
        /// `[blocks]` 8-bit codes of the absmax values.
        public var codes: [UInt8]
        /// `[ceil(blocks / 256)]`
        public var nestedAbsmax: [Float]
        public var offset: Float
    }

    public static func quantize(_ absmax: [Float]) -> Result {
        let offset = TorchFloatSum.mean(absmax)
        let shifted = absmax.map { $0 - offset }
        let (codes, nested) = quantizeDynamic(shifted, blockSize: blockSize)
        return Result(codes: codes, nestedAbsmax: nested, offset: offset)
    }

    /// bitsandbytes' CPU `quantize_blockwise` with its default dynamic code.
    public static func quantizeDynamic(_ x: [Float], blockSize: Int) -> (codes: [UInt8], absmax: [Float]) {
        let lut = CodeBooks.dynamicLUT
        let blocks = (x.count + blockSize - 1) / blockSize
        var codes = [UInt8](repeating: 0, count: x.count)
        var absmax = [Float](repeating: 0, count: blocks)
        for b in 0..<blocks {
            let start = b * blockSize, end = min(x.count, start + blockSize)
            var m: Float = 0
            // NaN counts as 0 (bitsandbytes sanitizes it so one NaN cannot poison the block's scale).
            for i in start..<end where !x[i].isNaN { m = max(m, abs(x[i])) }
            absmax[b] = m
            guard m != 0 else { continue }
            let inv = 1 / m
            for i in start..<end { codes[i] = lut[CodeBooks.lutIndex(x[i] * inv)] }
        }
        return (codes, absmax)
    }

    /// The absmax values back: `code[q] · nested[i / blockSize] + offset`.
    public static func dequantize(codes: UnsafePointer<UInt8>, count: Int, nested: UnsafePointer<Float>, offset: Float,
                                  code: [Float] = CodeBooks.dynamic, blockSize: Int = blockSize) -> [Float]
    {
        (0..<count).map { i in code[Int(codes[i])] * nested[i / blockSize] + offset }
    }
}
