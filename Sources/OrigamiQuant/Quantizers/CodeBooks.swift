/// The 4-bit data types bitsandbytes defines, with its code books.
///
/// The values are bitsandbytes 0.50.2's `get_4bit_type(...)` (normalized to [-1, 1], as float32), committed as
/// Tests/Fixtures/quant/codebooks.safetensors by Scripts/make_quant_goldens.py; a test checks that the tables here
/// equal that fixture bit for bit.
public enum FourBitType: String, Sendable, CaseIterable {
    case nf4
    case fp4

    /// Code → value. NF4 is sorted (quantiles of N(0, 1)); FP4 is in bit-pattern order: bit 3 is the sign, and
    /// codes 0 and 8 are both zero.
    public var code: [Float] {
        switch self {
        case .nf4: CodeBooks.nf4
        case .fp4: CodeBooks.fp4
        }
    }

    /// The name bitsandbytes and transformers use (`quant_type`, `quant_state.bitsandbytes__<name>`).
    public var bnbName: String { rawValue }
}

/// bitsandbytes' code books and the lookup structures its CPU quantizers use.
public enum CodeBooks {
    public static let nf4: [Float] = [
        -0x1p+0, -0x1.647362p-1, -0x1.0cd66p-1, -0x1.94654p-2, -0x1.23449ap-2, -0x1.7a6a7ep-3, -0x1.74f0e2p-4, 0.0,
        0x1.45f5fep-4, 0x1.4995c6p-3, 0x1.f809bap-3, 0x1.5a0674p-2, 0x1.c3497p-2, 0x1.200f56p-1, 0x1.722766p-1, 0x1p+0,
    ]

    public static let fp4: [Float] = [
        0.0, 0x1.555556p-8, 0x1.555556p-1, 0x1p+0, 0x1.555556p-2, 0x1p-1, 0x1.555556p-3, 0x1p-2,
        0.0, -0x1.555556p-8, -0x1.555556p-1, -0x1p+0, -0x1.555556p-2, -0x1p-1, -0x1.555556p-3, -0x1p-2,
    ]

    /// The order in which bitsandbytes' CPU `quantize_4bit` sorts the FP4 code (`torch.argsort`): it buckets a value
    /// among the sorted codes and maps the bucket back through this. The two zeros tie; argsort put code 0 first,
    /// so small positive values get code 8 and small negative ones code 0 (both decode to 0).
    public static let fp4SortOrder: [Int] = [11, 10, 13, 12, 15, 14, 9, 0, 8, 1, 6, 7, 4, 5, 2, 3]

