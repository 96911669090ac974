#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
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

    /// Reads up to `bytes` from `paths` in order, `chunk` bytes per request, with two requests in flight (two
    /// threads, each reading every other chunk), as read-ahead keeps the device busy.
    ///
    /// O_DIRECT reads come from the device whatever the page cache holds; where it is refused, the files are dropped
    /// from the page cache first and after. Best of `repeats` passes (the machine is shared; the disk's bandwidth moves).
    /// - Returns: nil when nothing could be read.
    public static func measure(paths: [String], bytes: Int = 2 << 30, chunk: Int = 8 << 20, repeats: Int = 2) -> Result? {
        guard let buffers = try? [AlignedBuffer(byteCount: chunk, zeroed: false), AlignedBuffer(byteCount: chunk, zeroed: false)] else {
            return nil
        }
        var best: Result?
        for _ in 0..<max(1, repeats) {
            guard let r = pass(paths: paths, bytes: bytes, chunk: chunk, buffers: buffers) else { return best }
            if best == nil || r.bytesPerSecond > best!.bytesPerSecond { best = r }
        }
        return best
    }

    private static func pass(paths: [String], bytes: Int, chunk: Int, buffers: [AlignedBuffer]) -> Result? {
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
        let direct = openAll(paths: Set(plan.map(\.path)), direct: true)
        let fds = direct ?? openAll(paths: Set(plan.map(\.path)), direct: false) ?? [:]
        defer { for fd in fds.values { close(fd) } }
        if direct == nil { for fd in fds.values { dropCache(fd) } }
        let total = Counter()
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            let buffer = buffers[worker].raw
            var read = 0
            for (k, req) in plan.enumerated() where k % 2 == worker {
                guard let fd = fds[req.path] else { continue }
                let n = pread(fd, buffer, chunk, off_t(req.offset))
                if n > 0 { read += n }
            }
            total.add(read)
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
