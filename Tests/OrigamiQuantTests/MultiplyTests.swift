import Foundation
import OrigamiKernels
import OrigamiNN
import OrigamiQuant
import OrigamiTensor
import Testing

/// LLM.int8() and int8 against bitsandbytes' `Linear8bitLt` (eval mode, has_fp16_weights=False).
@Suite struct Linear8bitLtGoldenTests {
    static let inputs = ["x1", "x2", "x3", "x4"]
    let context = ComputeContext(threads: 2)

    func layer(threshold: Float?) throws -> (weight: Int8Weight, bias: FloatBuffer, golden: FixtureFile) {
        let g = try FixtureFile("linear8bitlt.safetensors")
        let v = try g.view("weight")
        let w = try Int8Weight(quantizing: try FloatMatrixSource(v, name: "weight", rows: v.shape[0], cols: v.shape[1]),
                               threshold: threshold)
        let b = try g.floats("bias")
        let bias = FloatBuffer(count: b.count)
        for (i, x) in b.enumerated() { bias[i] = x }
        return (w, bias, g)
    }

    @Test func weightStateEqualsBitsandbytes() throws {
        let (w, _, g) = try layer(threshold: 6)
        #expect(Array(w.codes.bytes).map { Int8(bitPattern: $0) } == (try g.int8s("t6.CB")))
        #expect(bits(w.scales.array) == bits(try g.floats("t6.SCB")))
    }

    @Test(arguments: inputs)
    func llmInt8OutputMatchesWithinFloatRounding(_ input: String) throws {
        let (w, bias, g) = try layer(threshold: 6)
        let xv = try g.view(input)
        let x = xv.toFloatArray()
        let tokens = xv.shape[0]
        // The outlier columns are the ones bitsandbytes found (|x| ≥ 6 in float16).
        let a = x.withUnsafeBufferPointer { RowwiseInt8.quantizeActivations($0.baseAddress!, tokens: tokens, cols: w.inFeatures, threshold: 6) }
        #expect(a.outlierColumns == (try g.ints("t6.outliers_\(input)")), "\(input): outlier columns")
        let y = multiply(w, x, tokens: tokens, bias: bias)
        let expected = try g.floats("t6.y_\(input)")
        // Int32 products are exact and rescaled in the same order; only the float sum over outlier columns may add
        // in another order: a few ulps of the output.
        for (i, (got, want)) in zip(y, expected).enumerated() {
            #expect(abs(got - want) <= 2e-6 * max(1, abs(want)), "\(input)[\(i)]: \(got) vs \(want)")
        }
    }

    @Test(arguments: inputs)
    func int8OutputMatchesBitForBit(_ input: String) throws {
        let (w, bias, g) = try layer(threshold: nil)
        let xv = try g.view(input)
        let y = multiply(w, xv.toFloatArray(), tokens: xv.shape[0], bias: bias)
        #expect(bits(y) == bits(try g.floats("t0.y_\(input)")), "\(input)")
    }

    func multiply(_ w: any LinearWeight, _ x: [Float], tokens: Int, bias: FloatBuffer) -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * w.outFeatures)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { w.multiply(xb.baseAddress!, tokens: tokens, bias: bias.pointer, into: $0.baseAddress!, context: context) }
        }
        return y
    }
}

/// Every quantized type's multiply against a float product with its own dequantized weight, over odd shapes and
/// token counts on both sides of the decode/prefill split.
@Suite struct ReferenceMultiplyTests {
    let context = ComputeContext(threads: 2)

    static let shapes: [(out: Int, in: Int)] = [(1, 7), (33, 67), (48, 64), (17, 130)]

    func randomWeight(_ out: Int, _ inF: Int, seed: UInt64) -> [Float] {
        var g = SplitMix(seed)
        return (0..<(out * inF)).map { _ in g.normal() * 0.05 }
    }

    /// y = x · dequant(W)ᵀ + b in Double.
    func expected(_ deq: [Float], out: Int, inF: Int, x: [Float], tokens: Int, bias: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: tokens * out)
        for t in 0..<tokens {
            for r in 0..<out {
                var s = Double(bias[r])
                for k in 0..<inF { s += Double(x[t * inF + k]) * Double(deq[r * inF + k]) }
                y[t * out + r] = Float(s)
            }
        }
        return y
    }

    @Test(arguments: [1, 3, 9])
    func fourBitMatchesItsDequantizedWeight(_ tokens: Int) throws {
        for (i, shape) in Self.shapes.enumerated() {
            let w = randomWeight(shape.out, shape.in, seed: UInt64(i + 1))
            for type in FourBitType.allCases {
                for dq in [false, true] {
                    let q = try w.withUnsafeBufferPointer { buf in
                        try FourBitWeight(quantizing: FloatMatrixSource(floats: buf, rows: shape.out, cols: shape.in, owner: Box()),
                                          type: type, blockSize: 32, doubleQuant: dq)
                    }
                    let deq = [Float](unsafeUninitializedCapacity: w.count) { b, n in q.dequantize(0, w.count, into: b.baseAddress!); n = w.count }
                    try check(q, deq: deq, tokens: tokens, tolerance: 1e-5)
                }
            }
        }
    }

    @Test(arguments: [1, 3, 9])
    func int8TypesMatchTheirDequantizedProduct(_ tokens: Int) throws {
        for (i, shape) in Self.shapes.enumerated() {
            let w = randomWeight(shape.out, shape.in, seed: UInt64(i + 10))
            try w.withUnsafeBufferPointer { buf in
                let src = FloatMatrixSource(floats: buf, rows: shape.out, cols: shape.in, owner: Box())
                let a = try Int8Weight(quantizing: src, threshold: nil)
                let z = try Int8ZeroPointWeight(quantizing: src)
                // int8 activations add their own rounding: ~1/127 of each token's absmax per element.
                try check(a, deq: dequantized(a.dequantizeRow, shape), tokens: tokens, tolerance: 2e-2)
                try check(z, deq: dequantized(z.dequantizeRow, shape), tokens: tokens, tolerance: 2e-2)
            }
        }
    }

    func dequantized(_ row: (Int, UnsafeMutablePointer<Float>) -> Void, _ shape: (out: Int, in: Int)) -> [Float] {
        [Float](unsafeUninitializedCapacity: shape.out * shape.in) { b, n in
            for r in 0..<shape.out { row(r, b.baseAddress! + r * shape.in) }
            n = shape.out * shape.in
        }
    }

    func check(_ q: any LinearWeight, deq: [Float], tokens: Int, tolerance: Float) throws {
        var g = SplitMix(99)
        let x = (0..<(tokens * q.inFeatures)).map { _ in g.normal() }
        let bias = (0..<q.outFeatures).map { Float($0) * 0.01 }
        let b = FloatBuffer(count: bias.count)
        for (i, v) in bias.enumerated() { b[i] = v }
        var y = [Float](repeating: .nan, count: tokens * q.outFeatures)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { q.multiply(xb.baseAddress!, tokens: tokens, bias: b.pointer, into: $0.baseAddress!, context: context) }
        }
        let want = expected(deq, out: q.outFeatures, inF: q.inFeatures, x: x, tokens: tokens, bias: bias)
        let scale = max(1, want.map(abs).max()!)
        for (i, (a, e)) in zip(y, want).enumerated() {
            #expect(abs(a - e) <= tolerance * scale, "\(q.formatName) [\(q.outFeatures), \(q.inFeatures)] tokens \(tokens) [\(i)]: \(a) vs \(e)")
        }
    }
}

final class Box: Sendable {}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
    mutating func normal() -> Float {
        let u = max(uniform(), 1e-7), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
