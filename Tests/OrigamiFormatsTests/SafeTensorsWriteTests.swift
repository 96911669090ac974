import Foundation
import OrigamiFormats
import OrigamiTensor
import Testing

@Suite struct SafeTensorsWriteTests {
    @Test func roundTripsThroughTheReader() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("out.safetensors").path
        let tensors = [
            TensorToWrite(name: "z", shape: [2, 2], floats: [1, 2, 3, 4]),
            TensorToWrite(name: "a", dtype: .i8, shape: [3], bytes: [1, 2, 255]),
            TensorToWrite(name: "m", dtype: .i64, shape: [], bytes: [7, 0, 0, 0, 0, 0, 0, 0]),
        ]
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt"], to: path)
        let file = try SafeTensorsFile(path: path)
        // Widest dtype first, then by name, as the Python package orders them.
        #expect(file.entries.map(\.name) == ["m", "z", "a"])
        #expect(file.headerLength % 8 == 0)
        #expect(file.view(of: file.entry(named: "z")!).toFloatArray() == [1, 2, 3, 4])
        #expect(file.view(of: file.entry(named: "a")!).toFloatArray() == [1, 2, -1])
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp-\(getpid())"))
    }

    @Test func rejectsBadTensorsWithoutLeavingAFile() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("bad.safetensors").path
        #expect(throws: SafeTensorsError.invalidTensorForWrite(tensor: "x", reason: "shape [3] × F32 needs 12 bytes, got 8")) {
            try SafeTensorsWriter.write([TensorToWrite(name: "x", dtype: .f32, shape: [3], bytes: [UInt8](repeating: 0, count: 8))], to: path)
        }
        #expect(throws: SafeTensorsError.invalidTensorForWrite(tensor: "x", reason: "named twice")) {
            try SafeTensorsWriter.write([TensorToWrite(name: "x", shape: [1], floats: [1]), TensorToWrite(name: "x", shape: [1], floats: [1])], to: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func shardedOutputWithIndexReadsBack() throws {
        let dir = temporaryDirectory()
        let tensors = (0..<5).map { TensorToWrite(name: "layers.\($0).w", shape: [4], floats: [Float($0), 1, 2, 3]) }
        try SafeTensorsWriter.writeSharded(tensors, metadata: ["format": "pt"], directory: dir.path, maxShardBytes: 40)
        let ckpt = try SafeTensorsCheckpoint(path: dir.path)
        #expect(ckpt.files.count == 3)
        #expect(URL(fileURLWithPath: ckpt.files[0].path).lastPathComponent == "model-00001-of-00003.safetensors")
        for i in 0..<5 { #expect(try ckpt.tensor(named: "layers.\(i).w").toFloatArray() == [Float(i), 1, 2, 3]) }
    }
}
