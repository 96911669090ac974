import OrigamiKernels
import Testing

/// 4-bit kernels against `Reference.fourBitLinear`, which dequantizes bitsandbytes' own layout.
///
/// Tolerance as LinearTests: both form the same products (with `.bf16`, the same bf16-rounded factors), so they
/// differ only by f32 summation order (and, in `.f32`, by applying the block scale after the sum rather than to
/// each weight: a few ulps): 1e-5 · Σ|xᵢ·wᵢ| per output.
@Suite struct FourBitLinearTests {
    /// bitsandbytes' NF4 and FP4 code books (`bnb.functional.get_4bit_type`, as `quant_state.code` holds them).
    static let nf4: [Float] = [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
        -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
        0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ]
    static let fp4: [Float] = [
        0.0, 0.0052083334885537624, 0.6666666865348816, 1.0, 0.3333333432674408, 0.5, 0.1666666716337204, 0.25,
        0.0, -0.0052083334885537624, -0.6666666865348816, -1.0, -0.3333333432674408, -0.5, -0.1666666716337204, -0.25,
    ]

    /// Fast-path shapes (in a multiple of 32, out not a multiple of 16) and fallback shapes (in not a multiple of 32).
    static let shapes: [(rows: Int, cols: Int)] = [
        (1, 32), (16, 32), (13, 64), (33, 96), (50, 160), (37, 256), (3, 512), (21, 1024),
        (1, 1), (3, 5), (13, 17), (37, 100), (7, 257),
    ]
    static let tokenCounts = [1, 2, 3, 4, 5, 17, 64, 129]

    struct Matrix {
        let rows: Int, cols: Int, blockSize: Int, codebook: [Float]
        let codes: [UInt8], absmax: [Float]
        let packed: Packed4BitWeights
        let dense: [Float]

        init(rows: Int, cols: Int, blockSize: Int, codebook: [Float], rng: inout TestRandom) {
            self.rows = rows
            self.cols = cols
            self.blockSize = blockSize
            self.codebook = codebook
            let n = rows * cols
            codes = (0..<((n + 1) / 2)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            absmax = (0..<((n + blockSize - 1) / blockSize)).map { _ in rng.float(0.01, 1) }
            packed = try! Packed4BitWeights.repack(codes: codes, absmax: absmax, codebook: codebook, rows: rows, cols: cols,
                                                   blockSize: blockSize)
            dense = Reference.fourBitDequantize(codes: codes, absmax: absmax, codebook: codebook, rows: rows, cols: cols,
                                                blockSize: blockSize)
        }

        func magnitude(x: [Float], tokens: Int, bias: [Float]?) -> [Float] {
            var out = [Float](repeating: 0, count: tokens * rows)
            for t in 0..<tokens {
                for r in 0..<rows {
                    var s = abs(bias?[r] ?? 0)
                    for c in 0..<cols { s += abs(x[t * cols + c] * dense[r * cols + c]) }
                    out[t * rows + r] = s
                }
            }
            return out
        }
    }

    /// The nibble order verified against bitsandbytes 0.50.2 on CPU: quantize_4bit of [-1, 1, 0, ...] (absmax 1)
    /// gives first byte 0x0F with NF4 (codes 0 and 15) and 0xB3 with FP4 (codes 11 and 3): the first element in the
    /// high nibble.
    @Test func bitsandbytesNibbleOrder() {
        var codes = [UInt8](repeating: 0x77, count: 32)   // NF4 code 7 is 0
        codes[0] = 0x0F
        let nf4 = Reference.fourBitDequantize(codes: codes, absmax: [1], codebook: Self.nf4, rows: 1, cols: 64, blockSize: 64)
        #expect(Array(nf4.prefix(3)) == [-1, 1, 0])
        codes = [UInt8](repeating: 0, count: 32)
        codes[0] = 0xB3
        let fp4 = Reference.fourBitDequantize(codes: codes, absmax: [1], codebook: Self.fp4, rows: 1, cols: 64, blockSize: 64)
        #expect(Array(fp4.prefix(3)) == [-1, 1, 0])
        let packed = try! Packed4BitWeights.repack(codes: codes, absmax: [1], codebook: Self.fp4, rows: 1, cols: 64, blockSize: 64)
        #expect(packed.weight(row: 0, column: 0) == -1 && packed.weight(row: 0, column: 1) == 1)
    }

