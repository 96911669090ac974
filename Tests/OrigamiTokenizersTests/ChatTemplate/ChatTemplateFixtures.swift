import Foundation
import OrigamiTokenizers
import Testing

/// Reads the goldens that Scripts/make_chat_template_goldens.py wrote with transformers and jinja2.
enum ChatTemplateFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ChatTemplate
        .deletingLastPathComponent()  // OrigamiTokenizersTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/chat_templates")

    static func text(_ name: String) -> String? {
        try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    /// A file of goldens as a list of dictionaries, read with ``TemplateValue/init(json:)`` so key order
    /// and int/float distinctions survive.
    static func entries(_ name: String) -> [TemplateDictionary] {
        guard let json = text(name), case .array(let items)? = try? TemplateValue(json: json) else { return [] }
        return items.compactMap { item in
            if case .dictionary(let dictionary) = item { return dictionary }
            return nil
        }
    }

    struct ExpectedError: Sendable {
        var type: String
        var message: String
    }

    static func string(_ value: TemplateValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    static func expectedError(_ value: TemplateValue?) -> ExpectedError? {
        guard case .dictionary(let error)? = value else { return nil }
        return ExpectedError(type: string(error["type"]) ?? "", message: string(error["message"]) ?? "")
    }
}

/// A rendering by transformers' `apply_chat_template` of a real model template.
struct ChatTemplateModelGolden: Sendable, CustomTestStringConvertible {
    var template: String
    var conversation: String
    var messages: [TemplateValue]
    var addGenerationPrompt: Bool
    var bosToken: String?
    var eosToken: String?
    var extra: TemplateDictionary
    var expected: String?
    var expectedError: ChatTemplateFixtures.ExpectedError?

    var testDescription: String {
        "\(template) / \(conversation) / generation prompt \(addGenerationPrompt)\(bosToken == nil ? " / no BOS" : "")"
    }

    static func all() -> [ChatTemplateModelGolden] {
        ChatTemplateFixtures.entries("goldens.json").map { entry in
            var messages: [TemplateValue] = []
            if case .array(let items)? = entry["messages"] { messages = items }
            var extra = TemplateDictionary()
            if case .dictionary(let dictionary)? = entry["extra"] { extra = dictionary }
            return ChatTemplateModelGolden(
                template: ChatTemplateFixtures.string(entry["template"]) ?? "",
                conversation: ChatTemplateFixtures.string(entry["conversation"]) ?? "",
                messages: messages,
                addGenerationPrompt: entry["add_generation_prompt"] == .bool(true),
                bosToken: ChatTemplateFixtures.string(entry["bos_token"]),
                eosToken: ChatTemplateFixtures.string(entry["eos_token"]),
                extra: extra,
                expected: ChatTemplateFixtures.string(entry["expected"]),
                expectedError: ChatTemplateFixtures.expectedError(entry["expected_error"]))
        }
    }

    /// The messages as plain role/content pairs, when that is all they are.
    var chatMessages: [ChatMessage]? {
        var result: [ChatMessage] = []
        for message in messages {
            guard case .dictionary(let dictionary) = message, dictionary.count == 2,
                let role = ChatTemplateFixtures.string(dictionary["role"]), let content = ChatTemplateFixtures.string(dictionary["content"])
            else { return nil }
            result.append(ChatMessage(role: role, content: content))
        }
        return result
    }
}

/// A small template rendered by jinja2 in transformers' environment.
struct ChatTemplateUnitGolden: Sendable, CustomTestStringConvertible {
    var name: String
    var template: String
    var context: TemplateDictionary
    var expected: String?
    var expectedError: ChatTemplateFixtures.ExpectedError?

    var testDescription: String { name }

    static func all() -> [ChatTemplateUnitGolden] {
        ChatTemplateFixtures.entries("units.json").map { entry in
            var context = TemplateDictionary()
            if case .dictionary(let dictionary)? = entry["context"] { context = dictionary }
            return ChatTemplateUnitGolden(
                name: ChatTemplateFixtures.string(entry["name"]) ?? "",
                template: ChatTemplateFixtures.string(entry["template"]) ?? "",
                context: context,
                expected: ChatTemplateFixtures.string(entry["expected"]),
                expectedError: ChatTemplateFixtures.expectedError(entry["expected_error"]))
        }
    }
}
