import Foundation
import OrigamiTensor
import COrigamiKernels

extension KernelBenchmarks {
    /// Timings of the quantized kernels: matrix × vector as GB/s of packed weights (codes and scales) next to a
    /// streaming read of as many bytes, and 128-token matrix × matrix as GOP/s (2 · tokens · rows · cols).
    ///
    /// As `run`, copies of each matrix fill `ringBytes` and every timed call reads the next copy, so nothing is served
    /// from the last-level cache; each matrix × vector call follows two streaming reads of as many bytes of another
    /// buffer (plain, and with the kernels' software prefetch), and the percentages are the medians over the calls of
    /// read time / kernel time, which a shared machine disturbs far less than a best over separate runs.
    public static func quantized(pool: ThreadPool = .shared, ringBytes: Int = 1 << 30, repeats: Int = 15) -> String {
        var out = ""
        func line(_ s: String) { out += s + "\n" }
        line("threads \(pool.threadCount), AMX int8 \(Int8Kernel.hasAMX ? "yes" : "no"), AMX bf16 \(Gemm.hasAMX ? "yes" : "no")")
        guard let readRing = try? AlignedBuffer(byteCount: ringBytes / 2, zeroed: false) else {
            line("cannot allocate \(ringBytes / 2) bytes for the read ring")
            return out
        }
        ok_scale(readRing.pointer(as: Float.self), 0.5, readRing.byteCount / 4, readRing.pointer(as: Float.self))
        let tokens = 128, maxCols = 4096
        var x = [Float](repeating: 0, count: tokens * maxCols)
        var y = [Float](repeating: 0, count: tokens * 11008)
        for i in x.indices { x[i] = Float((i * 7919) % 2001) / 1000 - 1 }
        let nf4: [Float] = [
            -1.0, -0.6961928, -0.52507305, -0.3949175, -0.28444138, -0.18477343, -0.09105004, 0.0, 0.0795803,
            0.1609302, 0.2461123, 0.33791524, 0.44070983, 0.562617, 0.72295684, 1.0,
        ]

        line("")
        line("matrix × vector (1 token): GB/s of packed weights; each call paired with a plain streaming read (`read`, as")
        line("measureMemoryBandwidth) and a read with the kernels' software prefetch (`pf read`, ~5% faster here)")
        line("                                   bytes/w   GB/s best  median   read  pf read   % of read / pf read (median of pairs)")
        var gemmLines: [String] = []
        for (rows, cols) in [(11008, 4096), (5632, 2048)] {
            var rng = SplitMix(seed: UInt64(rows))
            let i8codes = (0..<(rows * cols)).map { _ in Int8(Int(rng.next() % 255) - 127) }
            let u8codes = i8codes.map { UInt8(bitPattern: $0) }
            let scales = (0..<rows).map { _ in Float(rng.next() % 1000 + 1) / 1000 }
            let zeros = (0..<rows).map { _ in Float(rng.next() % 256) }
            let n4 = (0..<(rows * cols / 2)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let absmax = (0..<(rows * cols / 64)).map { _ in Float(rng.next() % 1000 + 1) / 1000 }

            func report(_ name: String, bytes: Int, _ r: MatvecTimes) {
                let b = Double(bytes)
                line(String(format: "  %5d × %-5d %@ %5.3f  %7.1f  %7.1f   %5.1f  %5.1f      %5.1f%% / %5.1f%%", rows, cols,
                            pad(name, 18), b / Double(rows * cols), b / r.best / 1e9, b / r.median / 1e9,
                            b / r.readBest / 1e9, b / r.prefetchedBest / 1e9, 100 * r.medianRatio, 100 * r.medianPrefetchedRatio))
            }
            func gemm(_ name: String, _ r: (best: Double, median: Double)) {
                let ops = 2.0 * Double(tokens * rows * cols)
                gemmLines.append(String(format: "  %5d × %-5d %@ %8.1f  %8.1f   %7.2f", rows, cols, pad(name, 22),
                                        ops / r.best / 1e9, ops / r.median / 1e9, r.best * 1e3))
            }

            if let ring = Self.ring(ringBytes: ringBytes, make: { try Int8Weights(codes: i8codes, scales: scales, rows: rows, cols: cols) },
                                    copy: { try $0.duplicate() }, bytes: { $0.byteCount }) {
                let bytes = ring[0].byteCount
                report("int8 VNNI", bytes: bytes, timeMatvec(ring, readRing, bytes: bytes, repeats: repeats * 2, pool: pool) { w in
                    int8Linear(x: x, tokens: 1, weight: w, bias: nil, y: &y, kernel: .vnni, pool: pool)
                })
                report("int8 f32 dequant", bytes: bytes, timeMatvec(ring, readRing, bytes: bytes, repeats: repeats * 2, pool: pool) { w in
                    int8DequantizedLinear(x: x, tokens: 1, weight: w, bias: nil, y: &y, pool: pool)
                })
                if Int8Kernel.hasAMX {
                    gemm("int8 AMX", timeRing(ring, repeats: repeats) { w in
                        int8Linear(x: x, tokens: tokens, weight: w, bias: nil, y: &y, kernel: .amx, pool: pool)
                    })
                }
                gemm("int8 VNNI", timeRing(ring, repeats: max(3, repeats / 3)) { w in
                    int8Linear(x: x, tokens: tokens, weight: w, bias: nil, y: &y, kernel: .vnni, pool: pool)
                })
                gemm("int8 f32 dequant", timeRing(ring, repeats: max(3, repeats / 3)) { w in
                    int8DequantizedLinear(x: x, tokens: tokens, weight: w, bias: nil, y: &y, pool: pool)
                })
            }
            if let ring = Self.ring(ringBytes: ringBytes, make: {
                try Int8Weights(codes: u8codes, scales: scales, zeroPoints: zeros, rows: rows, cols: cols)
            }, copy: { try $0.duplicate() }, bytes: { $0.byteCount }) {
                let bytes = ring[0].byteCount
                report("int8-zp VNNI", bytes: bytes, timeMatvec(ring, readRing, bytes: bytes, repeats: repeats * 2, pool: pool) { w in
                    int8Linear(x: x, tokens: 1, weight: w, bias: nil, y: &y, kernel: .vnni, pool: pool)
                })
                if Int8Kernel.hasAMX {
                    gemm("int8-zp AMX", timeRing(ring, repeats: repeats) { w in
                        int8Linear(x: x, tokens: tokens, weight: w, bias: nil, y: &y, kernel: .amx, pool: pool)
                    })
                }
            }
            if let ring = Self.ring(ringBytes: ringBytes, make: {
                try Packed4BitWeights.repack(codes: n4, absmax: absmax, codebook: nf4, rows: rows, cols: cols, blockSize: 64, pool: pool)
            }, copy: { try $0.duplicate() }, bytes: { $0.byteCount }) {
                let bytes = ring[0].byteCount
                report("nf4 f32", bytes: bytes, timeMatvec(ring, readRing, bytes: bytes, repeats: repeats * 2, pool: pool) { w in
                    fourBitLinear(x: x, tokens: 1, weight: w, bias: nil, y: &y, precision: .f32, pool: pool)
                })
                if Gemm.hasAMX {
                    gemm("nf4 AMX bf16", timeRing(ring, repeats: repeats) { w in
                        fourBitLinear(x: x, tokens: tokens, weight: w, bias: nil, y: &y, precision: .bf16, pool: pool)
                    })
                }
                gemm("nf4 f32", timeRing(ring, repeats: max(3, repeats / 3)) { w in
                    fourBitLinear(x: x, tokens: tokens, weight: w, bias: nil, y: &y, precision: .f32, pool: pool)
                })
            }
        }
        line("")
        line("matrix × matrix (\(tokens) tokens)               GOP/s best   median   ms (best)")
        gemmLines.forEach(line)
        return out
    }

    /// `%-18@` does not pad on Linux Foundation.
    private static func pad(_ s: String, _ width: Int) -> String { s.padding(toLength: max(width, s.count), withPad: " ", startingAt: 0) }

    struct MatvecTimes {
        var best: Double, median: Double, readBest: Double, prefetchedBest: Double
        /// Medians over the calls of read time / kernel time right after it.
        var medianRatio: Double, medianPrefetchedRatio: Double
    }

    /// Copies of one matrix filling `ringBytes` (at least 2), or nil when memory runs out.
    private static func ring<W>(
        ringBytes: Int, make: () throws -> W, copy: (W) throws -> W, bytes: (W) -> Int
    ) -> [W]? {
        guard let first = try? make() else { return nil }
        var ring = [first]
        let count = max(2, ringBytes / max(1, bytes(first)))
        while ring.count < count {
            guard let c = try? copy(first) else { break }
            ring.append(c)
        }
        return ring.count >= 2 ? ring : nil
    }

    /// Kernel timings, each call on the next copy, each after a plain and a prefetched streaming read of `bytes`
    /// from `readRing` (the first round pays for page faults and scratch and is dropped).
    private static func timeMatvec<W>(
        _ ring: [W], _ readRing: AlignedBuffer, bytes: Int, repeats: Int, pool: ThreadPool, _ body: (W) -> Void
    ) -> MatvecTimes {
        let chunks = pool.threadCount * 4, chunkBytes = bytes / chunks / 256 * 256
        let slots = max(1, readRing.byteCount / (chunkBytes * chunks))
        var kernel: [Double] = [], read: [Double] = [], pfRead: [Double] = [], ratio: [Double] = [], pfRatio: [Double] = []
        func timeRead(_ slot: Int, prefetched: Bool) -> Double {
            let base = UnsafeRawPointer(readRing.raw + (slot % slots) * chunkBytes * chunks)
            let start = ok_now_ns()
            pool.parallelFor(chunks) { c in
                _ = prefetched ? ok_stream_read_prefetched(base + c * chunkBytes, chunkBytes)
                               : ok_stream_read(base + c * chunkBytes, chunkBytes)
            }
            return Double(ok_now_ns() - start) * 1e-9 * Double(bytes) / Double(chunkBytes * chunks)
        }
        for i in 0..<(repeats + 1) {
            let tr = timeRead(2 * i, prefetched: false), tp = timeRead(2 * i + 1, prefetched: true)
            let start = ok_now_ns()
            body(ring[i % ring.count])
            let tk = Double(ok_now_ns() - start) * 1e-9
            if i == 0 { continue }
            kernel.append(tk)
            read.append(tr)
            pfRead.append(tp)
            ratio.append(tr / tk)
            pfRatio.append(tp / tk)
        }
        kernel.sort()
        ratio.sort()
        pfRatio.sort()
        return MatvecTimes(best: kernel[0], median: kernel[kernel.count / 2], readBest: read.min()!,
                           prefetchedBest: pfRead.min()!, medianRatio: ratio[ratio.count / 2],
                           medianPrefetchedRatio: pfRatio[pfRatio.count / 2])
    }

    private static func timeRing<W>(_ ring: [W], repeats: Int, _ body: (W) -> Void) -> (best: Double, median: Double) {
        var times: [Double] = []
        for i in 0..<(repeats + 1) {
            let start = ok_now_ns()
            body(ring[i % ring.count])
            let t = Double(ok_now_ns() - start) * 1e-9
            if i > 0 { times.append(t) }
        }
        times.sort()
        return (times[0], times[times.count / 2])
    }
}

/// Deterministic filler for benchmark weights.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
