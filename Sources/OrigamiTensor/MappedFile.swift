#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors of the storage layer: opening and mapping files.
public enum StorageError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, errno: Int32)
    case cannotStat(path: String, errno: Int32)
    case cannotMap(path: String, bytes: Int, errno: Int32)
    case allocationFailed(bytes: Int)

    public var description: String {
        switch self {
        case .cannotOpen(let p, let e): "cannot open \(p): \(String(cString: strerror(e)))"
        case .cannotStat(let p, let e): "cannot stat \(p): \(String(cString: strerror(e)))"
        case .cannotMap(let p, let n, let e): "cannot mmap \(n) bytes of \(p): \(String(cString: strerror(e)))"
        case .allocationFailed(let n): "cannot allocate \(n) bytes"
        }
    }
}

/// A whole file mapped read-only. Tensors read from it are views into this mapping: the page cache is the only copy.
///
/// Immutable after init, so it is safe to share across threads.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    /// Start of the mapping; nil for an empty file.
    public let base: UnsafeRawPointer?

    public init(path: String) throws(StorageError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotStat(path: path, errno: errno) }
        size = Int(st.st_size)
        if size == 0 {
            base = nil
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw .cannotMap(path: path, bytes: size, errno: errno) }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// The mapped bytes as a buffer (empty for an empty file).
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// Hint that a byte range will be read soon (MADV_WILLNEED) or is no longer needed (MADV_DONTNEED drops
    /// the pages from this process; clean file pages are re-read on demand).
    public func advise(offset: Int, count: Int, willNeed: Bool) {
        guard let base, count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        let end = min(size, offset + count)
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, willNeed ? MADV_WILLNEED : MADV_DONTNEED)
    }
}
