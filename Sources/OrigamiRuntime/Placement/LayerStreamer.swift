#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import OrigamiKernels
public import OrigamiModels
public import OrigamiNN
public import OrigamiTensor

/// Streams the layers placement left on disk through a bounded window of RAM, as `ForwardHooks` of a forward pass.
///
/// - **Direct mode** (the default). Two reusable slots (aligned, huge-page backed buffers, each the size of the
///   largest streamed layer) hold the streamed layers in turn. Reading a layer ahead is `pread` with O_DIRECT from
///   the checkpoint into a free slot, 8 MiB requests, two in flight; the layer then runs with its weights relocated
///   into that slot (`LinearWeight.relocated`: the same bytes at another address, built once per layer and slot at
///   start), and releasing it only marks the slot free. O_DIRECT bypasses the page cache, so streamed layers never
///   enter it; the slots are allocated once, so no page is zeroed, faulted or unmapped per token (reading into
///   fresh pages was measured 30–50% slower than into reused ones). Where O_DIRECT is refused, the same reads are
///   buffered and followed by `posix_fadvise(DONTNEED)` on the range.
/// - **Page-cache mode** (`--streaming page-cache`, and for weights that cannot be relocated). The weights stay
///   views into the mapping. Reading ahead asks the kernel for the whole range (`posix_fadvise(WILLNEED)` in
///   pieces, since one call is capped at the readahead size) and maps it (`madvise(MADV_POPULATE_READ)`, which
///   waits for the reads): `MADV_WILLNEED` alone would be only a hint. Releasing unmaps the pages (`MADV_DONTNEED`:
///   the resident set drops at once) and drops them from the page cache (`posix_fadvise(DONTNEED)`): without that
///   second step the kernel would keep every streamed page cached, outside this process's RSS but inside the
///   machine's memory, and later tokens would read from RAM that the budget said was not there. Ranges are
///   rounded inward to whole pages, so a page shared with a resident neighbour is never dropped.
///
/// Read-ahead runs on a background thread and keeps at most two streamed layers in memory: while a streamed layer
/// computes, the next one is read; when it is done, its slot takes the one after (queued at once, so the disk reads
/// back to back when it is the bottleneck); while resident layers compute, the next two are read. The order is cyclic (the last
/// streamed layer of a token reads the first ones of the next). Sparse units (the token table) are never read
/// ahead; they are released after use. With read-ahead off, a layer is read when its stage starts (direct) or
/// faulted in by the computing thread (page cache), and one streamed layer is in memory at a time.
///
/// A slot is never written while its layer runs, and it holds the file's bytes, so streamed output equals resident
/// output bit for bit.
public final class LayerStreamer: ForwardHooks, @unchecked Sendable {
    public enum Mode: String, Sendable {
        case direct
        case pageCache = "page-cache"
    }

    /// Counters for benchmarks.
    public struct Statistics: Sendable, Equatable {
        /// Seconds the computing thread waited for reads (read-ahead not finished, or reading without read-ahead).
        public var waitSeconds: Double = 0
        /// Seconds spent reading (on the read-ahead thread, or the computing thread without read-ahead).
        public var readSeconds: Double = 0
        public var readBytes: Int = 0
        public var releasedUnits: Int = 0
        /// Seconds the computing thread spent releasing pages.
        public var releaseSeconds: Double = 0
        /// Units streamed through slots, and through the page cache.
        public var slotUnits: Int = 0
        public var pageCacheUnits: Int = 0
        /// Reads that fell back from O_DIRECT to buffered ones.
        public var bufferedReads: Int = 0
    }

    public let units: [ModelUnit]
    public let prefetch: Bool
    public let mode: Mode
    /// Bytes of each slot (0 when no unit streams through slots).
    public let slotBytes: Int
    private let plans: [UnitPlan]
    private let index: [ForwardStage: Int]
    /// Streamed units that are read whole, in forward order: the read-ahead cycle.
    private let cycle: [Int]
    /// For every stage of the model, the cycle position of the first streamed unit after it (cyclically).
    private let nextInCycle: [ForwardStage: Int]
    private let reader: SlotReader
    private let worker: ReadAheadWorker?
    private let lock = NSLock()
    /// Guarded by `lock`: the unit each slot holds (or is being read into), and the unit computing now.
    private var slotOwner: [Int?]
    private var slotOf: [Int: Int] = [:]
    private var current: Int?
    private var stats = Statistics()