    /// Every weight reads back exactly from the packed layout, for every block size and both layouts (blocks
    /// straddling rows included).
    @Test(arguments: [32, 64, 128, 256, 4096])
    func repackReadsBack(blockSize: Int) {
        var rng = TestRandom(seed: UInt64(blockSize))
        for (rows, cols) in Self.shapes {
            let m = Matrix(rows: rows, cols: cols, blockSize: blockSize, codebook: Self.nf4, rng: &rng)
            #expect((m.packed.groupSize != nil) == (cols % 32 == 0))
            if let g = m.packed.groupSize { #expect(cols % g == 0 && blockSize % g == 0) }
            for r in 0..<rows {
                for c in 0..<cols where m.packed.weight(row: r, column: c) != m.dense[r * cols + c] {
                    Issue.record("block \(blockSize) \(rows)×\(cols): (\(r), \(c)) reads \(m.packed.weight(row: r, column: c)), expected \(m.dense[r * cols + c])")
                    return
                }
            }
        }
    }

    @Test(arguments: MatmulPrecision.allCases, [64, 128])
    func kernelMatchesReference(precision: MatmulPrecision, blockSize: Int) {
        var rng = TestRandom(seed: 21)
        for (i, (rows, cols)) in Self.shapes.enumerated() {
            let m = Matrix(rows: rows, cols: cols, blockSize: blockSize, codebook: i % 2 == 0 ? Self.nf4 : Self.fp4, rng: &rng)
            let bias = rng.floats(rows)
            for tokens in Self.tokenCounts {
                let x = rng.floats(tokens * cols, -2, 2)
                let b: [Float]? = (rows + tokens) % 2 == 0 ? bias : nil
                var y = [Float](repeating: .nan, count: tokens * rows), ref = y
                fourBitLinear(x: x, tokens: tokens, weight: m.packed, bias: b, y: &y, precision: precision)
                // bf16 products only where the fast path takes them (prefill on AMX, or any dense bf16 prefill in
                // the fallback); decode and machines without AMX stay exact f32.
                let usesBF16 = precision == .bf16 && tokens > Gemm.matvecMaxTokens && (Gemm.hasAMX || m.packed.groupSize == nil)
                Reference.fourBitLinear(x: x, tokens: tokens, codes: m.codes, absmax: m.absmax, codebook: m.codebook,
                                        rows: rows, cols: cols, blockSize: blockSize, bias: b, y: &ref,
                                        precision: usesBF16 ? .bf16 : .f32)
                var scale = m.magnitude(x: x, tokens: tokens, bias: b)
                if usesBF16 { scale = scale.map { $0 * 1.01 } }
                let worst = worstError(y, ref, scale: scale)
                #expect(worst <= 1e-5, "\(precision) block \(blockSize) \(rows)×\(cols) tokens \(tokens): error \(worst)")
            }
        }
    }

    /// A model-like shape with a block of 4096 (groups of 256 columns) and one with 32 (groups of 32).
    @Test(arguments: [(32, 128), (4096, 40)])
    func modelSizedShape(blockSize: Int, tokens: Int) {
        var rng = TestRandom(seed: 22)
        let m = Matrix(rows: 200, cols: 2048, blockSize: blockSize, codebook: Self.nf4, rng: &rng)
        #expect(m.packed.groupSize == min(blockSize, 256))
        let x = rng.floats(tokens * 2048)
        for precision in MatmulPrecision.allCases {
            var y = [Float](repeating: .nan, count: tokens * 200), ref = y
            fourBitLinear(x: x, tokens: tokens, weight: m.packed, bias: nil, y: &y, precision: precision)
            let bf16 = precision == .bf16 && Gemm.hasAMX
            Reference.fourBitLinear(x: x, tokens: tokens, codes: m.codes, absmax: m.absmax, codebook: m.codebook, rows: 200,
                                    cols: 2048, blockSize: blockSize, bias: nil, y: &ref, precision: bf16 ? .bf16 : .f32)
            let worst = worstError(y, ref, scale: m.magnitude(x: x, tokens: tokens, bias: nil))
            #expect(worst <= 1e-5, "\(precision): error \(worst)")
        }
    }

    /// Enough tiles per chunk that decode takes them two at a time (and an odd one at the end), on one thread and on
    /// the shared pool.
    @Test(arguments: [1, 0])
    func decodeWithManyTilesPerChunk(threads: Int) {
        var rng = TestRandom(seed: 23)
        let m = Matrix(rows: 1003, cols: 256, blockSize: 64, codebook: Self.fp4, rng: &rng)
        let pool = threads > 0 ? ThreadPool(threads: threads) : .shared
        let bias = rng.floats(1003)
        for tokens in [1, 2, 5] {
            let x = rng.floats(tokens * 256)
            var y = [Float](repeating: .nan, count: tokens * 1003), ref = y
            fourBitLinear(x: x, tokens: tokens, weight: m.packed, bias: bias, y: &y, pool: pool)
            Reference.fourBitLinear(x: x, tokens: tokens, codes: m.codes, absmax: m.absmax, codebook: m.codebook,
                                    rows: 1003, cols: 256, blockSize: 64, bias: bias, y: &ref)
            let worst = worstError(y, ref, scale: m.magnitude(x: x, tokens: tokens, bias: bias))
            #expect(worst <= 1e-5, "tokens \(tokens): error \(worst)")
        }
    }

    @Test func invalidInputsThrow() {
        let codes = [UInt8](repeating: 0, count: 64), absmax: [Float] = [1, 1, 1, 1]
        #expect(throws: QuantizedWeightError.invalidBlockSize(48)) {
            _ = try Packed4BitWeights.repack(codes: codes, absmax: absmax, codebook: Self.nf4, rows: 2, cols: 64, blockSize: 48)
        }
        #expect(throws: QuantizedWeightError.invalidBlockSize(16)) {
            _ = try Packed4BitWeights.repack(codes: codes, absmax: absmax, codebook: Self.nf4, rows: 2, cols: 64, blockSize: 16)
        }
        #expect(throws: QuantizedWeightError.invalidCodebook(count: 15)) {
            _ = try Packed4BitWeights.repack(codes: codes, absmax: absmax, codebook: Array(Self.nf4.prefix(15)), rows: 2,
                                             cols: 64, blockSize: 64)
        }
    }
}
