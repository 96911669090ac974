import OrigamiTokenizers
import Testing

/// Real model templates against transformers' renderings, byte for byte.
@Suite struct ChatTemplateGoldenTests {
    static let goldens = ChatTemplateModelGolden.all()

    @Test func goldensAreLoaded() {
        #expect(Self.goldens.count >= 300)
        #expect(Self.goldens.contains { $0.expectedError?.type == "TemplateError" })
    }

    @Test(arguments: goldens)
    func rendersLikeTransformers(_ golden: ChatTemplateModelGolden) throws {
        let source = try #require(ChatTemplateFixtures.text("\(golden.template).jinja"), "missing template file")
        let template = try ChatTemplate(source)
        let result: Result<String, ChatTemplateError>
        if let messages = golden.chatMessages {
            var extra: [String: TemplateValue] = [:]
            for (key, value) in golden.extra { extra[key] = value }
            result = Result { () throws(ChatTemplateError) in
                try template.render(messages: messages, addGenerationPrompt: golden.addGenerationPrompt,
                                    bosToken: golden.bosToken, eosToken: golden.eosToken, extra: extra)
            }
        } else {
            // Tool calls and tool results: the context transformers builds, given directly.
            var context: [String: TemplateValue] = [
                "messages": .array(golden.messages),
                "add_generation_prompt": .bool(golden.addGenerationPrompt),
                "tools": .none,
                "documents": .none,
            ]
            if let bos = golden.bosToken { context["bos_token"] = .string(bos) }
            if let eos = golden.eosToken { context["eos_token"] = .string(eos) }
            for (key, value) in golden.extra { context[key] = value }
            result = Result { () throws(ChatTemplateError) in try template.render(context) }
        }
        switch (result, golden.expected, golden.expectedError) {
        case (.success(let text), let expected?, _):
            #expect(text == expected)
        case (.failure(let error), _, let expectedError?):
            if expectedError.type == "TemplateError" {
                guard case .raised(let message, _) = error else {
                    Issue.record("expected raise_exception(\(expectedError.message)), got \(error)")
                    return
                }
                #expect(message == expectedError.message)
            } else {
                guard case .runtime = error else {
                    Issue.record("expected a runtime error (\(expectedError.type): \(expectedError.message)), got \(error)")
                    return
                }
            }
        case (.success(let text), nil, let expectedError?):
            Issue.record("rendered \(text.debugDescription) where transformers raised \(expectedError.type): \(expectedError.message)")
        case (.failure(let error), let expected, _):
            Issue.record("failed with \(error) where transformers rendered \(expected?.debugDescription ?? "nothing")")
        case (.success, nil, nil):
            Issue.record("golden has neither an expected text nor an error")
        }
    }
}

/// One construct per template against jinja2 in transformers' environment.
@Suite struct ChatTemplateUnitGoldenTests {
    static let goldens = ChatTemplateUnitGolden.all()

    /// Units that jinja2 renders but this engine deliberately refuses with `.unsupported`.
    static let unsupported: Set<String> = ["lipsum"]

    /// What jinja2 reports while parsing; the engine reports them as ``ChatTemplateError/syntax(_:at:)``.
    static let syntaxErrors: Set<String> = ["TemplateSyntaxError", "TemplateAssertionError", "SyntaxError"]

    /// Units where jinja2 fails at render time for want of a template loader; the engine refuses the tag.
    static let unsupportedErrors: Set<String> = ["extends is unsupported", "include is unsupported"]

    @Test func goldensAreLoaded() {
        #expect(Self.goldens.count >= 250)
    }

    @Test(arguments: goldens)
    func rendersLikeJinja(_ golden: ChatTemplateUnitGolden) {
        var context: [String: TemplateValue] = [:]
        for (key, value) in golden.context { context[key] = value }
        let result = Result { () throws(ChatTemplateError) in try ChatTemplate(golden.template).render(context) }
        if Self.unsupported.contains(golden.name) {
            guard case .failure(.unsupported) = result else {
                Issue.record("expected an unsupported-construct error, got \(result)")
                return
            }
            return
        }
        switch (result, golden.expected, golden.expectedError) {
        case (.success(let text), let expected?, _):
            #expect(text == expected)
        case (.failure(let error), _, let expectedError?):
            if expectedError.type == "TemplateError" {
                guard case .raised(let message, _) = error else {
                    Issue.record("expected raise_exception(\(expectedError.message)), got \(error)")
                    return
                }
                #expect(message == expectedError.message)
            } else if Self.syntaxErrors.contains(expectedError.type) {
                guard case .syntax = error else {
                    Issue.record("expected a syntax error (\(expectedError.message)), got \(error)")
                    return
                }
            } else if Self.unsupportedErrors.contains(golden.name) {
                guard case .unsupported = error else {
                    Issue.record("expected an unsupported-construct error, got \(error)")
                    return
                }
            } else {
                guard case .runtime = error else {
                    Issue.record("expected a runtime error (\(expectedError.type): \(expectedError.message)), got \(error)")
                    return
                }
            }
        case (.success(let text), nil, let expectedError?):
            Issue.record("rendered \(text.debugDescription) where jinja2 raised \(expectedError.type): \(expectedError.message)")
        case (.failure(let error), let expected, _):
            Issue.record("failed with \(error) where jinja2 rendered \(expected?.debugDescription ?? "nothing")")
        case (.success, nil, nil):
            Issue.record("golden has neither an expected text nor an error")
        }
    }
}