    /// - Parameters:
    ///   - model: the model whose blocks and head are relocated into the slots.
    ///   - units: the streamed units (placement's disk units), in forward order.
    ///   - prefetch: read ahead on a background thread.
    ///   - mode: `.direct` (slots, falling back per unit to the page cache) or `.pageCache` for every unit.
    public init(model: DecoderModel, units: [ModelUnit], prefetch: Bool = true, mode: Mode = .direct) {
        self.units = units
        self.prefetch = prefetch
        self.mode = mode
        let slotCount = prefetch ? 2 : 1
        let layouts = units.map { mode == .direct && !$0.sparse ? SlotLayout($0) : nil }
        let slotBytes = layouts.compactMap { $0?.bytes }.max() ?? 0
        self.slotBytes = slotBytes
        // Allocation failure leaves no slots: every unit then streams through the page cache.
        // At least 2 MiB, which AlignedBuffer aligns to 2 MiB (O_DIRECT needs 4 KiB; smaller buffers get 64 bytes).
        let slots = slotBytes == 0 ? []
            : (0..<slotCount).compactMap { _ in try? AlignedBuffer(byteCount: max(slotBytes, 2 << 20), zeroed: false) }
        var plans: [UnitPlan] = []
        for (unit, layout) in zip(units, layouts) {
            var plan = UnitPlan(unit: unit)
            if let layout, slots.count == slotCount {
                plan.layout = layout
                for slot in slots {
                    let address = { (r: MappedRange) -> UnsafeRawPointer? in layout.offsets[r].map { UnsafeRawPointer(slot.raw + $0) } }
                    switch unit.stage {
                    case .block(let l):
                        guard let b = model.blocks[l].relocated(address, owner: slot) else { break }
                        plan.blocks.append(b)
                    case .head:
                        guard let head = model.lmHead.relocated(address, owner: slot) else { break }
                        let out = model.projectOut.map { $0.relocated(address, owner: slot) }
                        if let out, out == nil { break }
                        plan.heads.append((head, out ?? nil))
                    case .embeddings:
                        break
                    }
                }
                if plan.blocks.count + plan.heads.count != slotCount {
                    plan.layout = nil
                    plan.blocks = []
                    plan.heads = []
                }
            }
            plans.append(plan)
        }
        self.plans = plans
        index = Dictionary(uniqueKeysWithValues: units.enumerated().map { ($1.stage, $0) })
        let cycle = units.indices.filter { !units[$0].sparse }
        self.cycle = cycle
        let stages = [ForwardStage.embeddings] + model.blocks.indices.map { .block($0) } + [.head]
        var next: [ForwardStage: Int] = [:]
        if !cycle.isEmpty {
            let positions = stages.map { stage in cycle.firstIndex { units[$0].stage == stage } }
            for (k, stage) in stages.enumerated() {
                // The first cycle unit strictly after `stage` in forward order, wrapping to the next pass.
                var found = 0
                for step in 1...stages.count {
                    if let p = positions[(k + step) % stages.count] {
                        found = p
                        break
                    }
                }
                next[stage] = found
            }
        }
        nextInCycle = next
        slotOwner = Array(repeating: nil, count: slotCount)
        // Row lookups are random: without this, each page fault would read ahead up to read_ahead_kb around it,
        // into the page cache and possibly into neighbouring layers.
        for u in units where u.sparse { Pages.adviseRandom(u.ranges) }
        reader = SlotReader(slots: slots, mode: mode, files: FileDescriptors(units.flatMap(\.ranges).map(\.file), direct: mode == .direct))
        stats.slotUnits = plans.filter { $0.layout != nil }.count
        stats.pageCacheUnits = plans.count - stats.slotUnits
        let reader = self.reader, finalPlans = plans
        worker = prefetch && !cycle.isEmpty ? ReadAheadWorker { i, slot in reader.read(finalPlans[i], slot: slot) } : nil
    }

