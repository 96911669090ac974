import OrigamiKernels
import OrigamiTensor
import Testing

/// Fast matrix kernels against `Reference.linear`.
///
/// Tolerance: the kernels and the reference form the same products (bf16-rounded the same way, round to nearest
/// even, when the precision is bf16: a bf16 × bf16 product is exact in f32), so they differ only by f32 summation
/// order. That error is bounded by a few ulps of Σ|xᵢ·wᵢ|, so each output is checked against
/// 1e-5 · Σ|xᵢ·wᵢ| (≈ 100 f32 ulps), far below what a wrong index or a dropped tail would cause.
@Suite struct LinearTests {
    /// Reference.linear on a case small enough to do by hand.
    @Test func referenceMatchesHandComputedCase() {
        // W = [[1, 2, 3], [-1, 0, 0.5]], x = [[1, 1, 1], [2, 0, -2]], bias = [0.5, -1]
        let w = TestMatrix([1, 2, 3, -1, 0, 0.5], rows: 2, cols: 3, dtype: .f32)
        let x: [Float] = [1, 1, 1, 2, 0, -2]
        let bias: [Float] = [0.5, -1]
        var y = [Float](repeating: .nan, count: 4)
        Reference.linear(x: x, tokens: 2, weight: w.weight, bias: bias, y: &y)
        // token 0: [1+2+3+0.5, -1+0+0.5-1] = [6.5, -1.5]; token 1: [2-6+0.5, -2-1-1] = [-3.5, -4]
        #expect(y == [6.5, -1.5, -3.5, -4])
        // bf16 rounding: 1.00390625 is halfway between bf16 neighbours 1 and 1.0078125 → rounds to even (1).
        let v = TestMatrix([1], rows: 1, cols: 1, dtype: .f32)
        var z: [Float] = [0]
        Reference.linear(x: [1.00390625], tokens: 1, weight: v.weight, bias: nil, y: &z, precision: .bf16)
        #expect(z == [1])
    }

    /// The fast path on the same hand case, every dtype and precision.
    @Test(arguments: [DType.f32, .f16, .bf16])
    func fastMatchesHandComputedCase(dtype: DType) {
        let w = TestMatrix([1, 2, 3, -1, 0, 0.5], rows: 2, cols: 3, dtype: dtype)
        let x: [Float] = [1, 1, 1, 2, 0, -2]
        for tokens in [1, 2] {
            for precision in MatmulPrecision.allCases {
                var y = [Float](repeating: .nan, count: 2 * tokens)
                linear(x: x, tokens: tokens, weight: w.weight, bias: [0.5, -1], y: &y, precision: precision)
                #expect(Array(y.prefix(2)) == [6.5, -1.5])
                if tokens == 2 { #expect(Array(y.suffix(2)) == [-3.5, -4]) }
            }
        }
    }

    static let shapes: [(rows: Int, cols: Int)] = [
        (1, 1), (3, 5), (13, 17), (37, 100), (48, 64), (50, 130), (33, 257), (100, 31), (16, 32), (97, 96), (5, 0),
    ]
    static let tokenCounts = [1, 2, 3, 4, 5, 16, 17, 33, 64, 65]

    enum Kernel: String, CaseIterable, CustomTestStringConvertible {
        case linearF32, linearBF16, matvec, gemmF32, gemmBF16Dot, gemmAMX
        var testDescription: String { rawValue }
    }

    @Test(arguments: Kernel.allCases, [DType.f32, .f16, .bf16])
    func kernelMatchesReference(kernel: Kernel, dtype: DType) {
        if kernel == .gemmAMX && !Gemm.hasAMX { return }
        var rng = TestRandom(seed: 42)
        for (rows, cols) in Self.shapes {
            let w = TestMatrix(rng.floats(rows * cols), rows: rows, cols: cols, dtype: dtype)
            let bias = rng.floats(rows)
            for tokens in Self.tokenCounts {
                let x = rng.floats(tokens * cols, -2, 2)
                let withBias = (rows + tokens) % 2 == 0
                let worst = check(kernel, w.weight, x: x, tokens: tokens, bias: withBias ? bias : nil)
                #expect(worst <= 1e-5, "\(kernel) \(dtype) \(rows)×\(cols) tokens \(tokens): error \(worst)")
            }
        }
    }

    /// Rows further apart than their length (a slice of a fused matrix), and more tokens than one packing pass.
    @Test(arguments: Kernel.allCases)
    func stridedRowsAndManyTokens(kernel: Kernel) {
        if kernel == .gemmAMX && !Gemm.hasAMX { return }
        var rng = TestRandom(seed: 7)
        for dtype in [DType.f32, .f16, .bf16] {
            let rows = 45, cols = 70
            let w = TestMatrix(rng.floats(rows * cols), rows: rows, cols: cols, dtype: dtype, rowStride: 83)
            for tokens in [3, 300] {
                let x = rng.floats(tokens * cols)
                let worst = check(kernel, w.weight, x: x, tokens: tokens, bias: rng.floats(rows))
                #expect(worst <= 1e-5, "\(kernel) \(dtype) strided, tokens \(tokens): error \(worst)")
            }
        }
    }

    /// A model-sized shape, once per precision, to exercise full blocks and every thread.
    @Test(arguments: MatmulPrecision.allCases)
    func modelSizedShape(precision: MatmulPrecision) {
        var rng = TestRandom(seed: 3)
        let rows = 256, cols = 2048, tokens = 40
        let w = TestMatrix(rng.floats(rows * cols, -0.1, 0.1), rows: rows, cols: cols, dtype: .bf16)
        let x = rng.floats(tokens * cols)
        let worst = check(precision == .f32 ? .linearF32 : .linearBF16, w.weight, x: x, tokens: tokens, bias: nil)
        #expect(worst <= 1e-5)
    }

    @Test func zeroTokensAndRawPointerEntryPoint() {
        let w = TestMatrix([1, 2, 3, 4], rows: 2, cols: 2, dtype: .f16)
        var y: [Float] = [7, 7]
        linear(x: [1, 1], tokens: 0, weight: w.weight, bias: nil, y: &y)
        #expect(y == [7, 7])
        linear(x: [1, 1], tokens: 1, inFeatures: 2, weight: w.storage, dtype: .f16, outFeatures: 2, bias: nil, y: &y)
        #expect(y == [3, 7])
        #expect(throws: KernelError.unsupportedDType(.i8)) {
            _ = try WeightMatrix(data: w.storage, dtype: .i8, rows: 2, cols: 2)
        }
    }

