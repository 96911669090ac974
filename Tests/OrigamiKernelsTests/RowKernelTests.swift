#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import OrigamiKernels
import OrigamiTensor
import Testing

/// Row kernels against their `Reference` twins over lengths with every kind of tail (see `rowLengths`).
/// Tolerances are stated per test, as relative errors against the magnitude the result is built from.
@Suite struct RowKernelTests {
    @Test(arguments: rowLengths)
    func dotAxpyScaleAddMultiply(n: Int) {
        var rng = TestRandom(seed: UInt64(n))
        let a = rng.floats(n), b = rng.floats(n)
        // dot: summation order only; 1e-6 of Σ|aᵢbᵢ|.
        let scale = zip(a, b).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
        #expect(abs(dot(a, b, count: n) - Reference.dot(a, b, count: n)) <= 1e-6 * scale + 1e-30)
        // Elementwise ops round once, like the reference: exact equality.
        // axpy: one fused rounding against a Double reference: half an ulp of the result, plus the Double's own
        // rounding; 1.2e-7 of |αx| + |y|.
        var y = b, yr = b
        axpy(0.75, a, &y, count: n)
        Reference.axpy(0.75, a, &yr, count: n)
        #expect(worstError(y, yr, scale: zip(a, b).map { abs(0.75 * $0) + abs($1) }) <= 1.2e-7)
        // Single-rounding elementwise ops: exact equality.
        var out = [Float](repeating: 0, count: n)
        vectorScale(a, by: -3, into: &out, count: n)
        #expect(out == a.map { $0 * -3 }, "scale")
        vectorAdd(a, b, into: &out, count: n)
        #expect(out == zip(a, b).map { $0 + $1 }, "add")
        vectorMultiply(a, b, into: &out, count: n)
        #expect(out == zip(a, b).map { $0 * $1 }, "multiply")
    }

    /// 1e-6 relative: one rounding per step in f32 against a Double reference.
    @Test(arguments: rowLengths)
    func norms(n: Int) {
        var rng = TestRandom(seed: 100 + UInt64(n))
        let x = rng.floats(n, -3, 5), w = rng.floats(n, 0.5, 1.5), b = rng.floats(n)
        var out = [Float](repeating: 0, count: n), ref = out
        rmsNorm(x, weight: w, eps: 1e-6, count: n, into: &out)
        Reference.rmsNorm(x, weight: w, eps: 1e-6, count: n, into: &ref)
        #expect(worstError(out, ref, scale: ref.map { abs($0) }, floor: 1e-6) <= 2e-6)
        rmsNorm(x, weight: nil, eps: 1e-5, count: n, into: &out)
        Reference.rmsNorm(x, weight: nil, eps: 1e-5, count: n, into: &ref)
        #expect(worstError(out, ref, scale: ref.map { abs($0) }, floor: 1e-6) <= 2e-6)
        // LayerNorm subtracts the mean: judge against the normalised magnitude (|x−mean|·rstd·|w| ~ 1).
        for (weight, bias) in [(w, b), (w, nil), (nil, nil)] as [([Float]?, [Float]?)] {
            layerNorm(x, weight: weight, bias: bias, eps: 1e-5, count: n, into: &out)
            Reference.layerNorm(x, weight: weight, bias: bias, eps: 1e-5, count: n, into: &ref)
            #expect(worstError(out, ref, scale: [Float](repeating: 1, count: n)) <= 1e-5, "n \(n)")
        }
    }

    /// In place (out == x) must work for the norms, as model code normalises hidden states in place.
    @Test func normsInPlace() {
        var rng = TestRandom(seed: 5)
        var x = rng.floats(100)
        var ref = [Float](repeating: 0, count: 100)
        Reference.rmsNorm(x, weight: nil, eps: 1e-6, count: 100, into: &ref)
        x.withUnsafeMutableBufferPointer { p in rmsNorm(p.baseAddress!, weight: nil, eps: 1e-6, count: 100, into: p.baseAddress!) }
        #expect(worstError(x, ref, scale: ref.map { abs($0) }, floor: 1e-6) <= 2e-6)
    }