    /// Read-ahead may hold the first units of a pass that never comes: their pages go with the streamer.
    deinit {
        worker?.stop()
        for (i, plan) in plans.enumerated() where plan.layout == nil && slotOf[i] != nil { reader.releasePages(plan) }
    }

    public var statistics: Statistics {
        lock.lock()
        var s = stats
        lock.unlock()
        s.readSeconds = reader.readSeconds
        s.bufferedReads = reader.bufferedReads
        return s
    }

    /// Gives unit `i` a free slot and queues its read, unless it has one already or is computing.
    private func request(_ i: Int) {
        lock.lock()
        guard slotOf[i] == nil, current != i, let free = slotOwner.firstIndex(where: { $0 == nil }) else {
            lock.unlock()
            return
        }
        slotOwner[free] = i
        slotOf[i] = free
        lock.unlock()
        worker?.request(i, slot: free)
    }

    public func willRun(_ stage: ForwardStage) {
        let start = DispatchTime.now().uptimeNanoseconds
        var streamed: Int?
        if let i = index[stage], !units[i].sparse {
            streamed = i
            if worker != nil {
                request(i)
                worker?.wait(for: i)
            } else {
                lock.lock()
                slotOwner[0] = i
                slotOf[i] = 0
                lock.unlock()
                if plans[i].layout != nil { reader.read(plans[i], slot: 0) }
            }
            lock.lock()
            current = i
            stats.waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            stats.readBytes += units[i].mappedBytes
            lock.unlock()
        }
        readAhead(after: stage, count: streamed == nil ? 2 : 1)
    }

    /// Requests the `count` streamed units that follow `stage` (those already read or queued keep their slots), so
    /// that the disk never waits for the computing thread to ask.
    private func readAhead(after stage: ForwardStage, count: Int) {
        guard worker != nil, let first = nextInCycle[stage] else { return }
        for k in 0..<min(count, cycle.count) { request(cycle[(first + k) % cycle.count]) }
    }

    public func block(_ index: Int) -> DecoderBlock? {
        guard let (plan, slot) = running(.block(index)), !plan.blocks.isEmpty else { return nil }
        return plan.blocks[slot]
    }

    public func head() -> (lmHead: Linear, projectOut: Linear?)? {
        guard let (plan, slot) = running(.head), !plan.heads.isEmpty else { return nil }
        return plan.heads[slot]
    }

    private func running(_ stage: ForwardStage) -> (UnitPlan, Int)? {
        guard let i = index[stage] else { return nil }
        lock.lock()
        defer { lock.unlock() }
        guard current == i, let s = slotOf[i] else { return nil }
        return (plans[i], s)
    }

    public func didRun(_ stage: ForwardStage) {
        guard let i = index[stage] else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        if plans[i].layout == nil { reader.releasePages(plans[i]) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        lock.lock()
        if let s = slotOf.removeValue(forKey: i) { slotOwner[s] = nil }
        if current == i { current = nil }
        stats.releaseSeconds += seconds
        stats.releasedUnits += 1
        lock.unlock()
        // The slot just freed takes the unit after the one being read now.
        readAhead(after: stage, count: 2)
    }
}

/// Where each tensor of a unit lies in a slot: the unit's merged ranges rounded out to 4 KiB (O_DIRECT's alignment
/// for offset, length and buffer) and packed one after another, so that a layer stored contiguously is read in
/// equal 8 MiB requests.
struct SlotLayout: Sendable {
    static let alignment = 4096
    static let chunk = 8 << 20
    /// For each tensor range, the offset of its first byte in the slot.
    let offsets: [MappedRange: Int]
    /// Reads that fill a slot: file, file offset, slot offset, length (the last chunk of a file may come back short
    /// at its end: `needed` is what must arrive).
    let reads: [(file: MappedFile, offset: Int, slotOffset: Int, count: Int, needed: Int)]
    let bytes: Int

