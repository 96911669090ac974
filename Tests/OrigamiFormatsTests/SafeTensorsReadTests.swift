import Foundation
import OrigamiFormats
import OrigamiTensor
import Testing

@Suite struct SafeTensorsReadTests {
    @Test func readsTensorsAsViewsIntoTheMapping() throws {
        let dir = temporaryDirectory()
        let floats: [Float] = [1, 2, 3, 4, 5, 6]
        let data = floats.withUnsafeBytes { Array($0) } + [0x7F, 0x80]
        let header = #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"I8","shape":[2],"data_offsets":[24,26]}}"#
        let path = write(rawSafetensors(header: header, data: data), in: dir)
        let file = try SafeTensorsFile(path: path)
        #expect(file.metadata == ["format": "pt"])
        #expect(file.entries.map(\.name) == ["w", "b"])
        let w = file.view(of: file.entry(named: "w")!)
        #expect(w.shape == [2, 3])
        #expect(w.toFloatArray() == floats)
        // A view points into the mapping itself: no copy was made.
        let base = file.mapping.base!
        #expect(w.raw == base + 8 + header.utf8.count)
        #expect(file.view(of: file.entry(named: "b")!).toFloatArray() == [127, -128])
    }

    @Test func rejectsUnsupportedDType() throws {
        let dir = temporaryDirectory()
        let path = write(rawSafetensors(header: #"{"x":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: [0]), in: dir)
        #expect(throws: SafeTensorsError.unsupportedDType(file: path, tensor: "x", dtype: "F8_E4M3")) {
            try SafeTensorsFile(path: path)
        }
    }

    @Test func truncatedFile() throws {
        let path = write([1, 2, 3], in: temporaryDirectory())
        #expect(throws: SafeTensorsError.truncated(file: path, size: 3)) { try SafeTensorsFile(path: path) }
    }

    @Test func headerLengthBeyondFile() throws {
        let path = write(rawSafetensors(header: "{}", data: [], declaredLength: 1000), in: temporaryDirectory())
        #expect(throws: SafeTensorsError.headerLengthBeyondFile(file: path, headerLength: 1000, fileSize: 10)) {
            try SafeTensorsFile(path: path)
        }
    }

    @Test func headerNotJSONNamesTheByte() throws {
        let path = write(rawSafetensors(header: #"{"x": nope}"#, data: []), in: temporaryDirectory())
        #expect(throws: SafeTensorsError.headerNotJSON(file: path, byteOffset: 8 + 6, reason: "invalid literal, expected 'null'")) {
            try SafeTensorsFile(path: path)
        }
    }

    @Test func headerNotAnObject() throws {
        let path = write(rawSafetensors(header: "[1,2]", data: []), in: temporaryDirectory())
        #expect(throws: SafeTensorsError.headerNotObject(file: path)) { try SafeTensorsFile(path: path) }
    }

    @Test func overlappingOffsets() throws {
        let header = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#
        let path = write(rawSafetensors(header: header, data: [UInt8](repeating: 0, count: 6)), in: temporaryDirectory())
        #expect(throws: SafeTensorsError.overlappingTensors(file: path, tensor: "b", other: "a")) { try SafeTensorsFile(path: path) }
    }

    @Test func offsetsRunningBackwards() throws {
        let header = #"{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,2]}}"#
        let path = write(rawSafetensors(header: header, data: [UInt8](repeating: 0, count: 4)), in: temporaryDirectory())
        #expect(throws: SafeTensorsError.offsetsBackwards(file: path, tensor: "a", begin: 4, end: 2)) { try SafeTensorsFile(path: path) }
    }

    @Test func offsetsLeavingTheDataSection() throws {
        let header = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        let path = write(rawSafetensors(header: header, data: [UInt8](repeating: 0, count: 8)), in: temporaryDirectory())
        #expect(throws: SafeTensorsError.offsetsOutsideData(file: path, tensor: "a", end: 16, dataLength: 8)) {
            try SafeTensorsFile(path: path)
        }
    }

