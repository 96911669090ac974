public import OrigamiTensor

/// Where one tensor lives: its file and its byte range there.
public struct TensorEntry: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    /// Row-major shape, outermost first.
    public let shape: [Int]
    /// The file this tensor lives in.
    public let file: String
    /// Absolute byte offset of the first element in the file.
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
}

/// One safetensors file, memory-mapped and validated; tensors are views into the mapping.
///
/// Layout: 8-byte little-endian header length N, N bytes of JSON header, then the data section. Validation mirrors the
/// reference implementation: every tensor's `data_offsets` lie in the data section, match shape × dtype, and the
/// tensors tile the data section exactly, with no overlap and no gap.
public final class SafeTensorsFile: Sendable {
    public let path: String
    public let mapping: MappedFile
    /// Tensors in data order.
    public let entries: [TensorEntry]
    /// `__metadata__`, if present.
    public let metadata: [String: String]?
    /// Header length in bytes (excluding the 8-byte length prefix).
    public let headerLength: Int
    private let byName: [String: Int]

    public convenience init(path: String) throws(SafeTensorsError) {
        let mapping: MappedFile
        do { mapping = try MappedFile(path: path) } catch { throw .storage(error) }
        try self.init(mapping: mapping)
    }

    public init(mapping: MappedFile) throws(SafeTensorsError) {
        self.mapping = mapping
        let path = mapping.path
        self.path = path
        let bytes = mapping.bytes
        guard bytes.count >= 8 else { throw .truncated(file: path, size: bytes.count) }
        let n = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard n <= UInt64(bytes.count - 8) else {
            throw .headerLengthBeyondFile(file: path, headerLength: n, fileSize: bytes.count)
        }
        headerLength = Int(n)
        let header: JSONValue
        do { header = try JSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)])) } catch {
            throw .headerNotJSON(file: path, byteOffset: 8 + error.offset, reason: error.message)
        }
        guard let object = header.objectValue else { throw .headerNotObject(file: path) }
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart

        var metadata: [String: String]?
        var parsed: [(entry: TensorEntry, begin: Int, end: Int)] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let fields = value.objectValue else {
                    throw .invalidEntry(file: path, tensor: name, reason: "__metadata__ must be an object of strings")
                }
                var m: [String: String] = [:]
                for (k, v) in fields {
                    guard let s = v.stringValue else {
                        throw .invalidEntry(file: path, tensor: name, reason: "value of '\(k)' is \(v.kindName), not a string")
                    }
                    m[k] = s
                }
                metadata = m
                continue
            }
            parsed.append(try Self.parseEntry(name: name, value: value, path: path, dataStart: dataStart, dataLength: dataLength))
        }
        // Tensors must tile the data section: sort by start, then each must begin where the previous ended.
        parsed.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor = 0
        var previous: String?
        for p in parsed {
            if p.begin < cursor {
                throw .overlappingTensors(file: path, tensor: p.entry.name, other: previous ?? "")
            }
            if p.begin > cursor {
                throw .gapInData(file: path, tensor: p.entry.name, expectedBegin: cursor, begin: p.begin)
            }
            cursor = p.end
            previous = p.entry.name
        }
        if cursor != dataLength { throw .trailingData(file: path, covered: cursor, dataLength: dataLength) }
        entries = parsed.map(\.entry)
        self.metadata = metadata
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() { index[e.name] = i }
        byName = index
    }

    private static func parseEntry(name: String, value: JSONValue, path: String, dataStart: Int, dataLength: Int)
        throws(SafeTensorsError) -> (entry: TensorEntry, begin: Int, end: Int)
    {
        guard value.objectValue != nil else {
            throw .invalidEntry(file: path, tensor: name, reason: "entry is \(value.kindName), not an object")
        }
        guard let dtypeName = value["dtype"]?.stringValue else {
            throw .invalidEntry(file: path, tensor: name, reason: "missing or non-string 'dtype'")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw .unsupportedDType(file: path, tensor: name, dtype: dtypeName)
        }
        guard let shapeValues = value["shape"]?.arrayValue else {
            throw .invalidEntry(file: path, tensor: name, reason: "missing or non-array 'shape'")
        }
        var shape: [Int] = []
        for (i, d) in shapeValues.enumerated() {
            guard let n = d.intValue, n >= 0 else {
                throw .invalidEntry(file: path, tensor: name, reason: "shape[\(i)] is not a non-negative integer")
            }
            shape.append(n)
        }
        guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, end >= 0
        else {
            throw .invalidEntry(file: path, tensor: name, reason: "'data_offsets' must be two non-negative integers")
        }
        guard begin <= end else { throw .offsetsBackwards(file: path, tensor: name, begin: begin, end: end) }
        guard end <= dataLength else { throw .offsetsOutsideData(file: path, tensor: name, end: end, dataLength: dataLength) }
        var elements = 1
        for d in shape {
            let (m, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .invalidEntry(file: path, tensor: name, reason: "shape \(shape) overflows") }
            elements = m
        }
        let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, expected == end - begin else {
            throw .sizeMismatch(file: path, tensor: name, shape: shape, dtype: dtype,
                                expectedBytes: overflow ? Int.max : expected, actualBytes: end - begin)
        }
        let entry = TensorEntry(name: name, dtype: dtype, shape: shape, file: path, fileOffset: dataStart + begin,
                                byteCount: end - begin)
        return (entry, begin, end)
    }

    public func entry(named name: String) -> TensorEntry? { byName[name].map { entries[$0] } }

    /// A view of the tensor's bytes in the mapping (no copy).
    public func view(of entry: TensorEntry) -> TensorView {
        // An empty file has no mapping; a zero-byte tensor still needs a valid pointer.
        let base = mapping.base ?? UnsafeRawPointer(bitPattern: 64)!
        return TensorView(dtype: entry.dtype, shape: entry.shape, raw: base + entry.fileOffset, owner: mapping)
    }
}
