import Dispatch
import Foundation
import OrigamiTensor
import COrigamiKernels

/// Timings of the kernels on this machine, for `origami bench`: memory bandwidth (the decode roof), thread-pool
/// call overhead, matrix × vector per weight dtype as GB/s and share of the bandwidth, and matrix × matrix at
/// 128 tokens as GFLOP/s for exact f32 and both bf16 kernels (`linear(precision: .bf16)` uses AMX when present).
///
/// Weights are laid out as copies filling ~1 GiB and each timed call reads the next copy, so no matrix is served
/// from the last-level cache (hundreds of MiB on server parts) the way it would never be in a real forward pass.
/// Figures are the best and the median of the repeats; a shared machine makes single runs wander.
public enum KernelBenchmarks {
    /// Runs everything (about a minute on 2 cores) and returns a plain-text report.
    public static func run(pool: ThreadPool = .shared, ringBytes: Int = 1 << 30, repeats: Int = 15) -> String {
        var out = ""
        func line(_ s: String) { out += s + "\n" }
        let bandwidth = measureMemoryBandwidth(bytes: ringBytes, pool: pool, repeats: 5)
        line("threads \(pool.threadCount), AMX \(Gemm.hasAMX ? "yes" : "no")")
        line(String(format: "memory bandwidth (streaming read, best of 5): %.1f GB/s", bandwidth / 1e9))
        let (poolBest, poolMedian) = poolOverhead(pool)
        let (dispatchBest, dispatchMedian) = dispatchOverhead(threads: pool.threadCount)
        line(String(format: "thread pool call (empty body, %d chunks): best %.2f µs, median %.2f µs", pool.threadCount,
                    poolBest * 1e6, poolMedian * 1e6))
        line(String(format: "  DispatchQueue.concurrentPerform for comparison: best %.2f µs, median %.2f µs",
                    dispatchBest * 1e6, dispatchMedian * 1e6))

        guard let ring = try? AlignedBuffer(byteCount: ringBytes, zeroed: false) else {
            line("cannot allocate \(ringBytes) bytes for the weight ring")
            return out
        }
        fillWeights(ring)
        let maxIn = 5632
        var x = [Float](repeating: 0, count: 128 * maxIn)
        var y = [Float](repeating: 0, count: 128 * 11008)
        for i in x.indices { x[i] = Float((i * 7919) % 2001) / 1000 - 1 }

        line("")
        line("matrix × vector (1 token): weight stream vs a plain streaming read of the same bytes, interleaved")
        line("                                   GB/s best  median   read GB/s   % of read (best / median pair)")
        for (rows, cols) in [(11008, 4096), (5632, 2048)] {
            for dtype in [DType.f32, .f16, .bf16] {
                let r = timeMatvec(ring, rows: rows, cols: cols, dtype: dtype, repeats: repeats * 2, pool: pool) { w in
                    Gemm.matvec(x: x, tokens: 1, weight: w, bias: nil, y: &y, pool: pool)
                }
                let bytes = Double(rows * cols * dtype.byteSize)
                line(String(format: "  %5d × %-5d %-4@                 %6.1f  %6.1f      %6.1f     %5.1f%% / %5.1f%%", rows, cols,
                            dtype.rawValue, bytes / r.best / 1e9, bytes / r.median / 1e9, bytes / r.readBest / 1e9,
                            100 * r.readBest / r.best, 100 * r.medianRatio))
            }
        }

        line("")
        line("matrix × matrix (128 tokens)             GFLOP/s best  median   ms (best)")
        let tokens = 128
        var kernels: [(String, (WeightMatrix) -> Void)] = [
            ("f32", { w in Gemm.f32(x: x, tokens: tokens, weight: w, bias: nil, y: &y, pool: pool) }),
            ("bf16 vdpbf16ps", { w in Gemm.bf16(x: x, tokens: tokens, weight: w, bias: nil, y: &y, pool: pool) }),
        ]
        if Gemm.hasAMX {
            kernels.append(("bf16 AMX", { w in Gemm.bf16AMX(x: x, tokens: tokens, weight: w, bias: nil, y: &y, pool: pool) }))
        }
        for (rows, cols) in [(5632, 2048), (2048, 5632), (2048, 2048)] {
            for dtype in [DType.f32, .f16, .bf16] {
                for (name, kernel) in kernels {
                    let times = timeRing(ring, rows: rows, cols: cols, dtype: dtype, repeats: repeats, kernel)
                    let flops = 2.0 * Double(tokens * rows * cols)
                    line(String(format: "  %5d × %-5d %-4@ %-16@  %7.1f  %7.1f   %6.2f", rows, cols, dtype.rawValue,
                                name, flops / times.best / 1e9, flops / times.median / 1e9, times.best * 1e3))
                }
            }
        }
        return out
    }

