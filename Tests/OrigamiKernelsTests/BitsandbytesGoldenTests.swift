import Foundation
import OrigamiKernels
import Testing

/// The quantized kernels against outputs bitsandbytes computed on CPU (Scripts/make_quant_kernel_goldens.py →
/// Tests/Fixtures/quant_kernels/goldens.json).
@Suite struct BitsandbytesGoldenTests {
    static func goldens() -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // OrigamiKernelsTests
            .deletingLastPathComponent()  // Tests
            .appendingPathComponent("Fixtures/quant_kernels/goldens.json")
        guard let data = try? Data(contentsOf: url),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return json
    }

    static func cases(_ key: String) -> [[String: Any]] { goldens()[key] as? [[String: Any]] ?? [] }

    static func floats(_ c: [String: Any], _ key: String) -> [Float] { (c[key] as? [Double] ?? []).map { Float($0) } }
    static func ints(_ c: [String: Any], _ key: String) -> [Int] { c[key] as? [Int] ?? [] }

    @Test func fixtureIsPresent() {
        #expect(Self.cases("int8").count == 3 && Self.cases("four_bit").count == 3)
    }

    /// `Linear8bitLt` inference: without outliers the integer part and its rescaling are bit-identical; with the
    /// threshold the f32 outlier columns are summed in another order than torch's `addmm` (1e-5 · Σ|x·w|).
    @Test func linear8bitLt() throws {
        for c in Self.cases("int8") {
            let rows = c["rows"] as! Int, cols = c["cols"] as! Int, tokens = c["tokens"] as! Int
            let threshold = Float(c["threshold"] as! Double)
            let codes = Self.ints(c, "cb").map { Int8($0) }, scb = Self.floats(c, "scb")
            let bias = Self.floats(c, "bias"), x = Self.floats(c, "x"), golden = Self.floats(c, "y")
            let weight = try Int8Weights(codes: codes, scales: scb, rows: rows, cols: cols)
            for kernel in Int8Kernel.allCases {
                var y = [Float](repeating: .nan, count: tokens * rows)
                let outliers = int8Linear(x: x, tokens: tokens, weight: weight, bias: bias, y: &y,
                                          activations: .bitsandbytes(threshold: threshold), kernel: kernel)
                #expect(threshold == 0 ? outliers.isEmpty : !outliers.isEmpty, "\(c["name"]!)")
                if threshold == 0 {
                    #expect(y == golden, "\(c["name"]!) \(kernel)")
                } else {
                    var worst: Float = 0
                    for t in 0..<tokens {
                        for r in 0..<rows {
                            var mag = abs(bias[r])
                            for k in 0..<cols { mag += abs(x[t * cols + k] * Float(codes[r * cols + k]) * scb[r] / 127) }
                            worst = max(worst, abs(y[t * rows + r] - golden[t * rows + r]) / mag)
                        }
                    }
                    #expect(worst <= 1e-5, "\(c["name"]!) \(kernel): error \(worst)")
                }
            }
        }
    }

    /// `quantize_4bit` codes and absmax through `repack` and `fourBitLinear` against float32 `x @ dequantize_4bit(W)ᵀ`.
    @Test func fourBitMatmul() throws {
        for c in Self.cases("four_bit") {
            let rows = c["rows"] as! Int, cols = c["cols"] as! Int, tokens = c["tokens"] as! Int, block = c["block"] as! Int
            let codes = Self.ints(c, "codes").map { UInt8($0) }, absmax = Self.floats(c, "absmax")
            let codebook = Self.floats(c, "codebook"), bias = Self.floats(c, "bias")
            let x = Self.floats(c, "x"), golden = Self.floats(c, "y")
            let weight = try Packed4BitWeights.repack(codes: codes, absmax: absmax, codebook: codebook, rows: rows, cols: cols,
                                                      blockSize: block)
            let dense = Reference.fourBitDequantize(codes: codes, absmax: absmax, codebook: codebook, rows: rows, cols: cols,
                                                    blockSize: block)
            var y = [Float](repeating: .nan, count: tokens * rows)
            fourBitLinear(x: x, tokens: tokens, weight: weight, bias: bias, y: &y)
            var worst: Float = 0
            for t in 0..<tokens {
                for r in 0..<rows {
                    var mag = abs(bias[r])
                    for k in 0..<cols { mag += abs(x[t * cols + k] * dense[r * cols + k]) }
                    worst = max(worst, abs(y[t * rows + r] - golden[t * rows + r]) / mag)
                }
            }
            #expect(worst <= 1e-5, "\(c["name"]!): error \(worst)")
        }
    }
}