    /// bitsandbytes' signed 8-bit dynamic map (`create_dynamic_map()`): the code of double quantization. Sorted;
    /// the first entry is -0.99297 (bitsandbytes' CPU quantizer no longer overwrites it with -1).
    public static let dynamic: [Float] = [
        -0x1.fc6666p-1, -0x1.f53334p-1, -0x1.eep-1, -0x1.e6ccccp-1, -0x1.df999ap-1, -0x1.d86666p-1, -0x1.d13334p-1,
        -0x1.cap-1, -0x1.c2ccccp-1, -0x1.bb999ap-1, -0x1.b46666p-1, -0x1.ad3334p-1, -0x1.a6p-1, -0x1.9eccccp-1,
        -0x1.97999ap-1, -0x1.906666p-1, -0x1.893334p-1, -0x1.82p-1, -0x1.7accccp-1, -0x1.73999ap-1, -0x1.6c6668p-1,
        -0x1.653334p-1, -0x1.5ep-1, -0x1.56ccccp-1, -0x1.4f999ap-1, -0x1.486668p-1, -0x1.413334p-1, -0x1.3ap-1,
        -0x1.32ccccp-1, -0x1.2b999ap-1, -0x1.246668p-1, -0x1.1d3334p-1, -0x1.16p-1, -0x1.0eccccp-1, -0x1.079998p-1,
        -0x1.006666p-1, -0x1.f26664p-2, -0x1.e4p-2, -0x1.d59998p-2, -0x1.c73334p-2, -0x1.b8ccccp-2, -0x1.aa6666p-2,
        -0x1.9cp-2, -0x1.8d9998p-2, -0x1.7f3334p-2, -0x1.70ccccp-2, -0x1.626666p-2, -0x1.54p-2, -0x1.459998p-2,
        -0x1.373334p-2, -0x1.28ccccp-2, -0x1.1a6668p-2, -0x1.0cp-2, -0x1.fb3332p-3, -0x1.de6666p-3, -0x1.c1999ap-3,
        -0x1.a4ccccp-3, -0x1.88p-3, -0x1.6b3334p-3, -0x1.4e6666p-3, -0x1.31999ap-3, -0x1.14ccccp-3, -0x1.fp-4,
        -0x1.b66668p-4, -0x1.93d70ap-4, -0x1.8851eep-4, -0x1.7ccccep-4, -0x1.7147aep-4, -0x1.65c29p-4, -0x1.5a3d7p-4,
        -0x1.4eb854p-4, -0x1.433334p-4, -0x1.37ae14p-4, -0x1.2c28f6p-4, -0x1.20a3d6p-4, -0x1.151ebap-4, -0x1.09999ap-4,
        -0x1.fc28f6p-5, -0x1.e51ebap-5, -0x1.ce147ap-5, -0x1.b70a3ep-5, -0x1.ap-5, -0x1.88f5c2p-5, -0x1.71eb86p-5,
        -0x1.5ae146p-5, -0x1.43d70ap-5, -0x1.2ccccep-5, -0x1.15c29p-5, -0x1.fd70a4p-6, -0x1.cf5c2ap-6, -0x1.a147aep-6,
        -0x1.733334p-6, -0x1.451ebap-6, -0x1.170a3ep-6, -0x1.d1eb86p-7, -0x1.75c29p-7, -0x1.3e76c8p-7, -0x1.2c083p-7,
        -0x1.19999ap-7, -0x1.072b02p-7, -0x1.e978d4p-8, -0x1.c49ba6p-8, -0x1.9fbe76p-8, -0x1.7ae148p-8, -0x1.56041ap-8,
        -0x1.3126e8p-8, -0x1.0c49bap-8, -0x1.ced914p-9, -0x1.851eb8p-9, -0x1.3b645ap-9, -0x1.e353f8p-10,
        -0x1.4fdf3ap-10, -0x1.eecbfep-11, -0x1.b3d07cp-11, -0x1.78d5p-11, -0x1.3dd982p-11, -0x1.02de02p-11,
        -0x1.8fc506p-12, -0x1.19ce0ap-12, -0x1.47ae16p-13, -0x1.743e96p-14, -0x1.15df66p-14, -0x1.6f0068p-15,
        -0x1.64840cp-16, -0x1.040bfep-17, -0x1.b43528p-19, -0x1.27476ep-21, 0.0, 0x1.27476ep-21, 0x1.b43528p-19,
        0x1.040bfep-17, 0x1.64840cp-16, 0x1.6f0068p-15, 0x1.15df66p-14, 0x1.743e96p-14, 0x1.47ae16p-13, 0x1.19ce0ap-12,
        0x1.8fc506p-12, 0x1.02de02p-11, 0x1.3dd982p-11, 0x1.78d5p-11, 0x1.b3d07cp-11, 0x1.eecbfep-11, 0x1.4fdf3ap-10,
        0x1.e353f8p-10, 0x1.3b645ap-9, 0x1.851eb8p-9, 0x1.ced914p-9, 0x1.0c49bap-8, 0x1.3126e8p-8, 0x1.56041ap-8,
        0x1.7ae148p-8, 0x1.9fbe76p-8, 0x1.c49ba6p-8, 0x1.e978d4p-8, 0x1.072b02p-7, 0x1.19999ap-7, 0x1.2c083p-7,
        0x1.3e76c8p-7, 0x1.75c29p-7, 0x1.d1eb86p-7, 0x1.170a3ep-6, 0x1.451ebap-6, 0x1.733334p-6, 0x1.a147aep-6,
        0x1.cf5c2ap-6, 0x1.fd70a4p-6, 0x1.15c29p-5, 0x1.2ccccep-5, 0x1.43d70ap-5, 0x1.5ae146p-5, 0x1.71eb86p-5,
        0x1.88f5c2p-5, 0x1.ap-5, 0x1.b70a3ep-5, 0x1.ce147ap-5, 0x1.e51ebap-5, 0x1.fc28f6p-5, 0x1.09999ap-4,
        0x1.151ebap-4, 0x1.20a3d6p-4, 0x1.2c28f6p-4, 0x1.37ae14p-4, 0x1.433334p-4, 0x1.4eb854p-4, 0x1.5a3d7p-4,
        0x1.65c29p-4, 0x1.7147aep-4, 0x1.7ccccep-4, 0x1.8851eep-4, 0x1.93d70ap-4, 0x1.b66668p-4, 0x1.fp-4,
        0x1.14ccccp-3, 0x1.31999ap-3, 0x1.4e6666p-3, 0x1.6b3334p-3, 0x1.88p-3, 0x1.a4ccccp-3, 0x1.c1999ap-3,
        0x1.de6666p-3, 0x1.fb3332p-3, 0x1.0cp-2, 0x1.1a6668p-2, 0x1.28ccccp-2, 0x1.373334p-2, 0x1.459998p-2, 0x1.54p-2,
        0x1.626666p-2, 0x1.70ccccp-2, 0x1.7f3334p-2, 0x1.8d9998p-2, 0x1.9cp-2, 0x1.aa6666p-2, 0x1.b8ccccp-2,
        0x1.c73334p-2, 0x1.d59998p-2, 0x1.e4p-2, 0x1.f26664p-2, 0x1.006666p-1, 0x1.079998p-1, 0x1.0eccccp-1, 0x1.16p-1,
        0x1.1d3334p-1, 0x1.246668p-1, 0x1.2b999ap-1, 0x1.32ccccp-1, 0x1.3ap-1, 0x1.413334p-1, 0x1.486668p-1,
        0x1.4f999ap-1, 0x1.56ccccp-1, 0x1.5ep-1, 0x1.653334p-1, 0x1.6c6668p-1, 0x1.73999ap-1, 0x1.7accccp-1, 0x1.82p-1,
        0x1.893334p-1, 0x1.906666p-1, 0x1.97999ap-1, 0x1.9eccccp-1, 0x1.a6p-1, 0x1.ad3334p-1, 0x1.b46666p-1,
        0x1.bb999ap-1, 0x1.c2ccccp-1, 0x1.cap-1, 0x1.d13334p-1, 0x1.d86666p-1, 0x1.df999ap-1, 0x1.e6ccccp-1, 0x1.eep-1,
        0x1.f53334p-1, 0x1.fc6666p-1, 0x1p+0,
    ]

