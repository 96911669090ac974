public import OrigamiKernels

/// How layers run: the worker threads, and the precision of matrix × matrix products in prefill.
public final class ComputeContext: Sendable {
    public enum PrefillPrecision: String, Sendable, CaseIterable {
        /// Products in F32 (weights upcast): matches the reference to float rounding.
        case f32
        /// Activations and weights rounded to BF16, products summed in F32: several times the FLOP/s.
        case bf16
    }

    public let pool: ThreadPool
    public let prefillPrecision: PrefillPrecision
    public var threads: Int { pool.threadCount }

    public init(threads: Int, prefillPrecision: PrefillPrecision = .f32) {
        pool = threads == ThreadPool.shared.threadCount ? .shared : ThreadPool(threads: max(1, threads))
        self.prefillPrecision = prefillPrecision
    }

    var matmulPrecision: MatmulPrecision { prefillPrecision == .bf16 ? .bf16 : .f32 }

    /// Runs `body(i)` for i in 0..<count across the threads.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        pool.parallelFor(count, body)
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
