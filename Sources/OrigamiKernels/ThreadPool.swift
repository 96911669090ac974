#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COrigamiKernels

/// Persistent worker threads that run `parallelFor` jobs, the calling thread taking part.
///
/// Decode calls the pool about ten times per layer, so a call must cost microseconds: idle workers spin for a
/// short while (catching the next call of the same forward pass) and then sleep on a futex, because pure spinning
/// costs milliseconds per call when the machine's few cores are shared with other processes. Chunks are handed
/// out one at a time from an atomic counter, so a descheduled worker delays a job by at most one chunk.
///
/// A call made while the pool is already running a job (from inside a body, or from another thread) runs its
/// chunks serially on the calling thread instead of waiting.
public final class ThreadPool: @unchecked Sendable {
    /// One thread per core this process may run on.
    public static let shared = ThreadPool(threads: Int(ok_active_cpu_count()))

    /// Threads that run chunks, the caller included.
    public let threadCount: Int

    private let sync: UnsafeMutablePointer<ok_pool_sync>
    private var workers: [pthread_t] = []

    /// - Parameters:
    ///   - threads: threads that share the work, the caller included (at least 1).
    ///   - spinMicroseconds: how long an idle worker keeps polling before it sleeps.
    public init(threads: Int, spinMicroseconds: Int = 100) {
        threadCount = max(1, threads)
        guard let s = ok_pool_sync_create() else {
            preconditionFailure("cannot allocate 256 bytes for the thread pool")
        }
        sync = s
        let spin = UInt64(max(0, spinMicroseconds)) * 1000
        for index in 1..<threadCount {
            let start = WorkerStart(sync: s, spinNanoseconds: spin, index: index)
            #if canImport(Darwin)
            var thread: pthread_t? = nil
            #else
            var thread = pthread_t()
            #endif
            let rc = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                ThreadPool.workerLoop(start)
                return nil
            }, Unmanaged.passRetained(start).toOpaque())
            // A pool with fewer workers still computes everything: the caller runs what they do not.
            #if canImport(Darwin)
            if rc == 0, let thread { workers.append(thread) } else { Unmanaged.passUnretained(start).release() }
            #else
            if rc == 0 { workers.append(thread) } else { Unmanaged.passUnretained(start).release() }
            #endif
        }
    }

    deinit {
        ok_pool_shutdown(sync)
        for thread in workers { pthread_join(thread, nil) }
        ok_pool_sync_destroy(sync)
    }

    /// Runs `body(i)` for every `i` in `0..<count`, spread over the pool's threads; returns when all have run.
    ///
    /// Chunks may run in any order and concurrently: `body` must only write memory no other chunk touches.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        precondition(count <= Int(UInt32.max), "parallelFor supports at most 2^32 - 1 chunks")
        guard !workers.isEmpty, count > 1, ok_pool_try_enter(sync) else {
            for i in 0..<count { body(i) }
            return
        }
        defer { ok_pool_leave(sync) }
        withoutActuallyEscaping(body) { body in
            var job = Job(body: body)
            withUnsafePointer(to: &job) { job in
                ok_pool_publish(sync, UInt32(count), job)
                var index: Int64 = 0
                while ok_pool_claim(sync, &index) {
                    body(Int(index))
                    ok_pool_finish_chunk(sync)
                }
                ok_pool_wait_done(sync, UInt64(count))
            }
        }
    }

    private struct Job {
        let body: (Int) -> Void
    }

    private final class WorkerStart {
        let sync: UnsafeMutablePointer<ok_pool_sync>
        let spinNanoseconds: UInt64
        let index: Int
        init(sync: UnsafeMutablePointer<ok_pool_sync>, spinNanoseconds: UInt64, index: Int) {
            self.sync = sync
            self.spinNanoseconds = spinNanoseconds
            self.index = index
        }
    }

    /// Workers hold only the shared state, never the pool, so dropping the pool stops them.
    private static func workerLoop(_ start: WorkerStart) {
        let sync = start.sync
        var seen: UInt32 = 0
        while true {
            seen = ok_pool_wait_generation(sync, seen, start.spinNanoseconds)
            if ok_pool_is_shutdown(sync) { return }
            var index: Int64 = 0
            while ok_pool_claim(sync, &index) {
                runChunk(ok_pool_context(sync), Int(index))
                ok_pool_finish_chunk(sync)
            }
        }
    }

    /// Not inlined so the copy of the closure is released before the chunk is counted as finished: the caller's
    /// `withoutActuallyEscaping` checks that nothing kept the body once the job is done.
    @inline(never)
    private static func runChunk(_ job: UnsafeRawPointer?, _ index: Int) {
        job.unsafelyUnwrapped.assumingMemoryBound(to: Job.self).pointee.body(index)
    }
}
