public import OrigamiTokenizers
import Foundation

/// How a conversation becomes a prompt: the model's `chat_template` rendered as transformers renders it, or, for a
/// model without one, a plain `User:`/`Assistant:` transcript that stops at the next `User:` line. `origami chat`,
/// `origami generate --chat` and the server's chat endpoint all use it, so they see the same prompt.
public struct ChatFormat: Sendable {
    /// nil: the plain fallback.
    public let template: ChatTemplate?
    public let tokenizer: Tokenizer
    let bos: String?
    let eos: String?

    /// - Parameter templateSource: a template to use instead of the model's (`--chat-template`).
    public init(tokenizer: Tokenizer, templateSource: String? = nil) throws(ChatTemplateError) {
        self.tokenizer = tokenizer
        let source = templateSource ?? tokenizer.config?.chatTemplate
        template = try source.map { source throws(ChatTemplateError) in try ChatTemplate(source) }
        bos = tokenizer.bosTokenId.flatMap { tokenizer.tokens(for: [$0]).first }
        eos = tokenizer.eosTokenIds.first.flatMap { tokenizer.tokens(for: [$0]).first }
    }

    public struct Prompt: Sendable {
        public var text: String
        public var ids: [Int]
        /// Stop strings the format needs (the fallback's next `User:` turn).
        public var stops: [String]
    }

    /// The prompt for `messages`, ending where the assistant's reply begins.
    public func prompt(for messages: [ChatMessage]) throws(ChatTemplateError) -> Prompt {
        let text: String
        var stops: [String] = []
        if let template {
            text = try template.render(messages: messages, addGenerationPrompt: true, bosToken: bos, eosToken: eos)
        } else {
            text = messages.map { "\(Self.fallbackName(of: $0.role)): \($0.content)\n" }.joined() + "Assistant:"
            stops = ["\nUser:"]
        }
        // A template that writes BOS itself must not get a second one from the tokenizer.
        let addSpecial = template == nil || bos.map { !text.hasPrefix($0) } ?? true
        return Prompt(text: text, ids: tokenizer.encode(text, addSpecialTokens: addSpecial), stops: stops)
    }

    static func fallbackName(of role: String) -> String {
        switch role {
        case "user": "User"
        case "system", "developer": "System"
        case "tool": "Tool"
        default: "Assistant"
        }
    }
}
