import ArgumentParser
import Foundation
import OrigamiRuntime
import OrigamiTokenizers

/// `origami chat`: an interactive conversation in the terminal.
struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with a model in the terminal, using its chat_template (or a plain User/Assistant format).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var placement: PlacementOptions

    @Option(name: [.customShort("n"), .customLong("max-tokens")], help: "Most tokens per reply.")
    var maxTokens = 256

    @Option(help: "A system prompt.")
    var system: String?

    func run() throws {
        let loaded = try modelOptions.load()
        let template = try loaded.tokenizer.config?.chatTemplate.map { try ChatTemplate($0) }
        let tokenizer = loaded.tokenizer
        let bos = tokenizer.bosTokenId.flatMap { tokenizer.tokens(for: [$0]).first }
        let eos = tokenizer.eosTokenIds.first.flatMap { tokenizer.tokens(for: [$0]).first }
        let capacity = loaded.config.maxPositionEmbeddings
        // A turn may prefill the whole conversation: the placement reserves scratch for a full context.
        let (model, _) = try placement.apply(to: loaded, kvCapacity: capacity, tokens: capacity, logitsRows: 1)
        let generator = Generator(model: model, tokenizer: tokenizer, context: modelOptions.makeContext(), capacity: capacity)
        var messages: [ChatMessage] = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        note(template == nil ? "[no chat_template: using a plain User/Assistant format]" : "[using the model's chat_template]")
        note("[type a message; an empty line or Ctrl-D quits]")
        while true {
            emit("> ")
            guard let line = readLine(), !line.isEmpty else { break }
            messages.append(ChatMessage(role: "user", content: line))
            let prompt: String
            var stops: [String] = []
            if let template {
                prompt = try template.render(messages: messages, addGenerationPrompt: true, bosToken: bos, eosToken: eos)
            } else {
                prompt = messages.map { "\($0.role == "user" ? "User" : $0.role == "system" ? "System" : "Assistant"): \($0.content)\n" }
                    .joined() + "Assistant:"
                stops = ["\nUser:"]
            }
            // A template that writes BOS itself must not get a second one from the tokenizer.
            let addSpecial = template == nil || bos.map { !prompt.hasPrefix($0) } ?? true
            let ids = tokenizer.encode(prompt, addSpecialTokens: addSpecial)
            guard ids.count < loaded.config.maxPositionEmbeddings - 1 else {
                note("[the conversation is longer than the context (\(loaded.config.maxPositionEmbeddings) tokens); start a new chat]")
                break
            }
            let options = GenerationOptions(maxNewTokens: maxTokens, sampling: sampling.parameters,
                                            stopTokenIds: loaded.eosTokenIds, stopStrings: stops)
            let result = generator.generate(promptIds: ids, options: options) { emit($0); return true }
            emit("\n")
            messages.append(ChatMessage(role: "assistant", content: result.text.trimmingCharacters(in: .whitespaces)))
        }
    }
}
