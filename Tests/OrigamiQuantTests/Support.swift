import Foundation
import OrigamiFormats
import OrigamiQuant
import OrigamiTensor
import Testing

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")
let quantFixtures = fixtures.appendingPathComponent("quant")

/// One fixture safetensors file of Tests/Fixtures/quant, with typed readers.
struct FixtureFile {
    let checkpoint: SafeTensorsCheckpoint

    init(_ name: String) throws {
        checkpoint = try SafeTensorsCheckpoint(path: quantFixtures.appendingPathComponent(name).path)
    }

    func view(_ name: String) throws -> TensorView { try checkpoint.tensor(named: name) }
    func floats(_ name: String) throws -> [Float] { try view(name).toFloatArray() }
    func bytes(_ name: String) throws -> [UInt8] { Array(try view(name).bytes) }
    func int8s(_ name: String) throws -> [Int8] { try bytes(name).map { Int8(bitPattern: $0) } }
    func ints(_ name: String) throws -> [Int] { try view(name).toFloatArray().map { Int($0) } }
    func has(_ name: String) -> Bool { checkpoint.contains(name) }
}

/// The float weight `name` of weights.safetensors as a quantizer source.
func weightSource(_ weights: FixtureFile, _ name: String) throws -> FloatMatrixSource {
    let v = try weights.view(name)
    return try FloatMatrixSource(v, name: name, rows: v.shape[0], cols: v.shape[1])
}

func json(_ url: URL) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

/// Bit patterns, so that -0.0 ≠ 0.0 and NaN = NaN in comparisons.
func bits(_ xs: [Float]) -> [UInt32] { xs.map(\.bitPattern) }

/// Largest |a − b| relative to the range of `b`.
func relativeError(_ a: ArraySlice<Float>, _ b: [Float]) -> Float {
    let range = (b.max()! - b.min()!)
    var worst: Float = 0
    for (x, y) in zip(a, b) { worst = max(worst, abs(x - y)) }
    return worst / range
}

func temporaryDirectory(_ tag: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("origami-quant-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    return url
}

/// The error `body` throws, if it is an `E` (anything else is recorded as an issue).
func thrown<E: Error>(_: E.Type, _ body: () throws -> Void) -> E? {
    do {
        try body()
        return nil
    } catch let e as E {
        return e
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}
