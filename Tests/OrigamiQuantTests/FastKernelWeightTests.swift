import OrigamiKernels
import OrigamiNN
import OrigamiQuant
import OrigamiTensor
import Testing

/// The weights the engine runs (repacked for the SIMD kernels) against the reference weight types they replace.
@Suite struct FastKernelWeightTests {
    let rows = 80, cols = 192
    let context = ComputeContext(threads: 2)

    func source() -> (FloatMatrixSource, AlignedBuffer) {
        let buffer = try! AlignedBuffer(byteCount: rows * cols * 4)
        let p = buffer.pointer(as: Float.self)
        var r = UInt64(7)
        for i in 0..<(rows * cols) {
            r = r &* 6364136223846793005 &+ 1442695040888963407
            p[i] = Float(Int64(bitPattern: r >> 11) % 2001 - 1000) / 1000 * 0.05
        }
        return (FloatMatrixSource(floats: UnsafeBufferPointer(start: p, count: rows * cols), rows: rows, cols: cols, owner: buffer), buffer)
    }

    func inputs(tokens: Int, outlier: Bool) -> [Float] {
        (0..<(tokens * cols)).map { i in outlier && i % cols == 5 ? 9.5 : Float((i * 37) % 101 - 50) / 40 }
    }

    func compare(_ reference: any LinearWeight, _ fast: any LinearWeight, outlier: Bool = false, tolerance: Float) {
        for tokens in [1, 3, 7] {
            let x = inputs(tokens: tokens, outlier: outlier)
            var a = [Float](repeating: 0, count: tokens * rows), b = a
            x.withUnsafeBufferPointer { xp in
                a.withUnsafeMutableBufferPointer { reference.multiply(xp.baseAddress!, tokens: tokens, bias: nil, into: $0.baseAddress!, context: context) }
                b.withUnsafeMutableBufferPointer { fast.multiply(xp.baseAddress!, tokens: tokens, bias: nil, into: $0.baseAddress!, context: context) }
            }
            let scale = a.map(abs).max()!
            let err = zip(a, b).map { abs($0 - $1) }.max()!
            #expect(err <= tolerance * scale, "\(fast.formatName), \(tokens) tokens: \(err) vs scale \(scale)")
        }
    }

    @Test func int8AndLLMInt8() throws {
        let (src, keep) = source()
        for threshold in [nil, Float(6)] as [Float?] {
            let ref = try Int8Weight(quantizing: src, threshold: threshold)
            let fast = try FastInt8Weight(ref, pool: context.pool)
            #expect(fast.formatName == ref.formatName && fast.bitsPerWeight == ref.bitsPerWeight)
            compare(ref, fast, outlier: threshold != nil, tolerance: 1e-5)
        }
        _ = keep
    }

    @Test func int8ZeroPoint() throws {
        let (src, keep) = source()
        let ref = try Int8ZeroPointWeight(quantizing: src)
        compare(ref, try FastInt8Weight(ref, pool: context.pool), tolerance: 2e-3)
        _ = keep
    }

    @Test(arguments: [FourBitType.nf4, .fp4], [false, true])
    func fourBit(_ type: FourBitType, doubleQuant: Bool) throws {
        let (src, keep) = source()
        let ref = try FourBitWeight(quantizing: src, type: type, blockSize: 64, doubleQuant: doubleQuant)
        compare(ref, try FastFourBitWeight(ref, pool: context.pool), tolerance: 1e-5)
        _ = keep
    }
}