    /// Matrix × vector timings paired with a streaming read of another copy of the same size through the same pool
    /// right before, so the roof is measured under the same load as the kernel: best and median seconds of the
    /// kernel, best seconds of the read, and the median of the per-pair ratios read time / kernel time.
    private static func timeMatvec(
        _ ring: AlignedBuffer, rows: Int, cols: Int, dtype: DType, repeats: Int, pool: ThreadPool,
        _ body: (WeightMatrix) -> Void
    ) -> (best: Double, median: Double, readBest: Double, medianRatio: Double) {
        let bytes = (rows * cols * dtype.byteSize + 4095) / 4096 * 4096
        let copies = max(2, ring.byteCount / bytes)
        let chunks = pool.threadCount * 4, chunkBytes = bytes / chunks / 256 * 256
        var kernel: [Double] = [], read: [Double] = [], ratio: [Double] = []
        for i in 0..<(repeats + 1) {
            let readBase = UnsafeRawPointer(ring.raw + (2 * i % copies) * bytes)
            var start = ok_now_ns()
            pool.parallelFor(chunks) { c in _ = ok_stream_read(readBase + c * chunkBytes, chunkBytes) }
            let tr = Double(ok_now_ns() - start) * 1e-9 * Double(bytes) / Double(chunkBytes * chunks)
            let w = try! WeightMatrix(data: ring.raw + ((2 * i + 1) % copies) * bytes, dtype: dtype, rows: rows, cols: cols)
            start = ok_now_ns()
            body(w)
            let tk = Double(ok_now_ns() - start) * 1e-9
            if i == 0 { continue }   // the first pair pays for page faults and scratch allocation
            kernel.append(tk)
            read.append(tr)
            ratio.append(tr / tk)
        }
        kernel.sort()
        ratio.sort()
        return (kernel[0], kernel[kernel.count / 2], read.min()!, ratio[ratio.count / 2])
    }

    /// Best and median seconds per call of `body`, each call on the next copy of a rows × cols matrix in the ring.
    private static func timeRing(
        _ ring: AlignedBuffer, rows: Int, cols: Int, dtype: DType, repeats: Int, _ body: (WeightMatrix) -> Void
    ) -> (best: Double, median: Double) {
        let bytes = (rows * cols * dtype.byteSize + 4095) / 4096 * 4096
        let copies = max(1, ring.byteCount / bytes)
        var times: [Double] = []
        for i in 0..<(repeats + 1) {
            let w = try! WeightMatrix(data: ring.raw + (i % copies) * bytes, dtype: dtype, rows: rows, cols: cols)
            let start = ok_now_ns()
            body(w)
            let t = Double(ok_now_ns() - start) * 1e-9
            if i > 0 { times.append(t) }   // the first call pays for page faults and scratch allocation
        }
        times.sort()
        return (times[0], times[times.count / 2])
    }

    /// 16-bit words 0x3800...0x3BFF: f16 in [0.5, 1), small bf16 values, normal f32 pairs — finite for every dtype.
    private static func fillWeights(_ ring: AlignedBuffer) {
        let words = ring.pointer(as: UInt16.self)
        for i in 0..<(ring.byteCount / 2) { words[i] = 0x3800 | UInt16(truncatingIfNeeded: i &* 2_654_435_761 >> 7) & 0x3FF }
    }

    private static func poolOverhead(_ pool: ThreadPool) -> (Double, Double) {
        batchTimes { pool.parallelFor(pool.threadCount) { _ in } }
    }

    private static func dispatchOverhead(threads: Int) -> (Double, Double) {
        batchTimes { DispatchQueue.concurrentPerform(iterations: threads) { _ in } }
    }

    /// Seconds per call: 20 batches of 1000 calls, best and median batch.
    private static func batchTimes(_ call: () -> Void) -> (Double, Double) {
        for _ in 0..<1000 { call() }
        var batches: [Double] = []
        for _ in 0..<20 {
            let start = ok_now_ns()
            for _ in 0..<1000 { call() }
            batches.append(Double(ok_now_ns() - start) * 1e-9 / 1000)
        }
        batches.sort()
        return (batches[0], batches[batches.count / 2])
    }
}