    init(_ unit: ModelUnit) {
        let a = Self.alignment
        var offsets: [MappedRange: Int] = [:]
        var reads: [(file: MappedFile, offset: Int, slotOffset: Int, count: Int, needed: Int)] = []
        var cursor = 0
        for m in unit.ranges {
            let start = m.offset / a * a
            let end = (m.offset + m.count + a - 1) / a * a
            for t in unit.tensorRanges where t.file === m.file && t.offset >= m.offset && t.offset + t.count <= m.offset + m.count {
                offsets[t] = cursor + (t.offset - start)
            }
            var o = start
            while o < end {
                let n = min(Self.chunk, end - o)
                reads.append((m.file, o, cursor + (o - start), n, min(n, m.offset + m.count - o)))
                o += n
            }
            cursor += end - start
        }
        self.offsets = offsets
        self.reads = reads
        bytes = cursor
    }
}

/// How one streamed unit runs: through a slot (its layout and its block or head relocated into each slot), or
/// through the page cache (no layout).
struct UnitPlan: @unchecked Sendable {
    let unit: ModelUnit
    var layout: SlotLayout?
    var blocks: [DecoderBlock] = []
    var heads: [(Linear, Linear?)] = []

    init(unit: ModelUnit) { self.unit = unit }
}

/// Reads units into slots (O_DIRECT, two requests in flight) or through the page cache.
final class SlotReader: @unchecked Sendable {
    let slots: [AlignedBuffer]
    let files: FileDescriptors
    /// The reading thread and one more, each claiming the next 8 MiB request as it finishes one. Dedicated threads:
    /// a GCD `concurrentPerform` ran both lanes on one thread while the compute threads held the cores, which left
    /// one request in flight and the disk at 60% of its bandwidth.
    let lanes = ThreadPool(threads: 2, spinMicroseconds: 0)
    private let lock = NSLock()
    private var seconds = 0.0
    private var buffered = 0

    init(slots: [AlignedBuffer], mode: LayerStreamer.Mode, files: FileDescriptors) {
        self.slots = slots
        self.files = files
    }

    var readSeconds: Double {
        lock.lock()
        defer { lock.unlock() }
        return seconds
    }

    var bufferedReads: Int {
        lock.lock()
        defer { lock.unlock() }
        return buffered
    }

    func read(_ plan: UnitPlan, slot: Int) {
        let start = DispatchTime.now().uptimeNanoseconds
        if let layout = plan.layout {
            let buffer = slots[slot]
            let reads = layout.reads
            lanes.parallelFor(reads.count) { k in
                let r = reads[k]
                readChunk(r.file, into: buffer.raw + r.slotOffset, count: r.count, needed: r.needed, at: r.offset)
            }
        } else {
            Pages.readAhead(plan.unit.ranges, files: files)
        }
        lock.lock()
        seconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        lock.unlock()
    }

    /// One chunk, O_DIRECT when possible. A refused or failed direct read is redone buffered, and its pages dropped
    /// from the page cache; if that fails too, the bytes are copied from the mapping, which reads the file as every
    /// resident weight does (and fails as they would, with SIGBUS, if the disk cannot deliver them).
    private func readChunk(_ file: MappedFile, into p: UnsafeMutableRawPointer, count: Int, needed: Int, at offset: Int) {
        let direct = files.directFD(file)
        if direct >= 0 && Self.readFully(direct, into: p, count: count, needed: needed, at: offset) == nil { return }
        let fd = files.fd(file)
        if Self.readFully(fd, into: p, count: count, needed: needed, at: offset) != nil, let base = file.base {
            p.copyMemory(from: base + offset, byteCount: needed)
        }
        #if os(Linux)
        _ = posix_fadvise(fd, off_t(offset), off_t(count), POSIX_FADV_DONTNEED)
        #endif
        lock.lock()
        buffered += 1
        lock.unlock()
    }

    /// pread until `needed` bytes arrived (reads stop short at the end of a file); the errno on failure, else nil.
    static func readFully(_ fd: Int32, into p: UnsafeMutableRawPointer, count: Int, needed: Int, at offset: Int) -> Int32? {
        guard fd >= 0 else { return EBADF }
        var done = 0
        while done < needed {
            let n = pread(fd, p + done, count - done, off_t(offset + done))
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return n < 0 ? errno : EIO
            }
        }
        return nil
    }

    func releasePages(_ plan: UnitPlan) {
        Pages.release(plan.unit.ranges, files: files)
    }
}