    /// bitsandbytes' CPU 8-bit blockwise quantizer maps a normalized value v ∈ [-1, 1] to a bin of a 65536-entry
    /// table, `bin = UInt16(((v + 1) · 0.5) · 65535 + 0.5)`, and the bin to the code whose midpoints bracket the bin's
    /// left edge `-1 + 2·bin/65535`. That is not always the nearest code (the bin is 3e-5 wide), so the table, not a
    /// nearest search, is what reproduces its codes bit for bit.
    public static let dynamicLUT: [UInt8] = makeLUT(dynamic)

    /// Builds the 65536-bin table for a sorted 256-entry code, as bitsandbytes' `build_quantize_lut` defines it.
    public static func makeLUT(_ code: [Float]) -> [UInt8] {
        precondition(code.count == 256, "the 8-bit code has 256 entries")
        var midpoints = [Float](repeating: 0, count: 255)
        for i in 0..<255 { midpoints[i] = 0.5 * (code[i] + code[i + 1]) }
        var lut = [UInt8](repeating: 0, count: 65536)
        var c = 0
        for i in 0..<65536 {
            let v: Float = -1 + (2 * Float(i)) / 65535
            while c < 255 && midpoints[c] < v { c += 1 }
            lut[i] = UInt8(c)
        }
        return lut
    }

    /// The 65536-bin index of a normalized value, in float32 exactly as bitsandbytes computes it (no fused
    /// multiply-add: its vector path multiplies and adds separately).
    @inline(__always)
    static func lutIndex(_ v: Float) -> Int {
        let c = min(max(v, -1), 1)
        var t = c + 1
        t = t * 0.5
        t = t * 65535
        t = t + 0.5
        return Int(t)
    }

    /// Sorted 4-bit values, their midpoints and the map from sorted position back to code, per type: what
    /// bitsandbytes' CPU `quantize_4bit` buckets with (`torch.bucketize(x, midpoints)`, right=False).
    static let nf4Buckets = Buckets(code: nf4, order: Array(0..<16))
    static let fp4Buckets = Buckets(code: fp4, order: fp4SortOrder)

    struct Buckets: Sendable {
        /// `(sorted[i] + sorted[i + 1]) / 2`, float32.
        let midpoints: [Float]
        /// Sorted position → code.
        let order: [UInt8]

        init(code: [Float], order: [Int]) {
            let sorted = order.map { code[$0] }
            midpoints = (0..<15).map { (sorted[$0] + sorted[$0 + 1]) / 2 }
            self.order = order.map(UInt8.init)
        }

        /// The code of `x`: the number of midpoints strictly below it (torch.bucketize, right=False), mapped back.
        /// A branch-free binary search over the 15 sorted midpoints: the comparisons compile to conditional moves,
        /// as a mispredicted branch per step would cost more than the whole search.
        @inline(__always)
        func code(_ x: Float) -> UInt8 {
            midpoints.withUnsafeBufferPointer { m in
                var lo = 0
                lo += m[lo + 7] < x ? 8 : 0
                lo += m[lo + 3] < x ? 4 : 0
                lo += m[lo + 1] < x ? 2 : 0
                lo += m[lo] < x ? 1 : 0
                return order.withUnsafeBufferPointer { $0[lo] }
            }
        }
    }

    static func buckets(_ type: FourBitType) -> Buckets { type == .nf4 ? nf4Buckets : fp4Buckets }
}