    /// Runs `kernel` and returns the worst error against the reference, relative to Σ|xᵢ·wᵢ| of each output.
    private func check(_ kernel: Kernel, _ w: WeightMatrix, x: [Float], tokens: Int, bias: [Float]?) -> Float {
        var y = [Float](repeating: .nan, count: tokens * w.rows)
        var precision = MatmulPrecision.f32
        func call(_ bias: UnsafePointer<Float>?) {
            switch kernel {
            case .linearF32: linear(x: x, tokens: tokens, weight: w, bias: bias, y: &y, precision: .f32)
            case .linearBF16:
                linear(x: x, tokens: tokens, weight: w, bias: bias, y: &y, precision: .bf16)
                // Small token counts go through the exact matrix × vector kernel whatever the precision.
                if tokens > Gemm.matvecMaxTokens { precision = .bf16 }
            case .matvec: Gemm.matvec(x: x, tokens: tokens, weight: w, bias: bias, y: &y)
            case .gemmF32: Gemm.f32(x: x, tokens: tokens, weight: w, bias: bias, y: &y)
            case .gemmBF16Dot:
                Gemm.bf16(x: x, tokens: tokens, weight: w, bias: bias, y: &y)
                precision = .bf16
            case .gemmAMX:
                Gemm.bf16AMX(x: x, tokens: tokens, weight: w, bias: bias, y: &y)
                precision = .bf16
            }
        }
        if let bias { bias.withUnsafeBufferPointer { call($0.baseAddress) } } else { call(nil) }
        var ref = [Float](repeating: 0, count: tokens * w.rows)
        Reference.linear(x: x, tokens: tokens, weight: w, bias: bias, y: &ref, precision: precision)
        // Σ|xᵢ·wᵢ| (+|bias|) per output, in the same rounding as the products.
        var scale = [Float](repeating: 0, count: tokens * w.rows)
        for t in 0..<tokens {
            for r in 0..<w.rows {
                var s = abs(bias?[r] ?? 0)
                for c in 0..<w.cols { s += abs(x[t * w.cols + c] * Reference.element(w, r, c)) }
                scale[t * w.rows + r] = s
            }
        }
        return worstError(y, ref, scale: scale)
    }
}