    @Test func shapeTimesDTypeMustMatchTheByteLength() throws {
        let header = #"{"a":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}"#
        let path = write(rawSafetensors(header: header, data: [UInt8](repeating: 0, count: 8)), in: temporaryDirectory())
        #expect(throws: SafeTensorsError.sizeMismatch(file: path, tensor: "a", shape: [3], dtype: .f16, expectedBytes: 6, actualBytes: 8)) {
            try SafeTensorsFile(path: path)
        }
    }

    @Test func gapsAndTrailingBytesAreRejected() throws {
        let dir = temporaryDirectory()
        let gap = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}}"#
        let p1 = write(rawSafetensors(header: gap, data: [UInt8](repeating: 0, count: 5)), name: "gap.safetensors", in: dir)
        #expect(throws: SafeTensorsError.gapInData(file: p1, tensor: "b", expectedBegin: 2, begin: 3)) { try SafeTensorsFile(path: p1) }
        let trailing = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#
        let p2 = write(rawSafetensors(header: trailing, data: [UInt8](repeating: 0, count: 5)), name: "tail.safetensors", in: dir)
        #expect(throws: SafeTensorsError.trailingData(file: p2, covered: 2, dataLength: 5)) { try SafeTensorsFile(path: p2) }
    }

    @Test func tensorNamedTwiceInOneHeader() throws {
        let header = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        let path = write(rawSafetensors(header: header, data: [0, 0]), in: temporaryDirectory())
        #expect(throws: SafeTensorsError.headerNotJSON(file: path, byteOffset: 8 + 53, reason: "duplicate key \"a\"")) {
            try SafeTensorsFile(path: path)
        }
    }

    @Test func malformedEntries() throws {
        let dir = temporaryDirectory()
        let cases: [(String, String)] = [
            (#"{"a":{"shape":[1],"data_offsets":[0,1]}}"#, "missing or non-string 'dtype'"),
            (#"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}"#, "shape[0] is not a non-negative integer"),
            (#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}"#, "'data_offsets' must be two non-negative integers"),
            (#"{"a":5}"#, "entry is a number, not an object"),
            (#"{"__metadata__":{"k":1}}"#, "value of 'k' is a number, not a string"),
        ]
        for (i, (header, reason)) in cases.enumerated() {
            let path = write(rawSafetensors(header: header, data: [0]), name: "m\(i).safetensors", in: dir)
            let tensor = header.contains("__metadata__") ? "__metadata__" : "a"
            #expect(throws: SafeTensorsError.invalidEntry(file: path, tensor: tensor, reason: reason)) { try SafeTensorsFile(path: path) }
        }
    }

    @Test func errorMessagesNameFileAndTensor() {
        let e = SafeTensorsError.sizeMismatch(file: "/m/x.safetensors", tensor: "lm_head.weight", shape: [3], dtype: .f16,
                                              expectedBytes: 6, actualBytes: 8)
        #expect(e.description.contains("/m/x.safetensors") && e.description.contains("lm_head.weight"))
    }
}

@Suite struct ShardedCheckpointTests {
    func makeShards(in dir: URL) {
        _ = write(rawSafetensors(header: #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#, data: [1, 2]),
                  name: "model-00001-of-00002.safetensors", in: dir)
        _ = write(rawSafetensors(header: #"{"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, data: [3]),
                  name: "model-00002-of-00002.safetensors", in: dir)
    }

    func writeIndex(_ json: String, in dir: URL) -> String {
        write(Array(json.utf8), name: "model.safetensors.index.json", in: dir)
    }

    @Test func opensAllShardsThroughTheIndex() throws {
        let dir = temporaryDirectory()
        makeShards(in: dir)
        _ = writeIndex(#"{"metadata":{"total_size":3},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}"#, in: dir)
        let ckpt = try SafeTensorsCheckpoint(path: dir.path)
        #expect(ckpt.files.count == 2)
        #expect(try ckpt.tensor(named: "b").toFloatArray() == [3])
        #expect(try ckpt.tensor(named: "a").toFloatArray() == [1, 2])
        #expect(throws: SafeTensorsError.tensorNotFound(name: "c", checkpoint: dir.appendingPathComponent("model.safetensors.index.json").path)) {
            try ckpt.tensor(named: "c")
        }
    }

    @Test func missingShard() throws {
        let dir = temporaryDirectory()
        makeShards(in: dir)
        let index = writeIndex(#"{"weight_map":{"a":"model-00001-of-00002.safetensors","c":"model-00003-of-00003.safetensors"}}"#, in: dir)
        #expect(throws: SafeTensorsError.missingShard(index: index, shard: "model-00003-of-00003.safetensors", tensor: "c")) {
            try SafeTensorsCheckpoint(path: dir.path)
        }
    }

    @Test func indexNamesATensorTheShardLacks() throws {
        let dir = temporaryDirectory()
        makeShards(in: dir)
        let index = writeIndex(#"{"weight_map":{"a":"model-00002-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}"#, in: dir)
        #expect(throws: SafeTensorsError.tensorMissingFromShard(index: index, tensor: "a", shard: "model-00002-of-00002.safetensors")) {
            try SafeTensorsCheckpoint(path: dir.path)
        }
    }

    @Test func tensorInTwoShards() throws {
        let dir = temporaryDirectory()
        let p1 = write(rawSafetensors(header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, data: [1]), name: "one.safetensors", in: dir)
        let p2 = write(rawSafetensors(header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, data: [2]), name: "two.safetensors", in: dir)
        #expect(throws: SafeTensorsError.duplicateTensor(tensor: "a", file: p2, otherFile: p1)) {
            try SafeTensorsCheckpoint(path: dir.path)
        }
    }

    @Test func malformedIndex() throws {
        let dir = temporaryDirectory()
        makeShards(in: dir)
        let index = writeIndex(#"{"weight_map":{"a":3}}"#, in: dir)
        #expect(throws: SafeTensorsError.invalidIndex(file: index, jsonPath: "$.weight_map[\"a\"]", reason: "expected a file name, found a number")) {
            try SafeTensorsCheckpoint(path: dir.path)
        }
        _ = writeIndex(#"{"metadata":{}}"#, in: dir)
        #expect(throws: SafeTensorsError.invalidIndex(file: index, jsonPath: "$.weight_map", reason: "missing, or not an object")) {
            try SafeTensorsCheckpoint(path: dir.path)
        }
    }

    @Test func emptyDirectory() throws {
        let dir = temporaryDirectory()
        #expect(throws: SafeTensorsError.noCheckpoint(directory: dir.path)) { try SafeTensorsCheckpoint(path: dir.path) }
    }
}
