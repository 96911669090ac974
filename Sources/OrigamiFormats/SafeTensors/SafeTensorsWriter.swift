import Foundation
public import OrigamiTensor

/// A tensor to be written: a dtype, a shape and exactly `shape × dtype` bytes.
public struct TensorToWrite: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let data: TensorData

    /// Where the bytes come from: an existing view (e.g. a mapped tensor) or an owned byte array.
    public enum TensorData: Sendable {
        case view(TensorView)
        case bytes([UInt8])
    }

    public init(name: String, view: TensorView) {
        self.name = name
        dtype = view.dtype
        shape = view.shape
        data = .view(view)
    }

    public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        data = .bytes(bytes)
    }

    public init(name: String, shape: [Int], floats: [Float]) {
        self.init(name: name, dtype: .f32, shape: shape, bytes: floats.withUnsafeBytes { Array($0) })
    }

    var byteCount: Int {
        switch data {
        case .view(let v): v.byteCount
        case .bytes(let b): b.count
        }
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch data {
        case .view(let v): body(v.bytes)
        case .bytes(let b): b.withUnsafeBytes(body)
        }
    }
}

/// A tensor's name, dtype and shape: a header entry whose data comes later.
public struct TensorHeader: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]

    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    public var byteCount: Int { shape.reduce(1, *) * dtype.byteSize }
}

/// Writes safetensors files byte-compatible with the Python `safetensors` package, atomically.
///
/// The reference writer orders tensors by dtype (widest-aligned first: I64, F32, I32, BF16, F16, I16, I8, U8, BOOL),
/// then by name, lays the data out in that order, writes the header as compact JSON with `__metadata__` first, and
/// pads the header with spaces to a multiple of 8 bytes. It emits metadata keys in hash order; we sort them, which is
/// what it produces whenever there is one key.
public enum SafeTensorsWriter {
    /// The reference writer's dtype rank (larger is written first).
    static func rank(_ d: DType) -> Int {
        switch d {
        case .bool: 0
        case .u8: 1
        case .i8: 2
        case .i16: 3
        case .f16: 4
        case .bf16: 5
        case .i32: 6
        case .f32: 7
        case .i64: 8
        }
    }

    /// The header (8-byte length + padded JSON) and the order the tensors' data must follow it in.
    public static func header(for tensors: [TensorToWrite], metadata: [String: String]?) throws(SafeTensorsError)
        -> (bytes: [UInt8], order: [Int])
    {
        var seen = Set<String>()
        for t in tensors {
            guard t.name != "__metadata__" else { throw .invalidTensorForWrite(tensor: t.name, reason: "reserved name") }
            guard seen.insert(t.name).inserted else { throw .invalidTensorForWrite(tensor: t.name, reason: "named twice") }
            let expected = t.shape.reduce(1, *) * t.dtype.byteSize
            guard t.shape.allSatisfy({ $0 >= 0 }), expected == t.byteCount else {
                throw .invalidTensorForWrite(tensor: t.name,
                    reason: "shape \(t.shape) × \(t.dtype.rawValue) needs \(expected) bytes, got \(t.byteCount)")
            }
        }
        return try header(for: tensors.map { TensorHeader(name: $0.name, dtype: $0.dtype, shape: $0.shape) }, metadata: metadata)
    }

