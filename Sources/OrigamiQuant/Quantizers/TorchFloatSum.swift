/// torch's float32 `sum` and `mean` of a contiguous 1-D tensor on CPU, reproduced operation for operation.
///
/// Why: bitsandbytes' double quantization subtracts `absmax.mean()` before quantizing the absmax values, so the
/// nested codes and absmax are only bit-identical if the mean is. A float32 sum depends on its order. torch 2.x
/// (aten/src/ATen/native/cpu/SumKernel.cpp, `cascade_sum`) sums a contiguous row as `Vectorized<float>` lanes —
/// measured to be 8 wide with torch 2.13 on an AVX-512 machine — with 4 interleaved accumulators, each a 4-level
/// cascade that folds every 16 (or more) steps; a scalar tail, then the lanes, are added last. Rows shorter than
/// one vector take the same 4-accumulator cascade over scalars. `mean` is that sum divided by the count in float32.
///
/// Matches torch run on one thread. With more threads torch splits sums of more than 32768 elements into one
/// range per thread, so its result then depends on the thread count (Scripts/make_quant_goldens.py pins one).
public enum TorchFloatSum {
    static let lanes = 8
    static let ilp = 4
    static let levels = 4

    public static func mean(_ x: UnsafeBufferPointer<Float>) -> Float {
        sum(x) / Float(x.count)
    }

    public static func mean(_ x: [Float]) -> Float { x.withUnsafeBufferPointer { mean($0) } }

    public static func sum(_ x: UnsafeBufferPointer<Float>) -> Float {
        let n = x.count
        guard n > 0, let base = x.baseAddress else { return 0 }
        if n < lanes {
            // Scalar inner sum: the same cascade over single elements.
            return rowSum(width: 1, count: n) { i, out in out[0] = base[i] }[0]
        }
        let vectors = n / lanes
        let acc = rowSum(width: lanes, count: vectors) { i, out in
            for l in 0..<lanes { out[l] = base[i * lanes + l] }
        }
        var total: Float = 0
        for k in (vectors * lanes)..<n { total += base[k] }
        for l in 0..<lanes { total += acc[l] }
        return total
    }

    /// `row_sum`: `count` items (each `width` lanes) read as `[count / 4, 4]`, reduced by `multiRowSum`, the
    /// leftover items added to accumulator 0, then accumulators 1…3 folded into 0.
    static func rowSum(width: Int, count: Int, load: (Int, inout [Float]) -> Void) -> [Float] {
        let rows = count / ilp
        var partial = multiRowSum(width: width, rows: rows, load: load)
        var item = [Float](repeating: 0, count: width)
        for i in (rows * ilp)..<count {
            load(i, &item)
            for l in 0..<width { partial[0][l] += item[l] }
        }
        for k in 1..<ilp {
            for l in 0..<width { partial[0][l] += partial[k][l] }
        }
        return partial[0]
    }

    /// `multi_row_sum` with 4 accumulators (one per item of a row) and 4 cascade levels: level 0 takes
    /// `levelStep = 2^max(4, ⌈log2 rows⌉ / 4)` rows, then carries upward as the row index crosses level boundaries.
    static func multiRowSum(width: Int, rows: Int, load: (Int, inout [Float]) -> Void) -> [[Float]] {
        let power = max(4, ceilLog2(rows) / levels)
        let step = 1 << power
        let mask = step - 1
        let zero = [Float](repeating: 0, count: width)
        var acc = [[[Float]]](repeating: [[Float]](repeating: zero, count: ilp), count: levels)
        var item = zero
        var i = 0
        while i + step <= rows {
            for _ in 0..<step {
                for k in 0..<ilp {
                    load(i * ilp + k, &item)
                    for l in 0..<width { acc[0][k][l] += item[l] }
                }
                i += 1
            }
            for j in 1..<levels {
                for k in 0..<ilp {
                    for l in 0..<width { acc[j][k][l] += acc[j - 1][k][l] }
                    acc[j - 1][k] = zero
                }
                if i & (mask << (j * power)) != 0 { break }
            }
        }
        while i < rows {
            for k in 0..<ilp {
                load(i * ilp + k, &item)
                for l in 0..<width { acc[0][k][l] += item[l] }
            }
            i += 1
        }
        for j in 1..<levels {
            for k in 0..<ilp {
                for l in 0..<width { acc[0][k][l] += acc[j][k][l] }
            }
        }
        return acc[0]
    }

    static func ceilLog2(_ x: Int) -> Int {
        x <= 1 ? 0 : Int.bitWidth - (x - 1).leadingZeroBitCount
    }
}
