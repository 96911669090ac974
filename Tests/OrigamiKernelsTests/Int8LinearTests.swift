import OrigamiKernels
import Testing

/// Int8 kernels against the bitsandbytes-defined twins in `Reference`.
///
/// The integer part is exact in both, and the kernels scale it back with the same f32 operations in the same order,
/// so `.absmax` outputs must be bit-identical. Zero-point outputs, the f32 outlier columns and the dequantized
/// f32 kernel differ from the Double-summed references by f32 summation order only: each output is checked against
/// 1e-5 · Σ|xᵢ·wᵢ| (as LinearTests).
@Suite struct Int8LinearTests {
    static let shapes: [(rows: Int, cols: Int)] = [
        (1, 1), (3, 5), (13, 17), (37, 100), (48, 64), (50, 130), (33, 257), (100, 31), (16, 64), (97, 96), (20, 0),
    ]
    static let tokenCounts = [1, 2, 3, 4, 5, 17, 64, 129]

    /// A random int8 weight in both encodings.
    struct Matrix {
        let rows: Int, cols: Int
        let codes: [Int8], absmax: [Float]
        let ucodes: [UInt8], scales: [Float], zeros: [Float]
        let symmetric: Int8Weights, asymmetric: Int8Weights

        init(rows: Int, cols: Int, rng: inout TestRandom) {
            self.rows = rows
            self.cols = cols
            codes = (0..<(rows * cols)).map { _ in Int8(truncatingIfNeeded: Int(rng.next() % 255) - 127) }
            absmax = (0..<rows).map { _ in rng.float(0.01, 2) }
            ucodes = (0..<(rows * cols)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            scales = (0..<rows).map { _ in rng.float(0.001, 0.05) }
            // Integral and fractional zero points both occur in practice.
            zeros = (0..<rows).map { r in r % 2 == 0 ? Float(rng.next() % 256) : rng.float(0, 255) }
            symmetric = try! Int8Weights(codes: codes, scales: absmax, rows: rows, cols: cols)
            asymmetric = try! Int8Weights(codes: ucodes, scales: scales, zeroPoints: zeros, rows: rows, cols: cols)
        }

        /// Σ|xᵢ·wᵢ| + |bias| per output, the scale errors are judged against.
        func magnitude(x: [Float], tokens: Int, bias: [Float]?, zeroPoint: Bool) -> [Float] {
            var out = [Float](repeating: 0, count: tokens * rows)
            for t in 0..<tokens {
                for r in 0..<rows {
                    var s = abs(bias?[r] ?? 0)
                    for c in 0..<cols {
                        let w = zeroPoint ? (Float(ucodes[r * cols + c]) - zeros[r]) * scales[r] : Float(codes[r * cols + c]) * absmax[r] / 127
                        s += abs(x[t * cols + c] * w)
                    }
                    out[t * rows + r] = s
                }
            }
            return out
        }
    }

    @Test func activationQuantizationMatchesBitsandbytesDefinition() {
        // Hand case: absmax 2 → 127/2 = 63.5; 1 → 63.5 → 64 (ties to even), -0.5 → -31.75 → -32, 2 → 127.
        // With threshold 1.5, column 2 (|2| ≥ 1.5) is an outlier: left out of the absmax (now 1 → scale 127)
        // and zeroed in every token.
        let x: [Float] = [1, -0.5, 2, 0, 0.25, -1, 0.5, 0.125]
        let plain = Reference.int8QuantizeActivations(x, tokens: 2, cols: 4, throughHalf: false, threshold: 0)
        #expect(plain.codes == [64, -32, 127, 0, 32, -127, 64, 16])
        #expect(plain.absmax == [2, 1] && plain.outliers.isEmpty)
        let split = Reference.int8QuantizeActivations(x, tokens: 2, cols: 4, throughHalf: false, threshold: 1.5)
        #expect(split.outliers == [2])
        #expect(split.codes == [127, -64, 0, 0, 32, -127, 0, 16])
        #expect(split.absmax == [1, 1])
    }