    /// The header for tensors whose data is produced later (`write(headers:metadata:to:produce:)`).
    public static func header(for tensors: [TensorHeader], metadata: [String: String]?) throws(SafeTensorsError)
        -> (bytes: [UInt8], order: [Int])
    {
        var seen = Set<String>()
        for t in tensors {
            guard t.name != "__metadata__" else { throw .invalidTensorForWrite(tensor: t.name, reason: "reserved name") }
            guard seen.insert(t.name).inserted else { throw .invalidTensorForWrite(tensor: t.name, reason: "named twice") }
            guard t.shape.allSatisfy({ $0 >= 0 }) else {
                throw .invalidTensorForWrite(tensor: t.name, reason: "negative dimension in shape \(t.shape)")
            }
        }
        let order = tensors.indices.sorted {
            let (a, b) = (tensors[$0], tensors[$1])
            return rank(a.dtype) != rank(b.dtype) ? rank(a.dtype) > rank(b.dtype) : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var json = "{"
        var first = true
        if let metadata {
            json += "\"__metadata__\":{"
            json += metadata.keys.sorted().map { "\(JSONWriter.quote($0)):\(JSONWriter.quote(metadata[$0]!))" }
                .joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for i in order {
            let t = tensors[i]
            if !first { json += "," }
            first = false
            let shape = t.shape.map(String.init).joined(separator: ",")
            json += "\(JSONWriter.quote(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(offset + t.byteCount)]}"
            offset += t.byteCount
        }
        json += "}"
        var body = Array(json.utf8)
        body += [UInt8](repeating: 0x20, count: (8 - body.count % 8) % 8)
        var length = UInt64(body.count).littleEndian
        let prefix = withUnsafeBytes(of: &length) { Array($0) }
        return (prefix + body, order)
    }

    /// Writes one file atomically whose tensor data is produced on demand, one tensor at a time in file order, so
    /// that a writer (e.g. a quantizer) never holds all of it. `produce(i, emit)` must pass exactly
    /// `tensors[i].byteCount` bytes to `emit`, in one or more calls.
    public static func write(headers tensors: [TensorHeader], metadata: [String: String]? = nil, to path: String,
                             produce: (Int, (UnsafeRawBufferPointer) throws(SafeTensorsError) -> Void) throws(SafeTensorsError) -> Void)
        throws(SafeTensorsError)
    {
        let (header, order) = try header(for: tensors, metadata: metadata)
        try AtomicFile.write(to: path) { handle throws(SafeTensorsError) in
            try handle.write(header)
            for i in order {
                var written = 0
                try produce(i) { bytes throws(SafeTensorsError) in
                    written += bytes.count
                    guard written <= tensors[i].byteCount else {
                        throw .invalidTensorForWrite(tensor: tensors[i].name, reason: "produced more than its \(tensors[i].byteCount) bytes")
                    }
                    try handle.write(bytes)
                }
                guard written == tensors[i].byteCount else {
                    throw .invalidTensorForWrite(tensor: tensors[i].name,
                                                 reason: "produced \(written) of its \(tensors[i].byteCount) bytes")
                }
            }
        }
    }

    /// Writes one file atomically: to a temporary file beside `path`, then renamed over it.
    public static func write(_ tensors: [TensorToWrite], metadata: [String: String]? = nil, to path: String)
        throws(SafeTensorsError)
    {
        let (header, order) = try header(for: tensors, metadata: metadata)
        try AtomicFile.write(to: path) { handle throws(SafeTensorsError) in
            try handle.write(header)
            for i in order {
                var failure: SafeTensorsError?
                tensors[i].withBytes { b in
                    do throws(SafeTensorsError) { try handle.write(b) } catch { failure = error }
                }
                if let failure { throw failure }
            }
        }
    }

    /// Writes shards of at most `maxShardBytes` of tensor data each, named as transformers names them
    /// (`model-00001-of-00003.safetensors`), and `model.safetensors.index.json`; a single shard is written as
    /// `model.safetensors` with no index. Every file is written atomically; the index is written last.
    public static func writeSharded(_ tensors: [TensorToWrite], metadata: [String: String]? = nil, directory: String,
                                    maxShardBytes: Int) throws(SafeTensorsError)
    {
        var shards: [[TensorToWrite]] = [[]]
        var size = 0
        for t in tensors {
            if size + t.byteCount > maxShardBytes, !shards[shards.count - 1].isEmpty {
                shards.append([])
                size = 0
            }
            shards[shards.count - 1].append(t)
            size += t.byteCount
        }
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .writeFailed(file: directory, reason: "\(error)")
        }
        let dir = URL(fileURLWithPath: directory)
        if shards.count == 1 {
            try write(shards[0], metadata: metadata, to: dir.appendingPathComponent("model.safetensors").path)
            return
        }
        var weightMap: [(String, String)] = []
        let total = tensors.reduce(0) { $0 + $1.byteCount }
        for (i, shard) in shards.enumerated() {
            let name = String(format: "model-%05d-of-%05d.safetensors", i + 1, shards.count)
            try write(shard, metadata: metadata, to: dir.appendingPathComponent(name).path)
            weightMap += shard.map { ($0.name, name) }
        }
        weightMap.sort { $0.0 < $1.0 }
        var json = "{\n  \"metadata\": {\n    \"total_size\": \(total)\n  },\n  \"weight_map\": {\n"
        json += weightMap.map { "    \(JSONWriter.quote($0.0)): \(JSONWriter.quote($0.1))" }.joined(separator: ",\n")
        json += "\n  }\n}\n"
        let bytes = Array(json.utf8)
        try AtomicFile.write(to: dir.appendingPathComponent("model.safetensors.index.json").path) {
            handle throws(SafeTensorsError) in try handle.write(bytes)
        }
    }
}
