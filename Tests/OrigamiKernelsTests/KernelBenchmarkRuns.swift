import Foundation
import OrigamiKernels
import Testing

/// The kernel benchmarks, run on request only (a minute or more each):
/// `ORIGAMI_KERNEL_BENCH=1 swift test -c release --filter KernelBenchmarkRuns`; `ORIGAMI_KERNEL_BENCH_THREADS`
/// picks the thread count (default: every core).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ORIGAMI_KERNEL_BENCH"] != nil), .serialized)
struct KernelBenchmarkRuns {
    static var pool: ThreadPool {
        let threads = ProcessInfo.processInfo.environment["ORIGAMI_KERNEL_BENCH_THREADS"].flatMap { Int($0) }
        return threads.map { ThreadPool(threads: $0) } ?? .shared
    }

    @Test func quantized() {
        print(KernelBenchmarks.quantized(pool: Self.pool))
    }

    @Test func dense() {
        print(KernelBenchmarks.run(pool: Self.pool))
    }
}