/// A background thread that reads units ahead one at a time, in the order they are requested.
final class ReadAheadWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [(unit: Int, slot: Int)] = []
    private var running: Int?
    private var done: Set<Int> = []
    private var stopping = false
    private let exited = DispatchSemaphore(value: 0)

    init(work: @escaping @Sendable (_ unit: Int, _ slot: Int) -> Void) {
        let thread = Thread { [self] in
            loop(work)
            exited.signal()
        }
        thread.name = "origami-read-ahead"
        thread.start()
    }

    private func loop(_ work: (Int, Int) -> Void) {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if stopping {
                condition.unlock()
                return
            }
            let job = queue.removeFirst()
            running = job.unit
            condition.unlock()
            work(job.unit, job.slot)
            condition.lock()
            running = nil
            done.insert(job.unit)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Queues reading unit `i` into `slot`, unless it is queued, being read, or read and not yet used.
    func request(_ i: Int, slot: Int) {
        condition.lock()
        if !done.contains(i), running != i, !queue.contains(where: { $0.unit == i }) {
            queue.append((i, slot))
            condition.broadcast()
        }
        condition.unlock()
    }

    /// Blocks until unit `i` (requested before) has been read, and marks it used.
    func wait(for i: Int) {
        condition.lock()
        while !done.contains(i) { condition.wait() }
        done.remove(i)
        condition.unlock()
    }

    /// Stops after the read in progress, and waits until the thread has exited (so that no read lands in memory
    /// that is about to be remapped).
    func stop() {
        condition.lock()
        stopping = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
        exited.wait()
    }
}

/// Descriptors of the checkpoint files (a mapping keeps none): buffered ones for `posix_fadvise` and restoring
/// mappings, O_DIRECT ones for direct reads.
final class FileDescriptors: @unchecked Sendable {
    /// Written only in init, so reading from any thread is safe.
    private var fds: [ObjectIdentifier: Int32] = [:]
    private var directFDs: [ObjectIdentifier: Int32] = [:]

    init(_ files: [MappedFile], direct: Bool) {
        for f in files where fds[ObjectIdentifier(f)] == nil {
            fds[ObjectIdentifier(f)] = open(f.path, O_RDONLY)
            if direct && DiskProbe.oDirect != 0 { directFDs[ObjectIdentifier(f)] = open(f.path, O_RDONLY | DiskProbe.oDirect) }
        }
    }

    deinit {
        for fd in fds.values where fd >= 0 { close(fd) }
        for fd in directFDs.values where fd >= 0 { close(fd) }
    }

    func fd(_ file: MappedFile) -> Int32 { fds[ObjectIdentifier(file)] ?? -1 }
    func directFD(_ file: MappedFile) -> Int32 { directFDs[ObjectIdentifier(file)] ?? -1 }
}

/// Page-level operations on mapped byte ranges, through the page cache.
public enum Pages {
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// Linux 5.14's MADV_POPULATE_READ: fault the range in (reading it if needed) and map it, in one call.
    static let madvPopulateRead: Int32 = 22
    /// Bytes per read-ahead request: at most what the kernel honours in one `posix_fadvise(WILLNEED)` on common devices.
    static let willNeedChunk = 2 << 20

    /// Reads `ranges` into the page cache and maps them, returning when the bytes are resident.
    static func readAhead(_ ranges: [MappedRange], files: FileDescriptors) {
        #if os(Linux)
        // The kernel caps one WILLNEED at the device's readahead size (read_ahead_kb) and ignores the rest, so the
        // range is requested in pieces; each call queues its reads and returns.
        for r in ranges {
            let fd = files.fd(r.file)
            guard fd >= 0 else { continue }
            var o = r.offset
            while o < r.offset + r.count {
                let n = min(willNeedChunk, r.offset + r.count - o)
                _ = posix_fadvise(fd, off_t(o), off_t(n), POSIX_FADV_WILLNEED)
                o += n
            }
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

    /// Marks ranges as read at random (`MADV_RANDOM`): page faults there read only the page they need.
    static func adviseRandom(_ ranges: [MappedRange]) {
        for r in ranges {
            guard let base = r.file.base, r.count > 0 else { continue }
            let start = r.offset / pageSize * pageSize
            madvise(UnsafeMutableRawPointer(mutating: base + start), r.offset + r.count - start, MADV_RANDOM)
        }
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