    enum Variant: String, CaseIterable, CustomTestStringConvertible {
        case vnni, amx, automatic, bitsandbytes, outliers
        var testDescription: String { rawValue }
        var kernel: Int8Kernel { self == .vnni ? .vnni : self == .amx ? .amx : .automatic }
        var activations: Int8ActivationQuantization {
            switch self {
            case .bitsandbytes: .bitsandbytes(threshold: 0)
            case .outliers: .bitsandbytes(threshold: 1.5)
            default: .init()
            }
        }
    }

    @Test(arguments: Variant.allCases)
    func absmaxMatchesReference(variant: Variant) {
        var rng = TestRandom(seed: 11)
        for (rows, cols) in Self.shapes {
            let m = Matrix(rows: rows, cols: cols, rng: &rng)
            let bias = rng.floats(rows)
            for tokens in Self.tokenCounts {
                // Activations up to ±2: with a threshold of 1.5 some columns are outliers, most are not.
                let x = rng.floats(tokens * cols, -1.6, 1.6)
                let withBias = (rows + tokens) % 2 == 0
                var y = [Float](repeating: .nan, count: tokens * rows), ref = y
                let b: [Float]? = withBias ? bias : nil
                let cols1 = int8Linear(x: x, tokens: tokens, weight: m.symmetric, bias: b, y: &y,
                                       activations: variant.activations, kernel: variant.kernel)
                let cols2 = Reference.int8Linear(x: x, tokens: tokens, codes: m.codes, scales: m.absmax, rows: rows,
                                                 cols: cols, bias: b, y: &ref, activations: variant.activations)
                #expect(cols1 == cols2)
                if variant == .outliers {
                    let worst = worstError(y, ref, scale: m.magnitude(x: x, tokens: tokens, bias: b, zeroPoint: false))
                    #expect(worst <= 1e-5, "\(rows)×\(cols) tokens \(tokens): error \(worst)")
                } else {
                    let mismatches = zip(y, ref).filter { $0 != $1 }.count
                    #expect(mismatches == 0, "\(variant) \(rows)×\(cols) tokens \(tokens): \(mismatches) outputs differ")
                }
            }
        }
    }

    @Test(arguments: [Variant.vnni, .amx, .outliers])
    func zeroPointMatchesReference(variant: Variant) {
        var rng = TestRandom(seed: 12)
        for (rows, cols) in Self.shapes {
            let m = Matrix(rows: rows, cols: cols, rng: &rng)
            let bias = rng.floats(rows)
            for tokens in Self.tokenCounts {
                let x = rng.floats(tokens * cols, -1.6, 1.6)
                let b: [Float]? = tokens % 2 == 0 ? bias : nil
                var y = [Float](repeating: .nan, count: tokens * rows), ref = y
                int8Linear(x: x, tokens: tokens, weight: m.asymmetric, bias: b, y: &y, activations: variant.activations,
                           kernel: variant.kernel)
                Reference.int8ZeroPointLinear(x: x, tokens: tokens, codes: m.ucodes, scales: m.scales, zeroPoints: m.zeros,
                                              rows: rows, cols: cols, bias: b, y: &ref, activations: variant.activations)
                let worst = worstError(y, ref, scale: m.magnitude(x: x, tokens: tokens, bias: b, zeroPoint: true))
                #expect(worst <= 1e-5, "\(variant) \(rows)×\(cols) tokens \(tokens): error \(worst)")
            }
        }
    }

    @Test(arguments: [false, true])
    func dequantizedF32MatchesReference(zeroPoint: Bool) {
        var rng = TestRandom(seed: 13)
        for (rows, cols) in Self.shapes {
            let m = Matrix(rows: rows, cols: cols, rng: &rng)
            let bias = rng.floats(rows)
            for tokens in Self.tokenCounts {
                let x = rng.floats(tokens * cols, -2, 2)
                var y = [Float](repeating: .nan, count: tokens * rows), ref = y
                let b: [Float]? = tokens % 3 == 0 ? nil : bias
                int8DequantizedLinear(x: x, tokens: tokens, weight: zeroPoint ? m.asymmetric : m.symmetric, bias: b, y: &y)
                if zeroPoint {
                    Reference.int8DequantizedLinear(x: x, tokens: tokens, codes: m.ucodes, scales: m.scales,
                                                    zeroPoints: m.zeros, rows: rows, cols: cols, bias: b, y: &ref)
                } else {
                    m.codes.withUnsafeBytes { codes in
                        Reference.int8DequantizedLinear(x: x, tokens: tokens, codes: codes.baseAddress!, scales: m.absmax,
                                                        zeroPoints: nil, rows: rows, cols: cols, bias: b, y: &ref)
                    }
                }
                let worst = worstError(y, ref, scale: m.magnitude(x: x, tokens: tokens, bias: b, zeroPoint: zeroPoint))
                #expect(worst <= 1e-5, "\(rows)×\(cols) tokens \(tokens): error \(worst)")
            }
        }
    }