    /// Probabilities to 2e-6 relative (vector exp is accurate to ~2 ulp).
    @Test(arguments: rowLengths)
    func softmaxMatches(n: Int) {
        var rng = TestRandom(seed: 200 + UInt64(n))
        var x = rng.floats(n, -30, 30)
        if n > 3 {
            x[1] = -.infinity   // a masked position
            x[2] = 80           // large logits must not overflow
        }
        var out = [Float](repeating: .nan, count: n), ref = out
        for scale: Float in [1, 0.125] {
            let m = softmax(x, count: n, scale: scale, into: &out)
            Reference.softmax(x, count: n, scale: scale, into: &ref)
            #expect(m == x.map { $0 * scale }.max()!)
            #expect(worstError(out, ref, scale: ref, floor: 1e-30) <= 2e-6)
            #expect(abs(out.reduce(0, +) - 1) <= 1e-5)
        }
    }

    @Test func softmaxWithKnownMaximumMatchesScanning() {
        var rng = TestRandom(seed: 31)
        let x = rng.floats(77, -5, 5)
        var a = [Float](repeating: 0, count: 77), b = a
        let m = softmax(x, count: 77, scale: 0.5, into: &a)
        let m2 = softmax(x, count: 77, scale: 0.5, maximum: m, into: &b)
        #expect(m2 == m)
        #expect(a == b)
    }

    @Test func softmaxOfFullyMaskedRowIsZero() {
        var out: [Float] = [1, 2, 3]
        let m = softmax([-.infinity, -.infinity, -.infinity], count: 3, into: &out)
        #expect(m == -.infinity)
        #expect(out == [0, 0, 0])
    }

