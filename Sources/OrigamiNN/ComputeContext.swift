import Dispatch

/// How layers run: the worker threads, and the precision of matrix × matrix products in prefill.
public final class ComputeContext: Sendable {
    public enum PrefillPrecision: String, Sendable, CaseIterable {
        /// Products in F32 (weights upcast): matches the reference to float rounding.
        case f32
        /// Activations rounded to BF16 and multiplied with BF16 dot products: about twice the FLOP/s.
        case bf16
    }

    public let threads: Int
    public let prefillPrecision: PrefillPrecision

    public init(threads: Int, prefillPrecision: PrefillPrecision = .f32) {
        self.threads = max(1, threads)
        self.prefillPrecision = prefillPrecision
    }

    /// Runs `body(i)` for i in 0..<count across the threads.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if threads == 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The body runs on other threads only until concurrentPerform returns; callers own the data it touches.
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: count) { work($0) }
        }
    }

    /// Splits 0..<n into about `threads × 4` contiguous chunks and runs them in parallel.
    public func parallelChunks(_ n: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = max(1, min(threads * 4, (n + minChunk - 1) / minChunk))
        let size = (n + chunks - 1) / chunks
        parallelFor(chunks) { c in
            let lo = c * size
            let hi = min(n, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }
}
