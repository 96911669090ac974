import OrigamiKernels
import OrigamiTensor

/// Deterministic pseudo-random numbers (SplitMix64), so a failing case can be rerun exactly.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func floats(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] { (0..<n).map { _ in float(lo, hi) } }
}

/// Owned, 64-byte aligned storage for a test weight matrix in a given dtype.
final class TestMatrix {
    let storage: UnsafeMutableRawPointer
    let weight: WeightMatrix

    /// Stores `values` ([rows, cols] row-major) as `dtype`, rows `rowStride` elements apart.
    init(_ values: [Float], rows: Int, cols: Int, dtype: DType, rowStride: Int? = nil) {
        let stride = rowStride ?? cols
        let bytes = max(64, rows * stride * dtype.byteSize)
        storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0xFF, count: bytes)   // NaN padding must never be read
        for r in 0..<rows {
            for c in 0..<cols {
                let v = values[r * cols + c], i = r * stride + c
                switch dtype {
                case .f32: storage.storeBytes(of: v, toByteOffset: 4 * i, as: Float.self)
                case .f16: storage.storeBytes(of: Float16(v).bitPattern, toByteOffset: 2 * i, as: UInt16.self)
                default: storage.storeBytes(of: BFloat16.fromFloat(v), toByteOffset: 2 * i, as: UInt16.self)
                }
            }
        }
        weight = try! WeightMatrix(data: storage, dtype: dtype, rows: rows, cols: cols, rowStride: stride)
    }

    deinit { storage.deallocate() }
}

/// Largest |a − b| / (scale + floor) over the elements, with `scale[i]` the magnitude the error is judged against.
func worstError(_ a: [Float], _ b: [Float], scale: [Float], floor: Float = 1e-30) -> Float {
    var worst: Float = 0
    for i in a.indices {
        if a[i].isNaN != b[i].isNaN { return .infinity }
        if a[i].isNaN { continue }
        if a[i] == b[i] { continue }
        worst = max(worst, abs(a[i] - b[i]) / (scale[i] + floor))
    }
    return worst
}

let rowLengths = [1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 100, 1000, 4097]