    @Test func expShiftedSumsWhatItWrites() {
        var rng = TestRandom(seed: 9)
        let x = rng.floats(37, -10, 0)
        var out = [Float](repeating: 0, count: 37)
        let s = expShifted(x, count: 37, shift: -1, into: &out)
        for i in 0..<37 { #expect(abs(out[i] - Float(exp(Double(x[i]) + 1))) <= 2e-7 * out[i]) }
        #expect(abs(s - out.reduce(0, +)) <= 1e-5 * s)
    }

    /// Activations over a wide range including tails: 2e-6 relative to max(|f(x)|, 1e-3·|x|) — the floor covers the
    /// far negative tails where f(x) → 0 and a relative error of the tiny result means nothing to a model.
    @Test func activations() {
        var xs: [Float] = stride(from: -20, through: 20, by: 0.0137).map { Float($0) }
        xs += [0, -0.0, 1e-8, -1e-8, 1e-3, -1e-3, 50, -50, 88, -88, 100, -100]
        let n = xs.count
        var out = [Float](repeating: 0, count: n)
        func check(_ name: String, _ fast: [Float], _ f: (Float) -> Float) {
            let ref = xs.map(f)
            let scale = zip(ref, xs).map { max(abs($0), 1e-3 * abs($1)) }
            let worst = worstError(fast, ref, scale: scale)
            if worst > 2e-6 {
                let i = fast.indices.max { abs(fast[$0] - ref[$0]) / scale[$0] < abs(fast[$1] - ref[$1]) / scale[$1] }!
                Issue.record("\(name): error \(worst) at x = \(xs[i]): \(fast[i]) vs \(ref[i])")
            }
        }
        silu(xs, into: &out, count: n)
        check("silu", out, Reference.silu)
        gelu(xs, into: &out, count: n)
        check("gelu", out, Reference.geluErf)
        gelu(xs, into: &out, count: n, approximation: .tanh)
        check("gelu_tanh", out, Reference.geluTanh)
        relu(xs, into: &out, count: n)
        #expect(out == xs.map(Reference.relu))
        let up = xs.reversed().map { $0 * 0.5 }
        siluMul(gate: xs, up: Array(up), into: &out, count: n)
        let ref = (0..<n).map { Reference.silu(xs[$0]) * up[$0] }
        #expect(worstError(out, ref, scale: (0..<n).map { max(abs(ref[$0]), 1e-3 * abs(xs[$0] * up[$0])) }) <= 2e-6)
    }

    @Test func activationsKeepNaNAndInfinity() {
        let xs: [Float] = [.nan, .infinity, -.infinity]
        var out = [Float](repeating: 0, count: 3)
        relu(xs, into: &out, count: 3)
        #expect(out[0].isNaN && out[1] == .infinity && out[2] == 0)
        gelu(xs, into: &out, count: 3)
        #expect(out[0].isNaN && out[1] == .infinity)
        silu(xs, into: &out, count: 3)
        #expect(out[0].isNaN && out[1] == .infinity)
    }

    /// Both layouts, full and partial rotary, head sizes with tails; 1e-6 of |x| (one FMA rounding).
    @Test(arguments: [RoPELayout.rotateHalf, .interleaved])
    func rope(layout: RoPELayout) {
        var rng = TestRandom(seed: 77)
        for (headDim, rotaryDim) in [(64, 64), (128, 128), (80, 80), (64, 32), (6, 6), (34, 34), (96, 48), (2, 2)] {
            let x = rng.floats(headDim, -4, 4)
            let position = 37.0
            let half = rotaryDim / 2
            let cosT = (0..<half).map { Float(cos(position / pow(10000, 2 * Double($0) / Double(rotaryDim)))) }
            let sinT = (0..<half).map { Float(sin(position / pow(10000, 2 * Double($0) / Double(rotaryDim)))) }
            var fast = x, ref = x
            applyRoPE(&fast, cos: cosT, sin: sinT, rotaryDim: rotaryDim, layout: layout)
            Reference.applyRoPE(&ref, cos: cosT, sin: sinT, rotaryDim: rotaryDim, layout: layout)
            #expect(worstError(fast, ref, scale: [Float](repeating: 4, count: headDim)) <= 1e-6, "\(headDim)/\(rotaryDim)")
            #expect(fast[rotaryDim...] == x[rotaryDim...])
        }
    }

    @Test(arguments: [RoPELayout.rotateHalf, .interleaved])
    func ropeOverHeadsMatchesOneByOne(layout: RoPELayout) {
        var rng = TestRandom(seed: 78)
        let heads = 5, headDim = 40, rotaryDim = 32
        let x = rng.floats(heads * headDim)
        let cosT = rng.floats(rotaryDim / 2), sinT = rng.floats(rotaryDim / 2)
        var all = x, one = x
        applyRoPE(&all, heads: heads, headStride: headDim, cos: cosT, sin: sinT, rotaryDim: rotaryDim, layout: layout)
        one.withUnsafeMutableBufferPointer { p in
            for h in 0..<heads {
                Reference.applyRoPE(p.baseAddress! + h * headDim, cos: cosT, sin: sinT, rotaryDim: rotaryDim, layout: layout)
            }
        }
        #expect(worstError(all, one, scale: [Float](repeating: 1, count: x.count)) <= 1e-6)
    }

    /// Every one of the 65536 f16 and bf16 bit patterns widens exactly.
    @Test(arguments: [DType.f16, .bf16])
    func widenEveryBitPattern(dtype: DType) {
        let bits = (0...UInt16.max).map { $0 }
        var out = [Float](repeating: 0, count: bits.count), ref = out
        bits.withUnsafeBytes { raw in
            convertToFloat(raw.baseAddress!, dtype: dtype, count: bits.count, into: &out)
            Reference.convertToFloat(raw.baseAddress!, dtype: dtype, count: bits.count, into: &ref)
        }
        #expect(zip(out, ref).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) })
        // Odd lengths too (masked tails).
        for n in rowLengths {
            var part = [Float](repeating: 0, count: n)
            bits.withUnsafeBytes { convertToFloat($0.baseAddress! + 2 * 1000, dtype: dtype, count: n, into: &part) }
            #expect(part == Array(ref[1000..<(1000 + n)]))
        }
    }

    /// Narrowing rounds to nearest even like `BFloat16.fromFloat` and Swift's Float16.
    @Test func narrowRoundsToNearestEven() {
        var rng = TestRandom(seed: 11)
        var xs = rng.floats(1000, -70000, 70000) + rng.floats(1000, -1e-3, 1e-3)
        xs += [1.00390625, 1.01171875, -1.00390625, 0, -0.0, 65504, 65520, 1e-8]
        var bf = [UInt16](repeating: 0, count: xs.count), hf = bf
        bf.withUnsafeMutableBytes { convertFromFloat(xs, dtype: .bf16, count: xs.count, into: $0.baseAddress!) }
        hf.withUnsafeMutableBytes { convertFromFloat(xs, dtype: .f16, count: xs.count, into: $0.baseAddress!) }
        #expect(bf == xs.map { BFloat16.fromFloat($0) })
        #expect(hf == xs.map { Float16($0).bitPattern })
    }

    @Test func bandwidthProbeMeasuresSomething() {
        let bw = measureMemoryBandwidth(bytes: 64 << 20, threads: 2)
        #expect(bw > 1e9)
    }
}
