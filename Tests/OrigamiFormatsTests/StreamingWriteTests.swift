import Foundation
import OrigamiFormats
import OrigamiTensor
import Testing

/// `SafeTensorsWriter.write(headers:produce:)`: data made on demand, in file order.
@Suite struct StreamingWriteTests {
    let tensors = [
        TensorToWrite(name: "z", shape: [2, 2], floats: [1, 2, 3, 4]),
        TensorToWrite(name: "a", dtype: .i8, shape: [3], bytes: [1, 2, 255]),
        TensorToWrite(name: "m", dtype: .i64, shape: [], bytes: [7, 0, 0, 0, 0, 0, 0, 0]),
    ]

    /// A copy the caller deallocates (typed-throwing closures cannot go through `withUnsafeBytes`, which rethrows
    /// untyped).
    func buffer(_ b: [UInt8]) -> UnsafeMutableRawBufferPointer {
        let p = UnsafeMutableRawBufferPointer.allocate(byteCount: b.count, alignment: 1)
        p.copyBytes(from: b)
        return p
    }

    func bytes(_ t: TensorToWrite) -> [UInt8] {
        guard case .bytes(let b) = t.data else { return [] }
        return b
    }

    @Test func producesTheSameFileAsTheBufferedWriter() throws {
        let dir = temporaryDirectory()
        let buffered = dir.appendingPathComponent("a.safetensors").path
        let streamed = dir.appendingPathComponent("b.safetensors").path
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt"], to: buffered)
        var asked: [String] = []
        try SafeTensorsWriter.write(headers: tensors.map { TensorHeader(name: $0.name, dtype: $0.dtype, shape: $0.shape) },
                                    metadata: ["format": "pt"], to: streamed) { i, emit throws(SafeTensorsError) in
            asked.append(tensors[i].name)
            // In two pieces, to show a tensor may be emitted in parts.
            let raw = buffer(bytes(tensors[i]))
            defer { raw.deallocate() }
            try emit(UnsafeRawBufferPointer(rebasing: raw[0..<1]))
            try emit(UnsafeRawBufferPointer(rebasing: raw[1...]))
        }
        #expect(asked == ["m", "z", "a"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: buffered)) == Data(contentsOf: URL(fileURLWithPath: streamed)))
    }

    @Test func aShortOrLongTensorIsAnErrorAndLeavesNoFile() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("bad.safetensors").path
        let headers = [TensorHeader(name: "x", dtype: .f32, shape: [3])]
        #expect(throws: SafeTensorsError.invalidTensorForWrite(tensor: "x", reason: "produced 8 of its 12 bytes")) {
            try SafeTensorsWriter.write(headers: headers, to: path) { _, emit throws(SafeTensorsError) in
                let raw = buffer([UInt8](repeating: 0, count: 8))
                defer { raw.deallocate() }
                try emit(UnsafeRawBufferPointer(raw))
            }
        }
        #expect(throws: SafeTensorsError.invalidTensorForWrite(tensor: "x", reason: "produced more than its 12 bytes")) {
            try SafeTensorsWriter.write(headers: headers, to: path) { _, emit throws(SafeTensorsError) in
                let raw = buffer([UInt8](repeating: 0, count: 16))
                defer { raw.deallocate() }
                try emit(UnsafeRawBufferPointer(raw))
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
