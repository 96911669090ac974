/// A byte range of a memory-mapped file: what a weight reads, so that placement can read it ahead and release it.
public struct MappedRange: Sendable, Hashable {
    public let file: MappedFile
    /// Offset from the start of the file (and of the mapping).
    public let offset: Int
    public let count: Int

    public init(file: MappedFile, offset: Int, count: Int) {
        self.file = file
        self.offset = offset
        self.count = count
    }

    public static func == (a: MappedRange, b: MappedRange) -> Bool {
        a.file === b.file && a.offset == b.offset && a.count == b.count
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(file))
        hasher.combine(offset)
        hasher.combine(count)
    }
}

extension TensorView {
    /// Where this view lies in a file mapping; nil when its bytes live elsewhere (heap buffers).
    public var mappedRange: MappedRange? {
        guard let file = owner as? MappedFile, let base = file.base else { return nil }
        let offset = raw - base
        guard offset >= 0, offset + byteCount <= file.size else { return nil }
        return MappedRange(file: file, offset: offset, count: byteCount)
    }
}
