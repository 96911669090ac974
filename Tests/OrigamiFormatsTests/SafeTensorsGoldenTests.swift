import Foundation
import OrigamiFormats
import OrigamiTensor
import Testing

/// Files written by the Python `safetensors` package (Scripts/make_model_goldens.py).
@Suite struct SafeTensorsGoldenTests {
    let dir = fixtures.appendingPathComponent("safetensors")

    /// The formulas in python_single.json, evaluated in the element type.
    func bytes(dtype: DType, count: Int, formula: String) -> [UInt8] {
        var out: [UInt8] = []
        func append<T>(_ v: T) { withUnsafeBytes(of: v) { out += $0 } }
        for i in 0..<count {
            let int = (i * 37) % 101 - 50
            let uint = (i * 37) % 101
            switch (dtype, formula) {
            case (.f32, _): append(Float(int) / 8)
            case (.f16, _): append(Float16(Float(int) / 8))
            case (.bf16, _): append(BFloat16.fromFloat(Float(int) / 8))
            case (.i8, _): append(Int8(int))
            case (.u8, _): append(UInt8(uint))
            case (.i16, _): append(Int16(int))
            case (.i32, _): append(Int32(int))
            case (.i64, _): append(Int64(int))
            case (.bool, _): append(UInt8(i % 3 == 0 ? 1 : 0))
            }
        }
        return out
    }

    @Test func writerIsByteIdenticalToPython() throws {
        let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("python_single.json"))) as! [String: Any]
        let tensors = (spec["tensors"] as! [[String: Any]]).map { t -> TensorToWrite in
            let dtype = DType(rawValue: t["dtype"] as! String)!
            let shape = t["shape"] as! [Int]
            return TensorToWrite(name: t["name"] as! String, dtype: dtype, shape: shape,
                                 bytes: bytes(dtype: dtype, count: shape.reduce(1, *), formula: t["formula"] as! String))
        }
        let out = temporaryDirectory().appendingPathComponent("swift.safetensors").path
        try SafeTensorsWriter.write(tensors, metadata: spec["metadata"] as? [String: String], to: out)
        let ours = try Data(contentsOf: URL(fileURLWithPath: out))
        let theirs = try Data(contentsOf: dir.appendingPathComponent("python_single.safetensors"))
        #expect(ours.count == theirs.count)
        #expect(ours == theirs)
    }

    @Test func readerSeesWhatPythonWrote() throws {
        let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("python_single.json"))) as! [String: Any]
        let file = try SafeTensorsFile(path: dir.appendingPathComponent("python_single.safetensors").path)
        #expect(file.metadata == spec["metadata"] as? [String: String])
        #expect(file.headerLength == spec["header_length"] as? Int)
        #expect(file.entries.map(\.name) == spec["header_order"] as! [String])
        for t in spec["tensors"] as! [[String: Any]] {
            let entry = try #require(file.entry(named: t["name"] as! String))
            #expect(entry.shape == t["shape"] as! [Int])
            let view = file.view(of: entry)
            #expect(Array(view.bytes) == bytes(dtype: entry.dtype, count: entry.elementCount, formula: t["formula"] as! String))
        }
    }

    @Test func shardedCheckpointFromSavePretrained() throws {
        let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("sharded.json"))) as! [String: Any]
        let ckpt = try SafeTensorsCheckpoint(path: dir.appendingPathComponent("sharded").path)
        #expect(ckpt.files.map { URL(fileURLWithPath: $0.path).lastPathComponent } == spec["files"] as! [String])
        let tensors = spec["tensors"] as! [[String: Any]]
        #expect(ckpt.entries.count == tensors.count)
        for t in tensors {
            let name = t["name"] as! String
            let entry = try #require(ckpt.entry(named: name))
            #expect(URL(fileURLWithPath: entry.file).lastPathComponent == t["file"] as! String)
            #expect(entry.shape == t["shape"] as! [Int])
            let values = try ckpt.tensor(named: name).toFloatArray()
            let sum = values.reduce(0.0) { $0 + Double($1) }
            let sumAbs = values.reduce(0.0) { $0 + abs(Double($1)) }
            let expected = t["sum_abs"] as! Double
            #expect(abs(sumAbs - expected) <= 1e-9 * max(1, expected), "\(name)")
            #expect(abs(sum - (t["sum"] as! Double)) <= 1e-9 * max(1, expected), "\(name)")
        }
    }
}
