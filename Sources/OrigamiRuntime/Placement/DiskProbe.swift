#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import OrigamiKernels
import OrigamiTensor

/// Sequential read bandwidth of the disk under a set of files: the roof a streamed layer is measured against, as
/// the memory-bandwidth probe is the roof of a resident one.
public enum DiskProbe {
    public struct Result: Sendable, Equatable {
        public var bytesPerSecond: Double
        public var bytesRead: Int
        /// "O_DIRECT" (the page cache bypassed), or "buffered after posix_fadvise(DONTNEED)" where the file system
        /// refuses O_DIRECT.
        public var method: String
    }

    /// Reads up to `bytes` from `paths` in order, once, `chunk` bytes per request, with two requests in flight (two
    /// threads, each reading every other chunk): the requests the layer streamer makes (8 MiB, two in flight).
    ///
    /// O_DIRECT reads come from the device whatever the page cache holds; where it is refused, the files are dropped
    /// from the page cache first and after. No byte is read twice: on a virtual machine a second pass over the same
    /// bytes can come from the host's cache and measure RAM, not the disk. Pass the files a run streams, so that
    /// the probe reads what the run reads.
    /// - Returns: nil when nothing could be read.
    public static func measure(paths: [String], bytes: Int = 4 << 30, chunk: Int = 8 << 20) -> Result? {
        // At least 2 MiB, so that AlignedBuffer aligns them for O_DIRECT (small buffers are only cache-line aligned).
        let size = max(chunk, 2 << 20)
        guard let buffers = try? (0..<4).map({ _ in try AlignedBuffer(byteCount: size, zeroed: false) }) else { return nil }
        return pass(paths: paths, bytes: bytes, chunk: chunk, buffers: buffers, direct: true)
            ?? pass(paths: paths, bytes: bytes, chunk: chunk, buffers: buffers, direct: false)
    }

    /// The bandwidth over several probes (total bytes ÷ total seconds); nil for none.
    public static func mean(_ results: [Result]) -> Result? {
        guard let first = results.first else { return nil }
        let bytes = results.reduce(0) { $0 + $1.bytesRead }
        let seconds = results.reduce(0.0) { $0 + Double($1.bytesRead) / $1.bytesPerSecond }
        return Result(bytesPerSecond: Double(bytes) / seconds, bytesRead: bytes, method: first.method)
    }

    /// One pass; a direct pass that reads nothing (O_DIRECT refused at open or at read) returns nil.
    private static func pass(paths: [String], bytes: Int, chunk: Int, buffers: [AlignedBuffer], direct wantDirect: Bool) -> Result? {
        // Every (file, offset) request of the pass, whole chunks only, so that O_DIRECT's alignment rules hold.
        var requests: [(path: String, offset: Int)] = []
        var planned = 0
        for p in paths where planned < bytes {
            var st = stat()
            guard stat(p, &st) == 0 else { continue }
            var o = 0
            while o + chunk <= Int(st.st_size) && planned < bytes {
                requests.append((p, o))
                o += chunk
                planned += chunk
            }
        }
        guard !requests.isEmpty else { return nil }
        let plan = requests
        let direct = wantDirect ? openAll(paths: Set(plan.map(\.path)), direct: true) : nil
        if wantDirect && direct == nil { return nil }
        let fds = direct ?? openAll(paths: Set(plan.map(\.path)), direct: false) ?? [:]
        defer { for fd in fds.values { close(fd) } }
        if direct == nil { for fd in fds.values { dropCache(fd) } }
        let total = Counter()
        // Two threads claiming requests one at a time, as the streamer's reader does.
        let lanes = ThreadPool(threads: 2, spinMicroseconds: 0)
        let start = DispatchTime.now().uptimeNanoseconds
        lanes.parallelFor(plan.count) { k in
            // Chunks in flight together are consecutive, so k % 4 keeps them in different buffers (and the bytes
            // are thrown away anyway).
            let buffer = buffers[k % buffers.count].raw
            guard let fd = fds[plan[k].path] else { return }
            let n = pread(fd, buffer, chunk, off_t(plan[k].offset))
            if n > 0 { total.add(n) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        if direct == nil { for fd in fds.values { dropCache(fd) } }
        guard total.value > 0, seconds > 0 else { return nil }
        return Result(bytesPerSecond: Double(total.value) / seconds, bytesRead: total.value,
                      method: direct != nil ? "O_DIRECT" : "buffered after posix_fadvise(DONTNEED)")
    }

    private static func openAll(paths: Set<String>, direct: Bool) -> [String: Int32]? {
        var fds: [String: Int32] = [:]
        for p in paths {
            let fd = open(p, O_RDONLY | (direct ? oDirect : 0))
            guard fd >= 0 else {
                for f in fds.values { close(f) }
                return nil
            }
            fds[p] = fd
        }
        return fds
    }

    private static func dropCache(_ fd: Int32) {
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
        #endif
    }

    /// O_DIRECT, which Swift's Glibc module does not export (it needs _GNU_SOURCE); 0 where unknown.
    static var oDirect: Int32 {
        #if os(Linux) && arch(x86_64)
        return 0o40000
        #elseif os(Linux) && arch(arm64)
        return 0o200000
        #else
        return 0
        #endif
    }
}

/// A byte counter the probe's two readers add to.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    func add(_ n: Int) {
        lock.lock()
        total += n
        lock.unlock()
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return total
    }
}
