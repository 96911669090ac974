public import OrigamiTensor

/// Everything that can be wrong with a safetensors file or a sharded checkpoint; each case names the file, and the
/// tensor or byte offset where that applies.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case storage(StorageError)
    case truncated(file: String, size: Int)
    case headerLengthBeyondFile(file: String, headerLength: UInt64, fileSize: Int)
    case headerNotJSON(file: String, byteOffset: Int, reason: String)
    case headerNotObject(file: String)
    case invalidEntry(file: String, tensor: String, reason: String)
    case unsupportedDType(file: String, tensor: String, dtype: String)
    case offsetsBackwards(file: String, tensor: String, begin: Int, end: Int)
    case offsetsOutsideData(file: String, tensor: String, end: Int, dataLength: Int)
    case overlappingTensors(file: String, tensor: String, other: String)
    case gapInData(file: String, tensor: String, expectedBegin: Int, begin: Int)
    case trailingData(file: String, covered: Int, dataLength: Int)
    case sizeMismatch(file: String, tensor: String, shape: [Int], dtype: DType, expectedBytes: Int, actualBytes: Int)
    case duplicateTensor(tensor: String, file: String, otherFile: String)
    case invalidIndex(file: String, jsonPath: String, reason: String)
    case missingShard(index: String, shard: String, tensor: String)
    case tensorMissingFromShard(index: String, tensor: String, shard: String)
    case noCheckpoint(directory: String)
    case tensorNotFound(name: String, checkpoint: String)
    case writeFailed(file: String, reason: String)
    case invalidTensorForWrite(tensor: String, reason: String)

    public var description: String {
        switch self {
        case .storage(let e): e.description
        case .truncated(let f, let n): "\(f): truncated: \(n) bytes, a safetensors file needs at least 8 (header length)"
        case .headerLengthBeyondFile(let f, let h, let n):
            "\(f): header length \(h) at byte 0 runs past the end of the file (\(n) bytes)"
        case .headerNotJSON(let f, let o, let r): "\(f): header is not valid JSON: \(r) (file byte \(o))"
        case .headerNotObject(let f): "\(f): header (byte 8) is not a JSON object"
        case .invalidEntry(let f, let t, let r): "\(f): tensor '\(t)': \(r)"
        case .unsupportedDType(let f, let t, let d):
            "\(f): tensor '\(t)': unsupported dtype \(d) (supported: \(DType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .offsetsBackwards(let f, let t, let b, let e): "\(f): tensor '\(t)': data_offsets [\(b), \(e)] run backwards"
        case .offsetsOutsideData(let f, let t, let e, let n):
            "\(f): tensor '\(t)': data_offsets end \(e) is beyond the data section (\(n) bytes)"
        case .overlappingTensors(let f, let t, let o): "\(f): tensor '\(t)' overlaps tensor '\(o)'"
        case .gapInData(let f, let t, let x, let b):
            "\(f): tensor '\(t)' starts at data byte \(b), leaving a gap after byte \(x)"
        case .trailingData(let f, let c, let n): "\(f): tensors cover \(c) of the \(n) data bytes; the rest is unaccounted for"
        case .sizeMismatch(let f, let t, let s, let d, let x, let a):
            "\(f): tensor '\(t)': shape \(s) × \(d.rawValue) needs \(x) bytes but data_offsets span \(a)"
        case .duplicateTensor(let t, let f, let o): "tensor '\(t)' appears twice: in \(f) and in \(o)"
        case .invalidIndex(let f, let p, let r): "\(f): \(p): \(r)"
        case .missingShard(let i, let s, let t): "\(i): shard '\(s)' (for tensor '\(t)') does not exist"
        case .tensorMissingFromShard(let i, let t, let s): "\(i): tensor '\(t)' is mapped to '\(s)' but that shard lacks it"
        case .noCheckpoint(let d): "\(d): no model.safetensors, model.safetensors.index.json or *.safetensors file"
        case .tensorNotFound(let n, let c): "\(c): no tensor named '\(n)'"
        case .writeFailed(let f, let r): "cannot write \(f): \(r)"
        case .invalidTensorForWrite(let t, let r): "cannot write tensor '\(t)': \(r)"
        }
    }
}
