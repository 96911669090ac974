import OrigamiTensor
import COrigamiKernels

/// Streaming read bandwidth in bytes per second, the roof a matrix × vector kernel is measured against.
///
/// Reads an aligned, huge-page backed buffer (much larger than the last-level cache) with the pool's threads, the
/// same way decode streams weights; best of `repeats` passes. Measure it in the same run as the kernels you compare
/// with it: on shared machines it moves between runs.
///
/// - Returns: bytes per second, or 0 when the buffer cannot be allocated.
public func measureMemoryBandwidth(bytes: Int = 1 << 30, pool: ThreadPool = .shared, repeats: Int = 3) -> Double {
    let chunks = pool.threadCount * 4
    let chunkBytes = max(256, bytes / chunks / 256 * 256)
    guard let buffer = try? AlignedBuffer(byteCount: chunkBytes * chunks) else { return 0 }
    // Touch every page once (the zeroing above already did) and fill with something other than zero pages.
    ok_scale(buffer.pointer(as: Float.self), 1, buffer.byteCount / 4, buffer.pointer(as: Float.self))
    let base = UnsafeRawPointer(buffer.raw)
    var best = 0.0
    for _ in 0..<max(1, repeats) {
        let start = ok_now_ns()
        pool.parallelFor(chunks) { c in
            _ = ok_stream_read(base + c * chunkBytes, chunkBytes)
        }
        let seconds = Double(ok_now_ns() - start) * 1e-9
        best = max(best, Double(chunkBytes * chunks) / seconds)
    }
    return best
}

/// `measureMemoryBandwidth` with `threads` threads (the shared pool when it has that many).
public func measureMemoryBandwidth(bytes: Int = 1 << 30, threads: Int) -> Double {
    let pool = threads == ThreadPool.shared.threadCount ? ThreadPool.shared : ThreadPool(threads: threads)
    return measureMemoryBandwidth(bytes: bytes, pool: pool)
}
