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

    @Option(help: ArgumentHelp("A Jinja chat template file to use instead of the model's chat_template.", valueName: "file"))
    var chatTemplate: String?

    func run() throws {
        let loaded = try modelOptions.load()
        let format = try ChatFormat(tokenizer: loaded.tokenizer, templateSource: try chatTemplate.map { try String(contentsOfFile: $0, encoding: .utf8) })
        let capacity = loaded.config.maxPositionEmbeddings
        // A turn may prefill the whole conversation: the placement reserves scratch for a full context.
        let (model, _) = try placement.apply(to: loaded, kvCapacity: capacity, tokens: capacity, logitsRows: 1)
        let generator = Generator(model: model, tokenizer: loaded.tokenizer, context: modelOptions.makeContext(), capacity: capacity)
        var messages: [ChatMessage] = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        note(format.template == nil ? "[no chat_template: using a plain User/Assistant format]" : "[using the model's chat_template]")
        note("[type a message; an empty line or Ctrl-D quits]")
        while true {
            emit("> ")
            guard let line = readLine(), !line.isEmpty else { break }
            messages.append(ChatMessage(role: "user", content: line))
            let prompt = try format.prompt(for: messages)
            let ids = prompt.ids
            guard ids.count < loaded.config.maxPositionEmbeddings - 1 else {
                note("[the conversation is longer than the context (\(loaded.config.maxPositionEmbeddings) tokens); start a new chat]")
                break
            }
            let options = GenerationOptions(maxNewTokens: maxTokens, sampling: sampling.parameters,
                                            stopTokenIds: loaded.eosTokenIds, stopStrings: prompt.stops)
            let result = generator.generate(promptIds: ids, options: options) { emit($0); return true }
            emit("\n")
            messages.append(ChatMessage(role: "assistant", content: result.text.trimmingCharacters(in: .whitespaces)))
        }
    }
}