    /// The outlier kernel alone adds exactly the listed columns' f32 products.
    @Test func outlierColumnsAccumulate() {
        var rng = TestRandom(seed: 14)
        let rows = 37, cols = 100, tokens = 5
        let m = Matrix(rows: rows, cols: cols, rng: &rng)
        let x = rng.floats(tokens * cols, -3, 3), start = rng.floats(tokens * rows)
        let columns = [0, 3, 4, 63, 64, 99]
        for zeroPoint in [false, true] {
            var y = start
            int8OutlierColumns(x: x, tokens: tokens, weight: zeroPoint ? m.asymmetric : m.symmetric, columns: columns, y: &y)
            for t in 0..<tokens {
                for r in 0..<rows {
                    var s = Double(start[t * rows + r]), mag = abs(Double(start[t * rows + r]))
                    for c in columns {
                        let w = zeroPoint ? (Double(m.ucodes[r * cols + c]) - Double(m.zeros[r])) * Double(m.scales[r])
                                          : Double(Reference.int8Dequantized(code: m.codes[r * cols + c], absmax: m.absmax[r]))
                        s += Double(x[t * cols + c]) * w
                        mag += abs(Double(x[t * cols + c]) * w)
                    }
                    #expect(abs(Double(y[t * rows + r]) - s) <= 1e-6 * mag)
                }
            }
        }
    }

    /// A decode-sized and a prefill-sized product on a model-like shape, through every kernel.
    @Test(arguments: [1, 128])
    func modelSizedShape(tokens: Int) {
        var rng = TestRandom(seed: 15)
        let m = Matrix(rows: 300, cols: 2048, rng: &rng)
        let x = rng.floats(tokens * 2048, -1, 1)
        var ref = [Float](repeating: 0, count: tokens * 300)
        Reference.int8Linear(x: x, tokens: tokens, codes: m.codes, scales: m.absmax, rows: 300, cols: 2048, bias: nil, y: &ref)
        for kernel in Int8Kernel.allCases {
            var y = [Float](repeating: .nan, count: tokens * 300)
            int8Linear(x: x, tokens: tokens, weight: m.symmetric, bias: nil, y: &y, kernel: kernel)
            let mismatches = zip(y, ref).filter { $0 != $1 }.count
            #expect(mismatches == 0, "\(kernel): \(mismatches) outputs differ")
        }
    }

    @Test func packedLayoutReadsBack() {
        var rng = TestRandom(seed: 16)
        for (rows, cols) in Self.shapes {
            let m = Matrix(rows: rows, cols: cols, rng: &rng)
            for r in 0..<rows {
                #expect(m.symmetric.scale(row: r) == m.absmax[r] && m.asymmetric.scale(row: r) == m.scales[r])
                #expect(m.asymmetric.zeroPoint(row: r) == m.zeros[r])
                for c in 0..<cols {
                    #expect(m.symmetric.code(row: r, column: c) == Int(m.codes[r * cols + c]))
                    #expect(m.asymmetric.code(row: r, column: c) == Int(m.ucodes[r * cols + c]))
                }
            }
            #expect(m.symmetric.byteCount >= rows * cols)
        }
    }

    @Test func allZeroActivationsGiveBias() {
        let m = try! Int8Weights(codes: [Int8](repeating: 5, count: 70 * 3), scales: [1, 2, 3], rows: 3, cols: 70)
        var y = [Float](repeating: .nan, count: 6)
        int8Linear(x: [Float](repeating: 0, count: 140), tokens: 2, weight: m, bias: [1, -2, 0.5], y: &y)
        #expect(y == [1, -2, 0.5, 1, -2, 0.5])
    }
}
