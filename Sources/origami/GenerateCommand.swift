import ArgumentParser
import Foundation
import OrigamiRuntime
import OrigamiTokenizers

/// `origami generate "prompt"`: stream a continuation.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Continue a prompt, streaming the text as it is produced.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var placement: PlacementOptions

    @Option(name: [.customShort("n"), .customLong("max-tokens")], help: "Most tokens to generate.")
    var maxTokens = 128

    @Option(name: .customLong("stop"), help: "Stop when this text appears (repeatable).")
    var stops: [String] = []

    @Flag(help: "Do not add the tokenizer's special tokens (e.g. BOS) to the prompt.")
    var noSpecial = false

    @Flag(help: "Treat the prompt as a user message: render it with the model's chat template (as the server's chat endpoint does) and print only the reply.")
    var chat = false

    @Option(help: "With --chat: a system message before the user's.")
    var system: String?

    @Option(help: ArgumentHelp("With --chat: a Jinja chat template file to use instead of the model's chat_template.", valueName: "file"))
    var chatTemplate: String?

    @Flag(help: "Print prompt ids, generated ids, text and timings as JSON instead of streaming.")
    var json = false

    @Argument(help: "The prompt.")
    var prompt: String

    func run() throws {
        let loaded = try modelOptions.load()
        let context = modelOptions.makeContext()
        var ids = loaded.tokenizer.encode(prompt, addSpecialTokens: !noSpecial)
        var stopStrings = stops
        if chat {
            let format = try ChatFormat(tokenizer: loaded.tokenizer,
                                        templateSource: try chatTemplate.map { try String(contentsOfFile: $0, encoding: .utf8) })
            let messages = (system.map { [ChatMessage(role: "system", content: $0)] } ?? []) + [ChatMessage(role: "user", content: prompt)]
            let rendered = try format.prompt(for: messages)
            ids = rendered.ids
            stopStrings += rendered.stops
        } else if system != nil || chatTemplate != nil {
            throw ValidationError("--system and --chat-template need --chat")
        }
        guard !ids.isEmpty else { throw ValidationError("the prompt encodes to no tokens; pass some text or drop --no-special") }
        let capacity = min(loaded.config.maxPositionEmbeddings, ids.count + maxTokens)
        guard ids.count < capacity || ids.count < loaded.config.maxPositionEmbeddings else {
            throw ValidationError("the prompt has \(ids.count) tokens; the model's context is \(loaded.config.maxPositionEmbeddings)")
        }
        let (model, placed) = try placement.apply(to: loaded, kvCapacity: capacity, tokens: ids.count, logitsRows: 1)
        let generator = Generator(model: model, tokenizer: loaded.tokenizer, context: context, capacity: capacity)
        let options = GenerationOptions(maxNewTokens: maxTokens, sampling: sampling.parameters, stopTokenIds: loaded.eosTokenIds,
                                        stopStrings: stopStrings)
        if !json && !chat { emit(prompt) }
        let result = generator.generate(promptIds: ids, options: options) { piece in
            if !json { emit(piece) }
            return true
        }
        if json {
            var out: [String: Any] = [
                "prompt_ids": result.promptIds, "generated_ids": result.generatedIds, "text": result.text,
                "finish_reason": result.finishReason.rawValue,
                "timings": ["load_s": loaded.loadSeconds, "prefill_s": result.prefillSeconds, "decode_s": result.decodeSeconds,
                            "prefill_tokens_per_s": result.prefillTokensPerSecond, "decode_tokens_per_s": result.decodeTokensPerSecond],
            ]
            if let placed {
                out["placement"] = placed.json
                out["peak_rss_bytes"] = SystemInfo.peakResidentBytes()
            }
            print(try jsonString(out))
        } else {
            emit("\n")
            note(String(format: "[prompt %d tokens, %.1f tok/s; generated %d tokens, %.1f tok/s; %@]", result.promptIds.count,
                        result.prefillTokensPerSecond, result.generatedIds.count, result.decodeTokensPerSecond, result.finishReason.rawValue))
        }
    }
}
