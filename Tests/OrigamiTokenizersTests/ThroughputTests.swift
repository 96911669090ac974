import Foundation
import OrigamiTokenizers
import Testing

/// Encode throughput, run on request (it is a measurement, not a check):
///
///     ORIGAMI_TOKENIZER_BENCH=1 swift test -c release --filter ThroughputTests
///
/// `ORIGAMI_TOKENIZER_BENCH_MODEL` (a directory with tokenizer.json) and `ORIGAMI_TOKENIZER_BENCH_TEXT` (a text
/// file) replace the defaults: the llama3 fixture and about 1 MB built from the golden texts. A
/// `bench_ids.json` beside the tokenizer (ids `tokenizers` produced for the text) is compared too.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ORIGAMI_TOKENIZER_BENCH"] != nil))
struct ThroughputTests {
    @Test func encodeThroughput() throws {
        let environment = ProcessInfo.processInfo.environment
        let directory =
            environment["ORIGAMI_TOKENIZER_BENCH_MODEL"].map { URL(fileURLWithPath: $0) }
            ?? Fixtures.directory("llama3")
        let text: String
        if let path = environment["ORIGAMI_TOKENIZER_BENCH_TEXT"] {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } else {
            let sample = try Fixtures.families.flatMap { try Fixtures.goldens($0).cases.map(\.text) }.joined(
                separator: "\n")
            text = String(repeating: sample + "\n", count: max(1, 1_000_000 / sample.utf8.count))
        }
        let megabytes = Double(text.utf8.count) / 1_000_000

        let loadStart = ContinuousClock.now
        let tokenizer = try Tokenizer(directory: directory)
        let loadTime = ContinuousClock.now - loadStart

        var best = Duration.seconds(1_000)
        var ids: [Int] = []
        for _ in 0..<3 {
            let start = ContinuousClock.now
            ids = tokenizer.encode(text, addSpecialTokens: false)
            best = min(best, ContinuousClock.now - start)
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18

        let decodeStart = ContinuousClock.now
        let decoded = tokenizer.decode(ids)
        let decodeTime = ContinuousClock.now - decodeStart

        print(
            """
            tokenizer \(directory.lastPathComponent): load \(loadTime), \(String(format: "%.2f", megabytes)) MB → \
            \(ids.count) tokens in \(best): \(String(format: "%.2f", megabytes / seconds)) MB/s; decode \(decodeTime)
            """)
        #expect(decoded.utf8.count > 0)
        let reference = directory.appendingPathComponent("bench_ids.json")
        if FileManager.default.fileExists(atPath: reference.path) {
            let expected = try JSONDecoder().decode([Int].self, from: Data(contentsOf: reference))
            #expect(ids == expected)
        }
    }
}
