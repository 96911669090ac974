#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
public import OrigamiModels
public import OrigamiTensor

/// Streams the layers placement left on disk through a bounded window of RAM, as `ForwardHooks` of a forward pass.
///
/// The weights stay what they always are, views into the checkpoint's read-only mapping; streaming only decides
/// which of their pages are in memory:
///
/// - **Read-ahead.** When stage l starts, a background thread starts reading the next streamed unit: it asks the
///   kernel for the whole byte range at once (`posix_fadvise(WILLNEED)`, which queues the reads so the disk sees
///   large requests) and then maps the pages into the process (`madvise(MADV_POPULATE_READ)`, which waits for them),
///   so the computing thread takes no page faults. `willRun` of a streamed unit waits until its read-ahead is done.
///   `MADV_WILLNEED` alone would be only a hint; populating makes the read complete before the unit is needed.
/// - **Release.** When a streamed unit has run, its pages are unmapped from the process (`MADV_DONTNEED`: the
///   resident set drops at once; clean file pages need no write-back) and dropped from the page cache
///   (`posix_fadvise(DONTNEED)` on the file). Without the second step the kernel would keep every streamed page
///   cached: not in this process's RSS, but in the machine's memory, and the next token would read from RAM the
///   budget said it could not use. Ranges are rounded inward to whole pages, so a page shared with a resident
///   neighbour is never dropped.
///
/// So the process holds the reserve, the resident units, and at most two streamed units (the one computing and the
/// one being read), and the page cache holds no more than that of the streamed layers. With read-ahead off, the
/// computing thread faults each page in itself (the kernel's own readahead still batches the reads) and one streamed
/// unit is in memory at a time.
///
/// Read-ahead is cyclic: while the last streamed unit of a token computes, the first one of the next token is read.
/// Releasing touches only the bytes of the unit that just ran; read-ahead never touches a unit that is running,
/// so the hooks change when bytes are in memory, never which bytes a kernel reads: streamed output equals resident
/// output bit for bit.
public final class LayerStreamer: ForwardHooks, @unchecked Sendable {
    /// Counters for benchmarks.
    public struct Statistics: Sendable, Equatable {
        /// Seconds the computing thread waited for read-ahead to finish (0 when the disk keeps up).
        public var waitSeconds: Double = 0
        public var readAheadBytes: Int = 0
        public var releasedBytes: Int = 0
        public var releasedUnits: Int = 0
    }

    public let units: [ModelUnit]
    public let prefetch: Bool
    private let index: [ForwardStage: Int]
    /// Streamed units that are read whole, in forward order: the read-ahead cycle.
    private let cycle: [Int]
    private let worker: ReadAheadWorker?
    private let files: FileDescriptors
    private let lock = NSLock()
    private var stats = Statistics()

    /// - Parameters:
    ///   - units: the streamed units (placement's disk units), in forward order.
    ///   - prefetch: read the next unit ahead on a background thread.
    public init(units: [ModelUnit], prefetch: Bool = true) {
        self.units = units
        self.prefetch = prefetch
        index = Dictionary(uniqueKeysWithValues: units.enumerated().map { ($1.stage, $0) })
        cycle = units.indices.filter { !units[$0].sparse }
        let files = FileDescriptors(units.flatMap(\.ranges).map(\.file))
        self.files = files
        if prefetch && !cycle.isEmpty {
            let cycleUnits = units
            worker = ReadAheadWorker { i in Pages.readAhead(cycleUnits[i].ranges, files: files) }
        } else {
            worker = nil
        }
    }

    deinit { worker?.stop() }

    public var statistics: Statistics {
        lock.lock()
        defer { lock.unlock() }
        return stats
    }

    public func willRun(_ stage: ForwardStage) {
        guard let worker, let i = index[stage], let position = cycle.firstIndex(of: i) else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        worker.wait(for: i)
        let waited = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        let next = cycle[(position + 1) % cycle.count]
        if next != i { worker.request(next) }
        lock.lock()
        stats.waitSeconds += waited
        stats.readAheadBytes += units[i].mappedBytes
        lock.unlock()
    }

    public func didRun(_ stage: ForwardStage) {
        guard let i = index[stage] else { return }
        Pages.release(units[i].ranges, files: files)
        lock.lock()
        stats.releasedBytes += units[i].mappedBytes
        stats.releasedUnits += 1
        lock.unlock()
    }
}

