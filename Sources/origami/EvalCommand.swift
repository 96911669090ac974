import ArgumentParser
import Foundation
import OrigamiRuntime

/// `origami eval --text FILE`: perplexity over non-overlapping windows.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Perplexity of a text: non-overlapping windows of --context tokens, no BOS, all but each window's first token scored.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var placement: PlacementOptions

    @Option(help: "The text file to score (UTF-8).")
    var text: String

    @Option(help: "Window length in tokens.")
    var context = 512

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        guard context >= 2 else { throw ValidationError("--context must be at least 2") }
        let loaded = try modelOptions.load()
        guard let data = FileManager.default.contents(atPath: text) else { throw ValidationError("cannot read \(text)") }
        guard let body = String(data: data, encoding: .utf8) else { throw ValidationError("\(text) is not valid UTF-8") }
        let window = min(context, loaded.config.maxPositionEmbeddings)
        let ids = loaded.tokenizer.encode(body, addSpecialTokens: false)
        let isTTY = isatty(2) != 0
        let (model, placed) = try placement.apply(to: loaded, kvCapacity: window, tokens: window, logitsRows: window)
        let r = Perplexity.evaluate(model: model, ids: ids, window: window, context: modelOptions.makeContext()) { done, total in
            if isTTY { FileHandle.standardError.write(Data(String(format: "\r%d/%d tokens", done, total).utf8)) }
        }
        if isTTY { note("") }
        if json {
            var out: [String: Any] = ["perplexity": r.perplexity, "mean_nll": r.meanNLL, "scored_tokens": r.scoredTokens,
                                      "windows": r.windows, "context": window, "tokens": ids.count, "seconds": r.seconds,
                                      "tokens_per_second": r.tokensPerSecond]
            if let placed {
                out["placement"] = placed.json
                out["peak_rss_bytes"] = SystemInfo.peakResidentBytes()
            }
            print(try jsonString(out))
        } else {
            print(String(format: "PPL %.4f  mean NLL %.6f  scored %d tokens in %d windows of %d  %.1f tok/s",
                         r.perplexity, r.meanNLL, r.scoredTokens, r.windows, window, r.tokensPerSecond))
        }
    }
}
