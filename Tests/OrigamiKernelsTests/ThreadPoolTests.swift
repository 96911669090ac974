import OrigamiKernels
import Synchronization
import Testing

@Suite struct ThreadPoolTests {
    @Test(arguments: [0, 1, 2, 3, 7, 64, 1000])
    func everyIndexRunsExactlyOnce(count: Int) {
        let pool = ThreadPool(threads: 2)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
        hits.initialize(repeating: 0, count: max(count, 1))
        defer { hits.deallocate() }
        pool.parallelFor(count) { i in hits[i] += 1 }
        #expect((0..<count).allSatisfy { hits[$0] == 1 })
    }

    @Test func manySmallCallsInARow() {
        let pool = ThreadPool(threads: 3)
        let total = Atomic<Int>(0)
        for n in 0..<5000 {
            pool.parallelFor(n % 5 + 1) { _ in total.add(1, ordering: .relaxed) }
        }
        #expect(total.load(ordering: .relaxed) == (0..<5000).reduce(0) { $0 + $1 % 5 + 1 })
    }

    @Test func nestedCallRunsSeriallyInsideTheBody() {
        let pool = ThreadPool(threads: 2)
        let total = Atomic<Int>(0)
        pool.parallelFor(4) { _ in
            pool.parallelFor(10) { j in total.add(j, ordering: .relaxed) }
        }
        #expect(total.load(ordering: .relaxed) == 4 * 45)
    }

    @Test func concurrentCallersAllFinish() async {
        let pool = ThreadPool(threads: 2)
        let total = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<200 { pool.parallelFor(8) { _ in total.value.add(1, ordering: .relaxed) } }
                }
            }
        }
        #expect(total.value.load(ordering: .relaxed) == 4 * 200 * 8)
    }

    @Test func singleThreadPoolAndSleepingWorkers() throws {
        let one = ThreadPool(threads: 1)
        #expect(one.threadCount == 1)
        var sum = 0
        one.parallelFor(10) { sum += $0 }
        #expect(sum == 45)
        // Workers that spun out and went to sleep must wake for the next job.
        let pool = ThreadPool(threads: 2, spinMicroseconds: 0)
        let total = Atomic<Int>(0)
        for _ in 0..<50 {
            pool.parallelFor(2) { _ in total.add(1, ordering: .relaxed) }
            usleepForTest(200)
        }
        #expect(total.load(ordering: .relaxed) == 100)
    }

    @Test func poolsCanBeCreatedAndDropped() {
        for _ in 0..<20 {
            let pool = ThreadPool(threads: 4)
            let total = Atomic<Int>(0)
            pool.parallelFor(16) { i in total.add(i, ordering: .relaxed) }
            #expect(total.load(ordering: .relaxed) == 120)
        }
        #expect(ThreadPool.shared.threadCount >= 1)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func usleepForTest(_ us: UInt32) { usleep(us) }

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
