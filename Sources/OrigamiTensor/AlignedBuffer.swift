#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A heap buffer aligned to 64 bytes (one cache line, one AVX-512 vector) and, when large, backed by huge pages.
///
/// `[Float]` is neither aligned nor huge-page backed and streams at ~60% of the bandwidth of this (PERFORMANCE.md).
public final class AlignedBuffer: @unchecked Sendable {
    public let byteCount: Int
    public let raw: UnsafeMutableRawPointer

    public init(byteCount: Int, zeroed: Bool = true) throws(StorageError) {
        self.byteCount = byteCount
        let align = byteCount >= (2 << 20) ? (2 << 20) : 64
        var p: UnsafeMutableRawPointer?
        let rounded = max(align, (byteCount + align - 1) / align * align)
        guard posix_memalign(&p, align, rounded) == 0, let p else { throw .allocationFailed(bytes: byteCount) }
        #if canImport(Glibc)
        if rounded >= (2 << 20) { madvise(p, rounded, 14 /* MADV_HUGEPAGE */) }
        #endif
        if zeroed { memset(p, 0, rounded) }
        raw = p
    }

    deinit { free(raw) }

    public func pointer<T>(as: T.Type) -> UnsafeMutablePointer<T> { raw.assumingMemoryBound(to: T.self) }
}