/// A background thread that reads units ahead one at a time, in the order they are requested.
final class ReadAheadWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [Int] = []
    private var running: Int?
    private var done: Set<Int> = []
    private var stopping = false

    init(work: @escaping @Sendable (Int) -> Void) {
        let thread = Thread { [self] in loop(work) }
        thread.name = "origami-read-ahead"
        thread.start()
    }

    private func loop(_ work: (Int) -> Void) {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if stopping {
                condition.unlock()
                return
            }
            let i = queue.removeFirst()
            running = i
            condition.unlock()
            work(i)
            condition.lock()
            running = nil
            done.insert(i)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Queues unit `i` unless it is queued, being read, or read and not yet used.
    func request(_ i: Int) {
        condition.lock()
        enqueue(i)
        condition.unlock()
    }

    private func enqueue(_ i: Int) {
        guard !done.contains(i), running != i, !queue.contains(i) else { return }
        queue.append(i)
        condition.broadcast()
    }

    /// Blocks until unit `i` has been read (requesting it first if nobody did), and marks it used.
    func wait(for i: Int) {
        condition.lock()
        enqueue(i)
        while !done.contains(i) { condition.wait() }
        done.remove(i)
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Read-only descriptors of the checkpoint files, for `posix_fadvise` (a mapping keeps no descriptor).
final class FileDescriptors: @unchecked Sendable {
    private var fds: [ObjectIdentifier: Int32] = [:]

    init(_ files: [MappedFile]) {
        for f in files where fds[ObjectIdentifier(f)] == nil {
            fds[ObjectIdentifier(f)] = open(f.path, O_RDONLY)
        }
    }

    deinit {
        for fd in fds.values where fd >= 0 { close(fd) }
    }

    /// Written only in init, so reading from any thread is safe.
    func fd(_ file: MappedFile) -> Int32 { fds[ObjectIdentifier(file)] ?? -1 }
}

/// Page-level operations on mapped byte ranges.
public enum Pages {
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// Linux 5.14's MADV_POPULATE_READ: fault the range in (reading it if needed) and map it, in one call.
    static let madvPopulateRead: Int32 = 22

    /// Reads `ranges` into memory and maps them, returning when the bytes are resident.
    static func readAhead(_ ranges: [MappedRange], files: FileDescriptors) {
        #if os(Linux)
        for r in ranges {
            let fd = files.fd(r.file)
            if fd >= 0 { _ = posix_fadvise(fd, off_t(r.offset), off_t(r.count), POSIX_FADV_WILLNEED) }
        }
        #endif
        for r in ranges { populate(r) }
    }

    /// Maps every page of `r` into the process, reading it from disk if it is not cached.
    public static func populate(_ r: MappedRange) {
        guard let base = r.file.base, r.count > 0 else { return }
        let start = r.offset / pageSize * pageSize
        let end = min(r.file.size, r.offset + r.count)
        let p = UnsafeMutableRawPointer(mutating: base + start)
        #if os(Linux)
        if madvise(p, end - start, madvPopulateRead) == 0 { return }
        #endif
        // Older kernels: touch one byte per page.
        var sink: UInt8 = 0
        var o = start
        while o < end {
            sink &+= base.load(fromByteOffset: o, as: UInt8.self)
            o += pageSize
        }
        withExtendedLifetime(sink) {}
    }

    /// Unmaps the whole pages of `ranges` from the process and drops them from the page cache.
    static func release(_ ranges: [MappedRange], files: FileDescriptors) {
        for r in ranges {
            guard let base = r.file.base else { continue }
            let start = (r.offset + pageSize - 1) / pageSize * pageSize
            let end = (r.offset + r.count) / pageSize * pageSize
            if end > start { madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED) }
            #if os(Linux)
            let fd = files.fd(r.file)
            if fd >= 0 { _ = posix_fadvise(fd, off_t(r.offset), off_t(r.count), POSIX_FADV_DONTNEED) }
            #endif
        }
    }

    /// Drops a whole file from the process and from the page cache, so that the next read comes from disk (what
    /// `echo 3 > /proc/sys/vm/drop_caches` does for every file, without root).
    public static func dropCache(_ file: MappedFile) {
        if let base = file.base, file.size > 0 {
            madvise(UnsafeMutableRawPointer(mutating: base), file.size, MADV_DONTNEED)
        }
        #if os(Linux)
        let fd = open(file.path, O_RDONLY)
        guard fd >= 0 else { return }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
        close(fd)
        #endif
    }
}
