import Foundation
import OrigamiTokenizers
import Testing

/// The public API, error reporting and safety limits; rendering fidelity is covered by the golden suites.
@Suite struct ChatTemplateTests {
    static let chatML = """
        {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}\
        {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
        """

    @Test func rendersMessagesWithTheChatMessageAPI() throws {
        let template = try ChatTemplate(Self.chatML)
        let prompt = try template.render(
            messages: [ChatMessage(role: "system", content: "Be kind."), ChatMessage(role: "user", content: "Hi")],
            addGenerationPrompt: true, bosToken: nil, eosToken: nil)
        #expect(prompt == "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func providesTheVariablesTransformersProvides() throws {
        let template = try ChatTemplate(
            "{{ bos_token }}|{{ eos_token is defined }}|{{ tools is none }}|{{ documents is none }}|{{ add_generation_prompt }}|{{ extra_flag }}")
        let prompt = try template.render(messages: [], addGenerationPrompt: false, bosToken: "<s>", eosToken: nil,
                                         extra: ["extra_flag": true])
        #expect(prompt == "<s>|False|True|True|False|True")
    }

    @Test func extraOverridesTokensAndPassesTools() throws {
        let template = try ChatTemplate("{{ bos_token }}{{ tools | length }}{{ tools[0].name }}")
        let prompt = try template.render(messages: [], addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>",
                                         extra: ["bos_token": "[BOS]", "tools": [["name": "search"]]])
        #expect(prompt == "[BOS]1search")
    }

    @Test func extraCannotReplaceMessages() throws {
        let template = try ChatTemplate("x")
        #expect(throws: ChatTemplateError.self) {
            try template.render(messages: [], addGenerationPrompt: false, bosToken: nil, eosToken: nil, extra: ["messages": []])
        }
    }

    @Test func contextRenderKeepsDictionaryOrder() throws {
        let tool: TemplateValue = ["zeta": 1, "alpha": ["b": true, "a": .none], "mid": 2.5]
        let template = try ChatTemplate("{{ tool | tojson }} {% for k in tool %}{{ k }},{% endfor %}")
        #expect(try template.render(["tool": tool]) == #"{"zeta": 1, "alpha": {"b": true, "a": null}, "mid": 2.5} zeta,alpha,mid,"#)
    }

    @Test func templateIsReusableAndSendable() async throws {
        let template = try ChatTemplate("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}")
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for count in 1...8 {
                group.addTask {
                    try template.render(messages: Array(repeating: ChatMessage(role: "user", content: "x"), count: count),
                                        addGenerationPrompt: false, bosToken: nil, eosToken: nil)
                }
            }
            var all: [String] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(Set(results) == Set((1...8).map(String.init)))
    }

    // MARK: Errors

    @Test func syntaxErrorsCarryTheirLocation() {
        #expect(throws: ChatTemplateError.syntax("unexpected 'end of print statement'", at: SourceLocation(line: 2, column: 12))) {
            try ChatTemplate("line one\nabc {{ 1 + }}")
        }
        #expect(throws: ChatTemplateError.syntax("Encountered unknown tag 'frobnicate'.", at: SourceLocation(line: 1, column: 4))) {
            try ChatTemplate("{% frobnicate %}")
        }
    }

    @Test func unclosedBlocksNameWhatWasExpected() {
        do {
            _ = try ChatTemplate("{% for x in y %}\n{% if x %}")
            Issue.record("parsed an unclosed block")
        } catch {
            guard case .syntax(let message, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(message.contains("'elif' or 'else' or 'endif'"))
        }
    }

    @Test func loaderTagsAreUnsupported() {
        #expect(throws: ChatTemplateError.unsupported(construct: "tag 'include'", at: SourceLocation(line: 1, column: 10))) {
            try ChatTemplate("hello {% include 'other.jinja' %}")
        }
    }

    @Test func unimplementedFiltersFailOnlyWhenReached() throws {
        let template = try ChatTemplate("{% if group %}{{ items | groupby('k') }}{% endif %}ok")
        #expect(try template.render([:]) == "ok")
        #expect(throws: ChatTemplateError.unsupported(construct: "filter 'groupby'", at: SourceLocation(line: 1, column: 26))) {
            try template.render(["group": true, "items": []])
        }
    }

    @Test func unknownFiltersAndTestsAreSyntaxErrors() {
        #expect(throws: ChatTemplateError.syntax("No filter named 'shout'.", at: SourceLocation(line: 1, column: 8))) {
            try ChatTemplate("{{ x | shout }}")
        }
        #expect(throws: ChatTemplateError.syntax("No test named 'shouty'.", at: SourceLocation(line: 1, column: 9))) {
            try ChatTemplate("{{ x is shouty }}")
        }
    }

    @Test func raiseExceptionSurfacesTheTemplatesMessage() throws {
        let template = try ChatTemplate("""
            {% for m in messages %}{% if m.role == 'system' %}
            {{ raise_exception('System role not supported') }}{% endif %}{% endfor %}
            """)
        #expect(throws: ChatTemplateError.raised("System role not supported", at: SourceLocation(line: 2, column: 4))) {
            try template.render(messages: [ChatMessage(role: "system", content: "x")], addGenerationPrompt: false,
                                bosToken: nil, eosToken: nil)
        }
    }

    @Test func undefinedValuesFailWhereJinjaFails() throws {
        let template = try ChatTemplate("[{{ missing }}]{{ missing.attribute }}")
        #expect(throws: ChatTemplateError.runtime("'missing' is undefined", at: SourceLocation(line: 1, column: 19))) {
            try template.render([:])
        }
        #expect(try ChatTemplate("[{{ missing }}][{{ missing | default('d') }}]").render([:]) == "[][d]")
    }

    @Test func errorsDescribeThemselves() {
        let error = ChatTemplateError.unsupported(construct: "filter 'groupby'", at: SourceLocation(line: 3, column: 7))
        #expect(error.description == "chat template uses unsupported filter 'groupby' at line 3, column 7")
    }

    // MARK: Limits on hostile templates

    @Test func endlessMacroRecursionIsAnError() throws {
        let template = try ChatTemplate("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        #expect(throws: ChatTemplateError.self) { try template.render([:]) }
    }

    @Test func deepNestingIsASyntaxError() {
        let brackets = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(throws: ChatTemplateError.self) { try ChatTemplate("{{ \(brackets) }}") }
        let nots = String(repeating: "not ", count: 5000)
        #expect(throws: ChatTemplateError.self) { try ChatTemplate("{{ \(nots) x }}") }
        let ifs = String(repeating: "{% if x %}", count: 2000) + String(repeating: "{% endif %}", count: 2000)
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(ifs) }
        let sum = "{{ " + Array(repeating: "1", count: 5000).joined(separator: " + ") + " }}"
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(sum) }
    }

    @Test func realisticNestingStillWorks() throws {
        let sum = "{{ " + Array(repeating: "1", count: 150).joined(separator: " + ") + " }}"
        #expect(try ChatTemplate(sum).render([:]) == "150")
        let nested = String(repeating: "{% if true %}", count: 40) + "deep" + String(repeating: "{% endif %}", count: 40)
        #expect(try ChatTemplate(nested).render([:]) == "deep")
    }

    @Test func hugeAllocationsAreRefused() throws {
        #expect(throws: ChatTemplateError.self) { try ChatTemplate("{{ 'x' * 1000000000 }}").render([:]) }
        #expect(throws: ChatTemplateError.self) { try ChatTemplate("{{ range(10000000) | length }}").render([:]) }
    }

    // MARK: Globals

    @Test func strftimeNowFormatsTheLocalDate() throws {
        let template = try ChatTemplate("{{ strftime_now('%Y') }}|{{ strftime_now('%d %b %Y') | length }}")
        let year = Calendar.current.component(.year, from: Date())
        let parts = try template.render([:]).split(separator: "|")
        #expect(parts.count == 2)
        #expect(Int(parts[0]) == year || Int(parts[0]) == year + 1)
        #expect(parts[1] == "11")
    }

    // MARK: TemplateValue

    @Test func jsonKeepsOrderAndNumberKinds() throws {
        let value = try TemplateValue(json: #"{"b": 1, "a": [1.0, -2, 3e2, true, null, "x\u00e9\n"], "c": {}}"#)
        guard case .dictionary(let dictionary) = value else {
            Issue.record("not a dictionary")
            return
        }
        #expect(dictionary.keys == ["b", "a", "c"])
        #expect(dictionary["a"] == [.double(1.0), .int(-2), .double(300), .bool(true), .none, .string("xé\n")])
        #expect(dictionary["c"] == .dictionary([:]))
    }

    @Test func jsonErrorsGiveTheOffset() {
        #expect(throws: ChatTemplateError.invalidJSON("expected ',' or ']'", offset: 3)) { try TemplateValue(json: "[1 2]") }
        #expect(throws: ChatTemplateError.self) { try TemplateValue(json: "{\"a\": 1,}") }
        #expect(throws: ChatTemplateError.self) { try TemplateValue(json: "[1] x") }
    }

    @Test func dictionaryEqualityIgnoresOrderAndAssignmentKeepsPosition() {
        var dictionary: TemplateDictionary = ["a": 1, "b": 2]
        dictionary["a"] = 3
        dictionary["c"] = 4
        dictionary["b"] = nil
        #expect(dictionary.keys == ["a", "c"])
        #expect(dictionary == ["c": 4, "a": 3])
        #expect(TemplateValue.dictionary(dictionary) != ["a": 3])
    }
}

/// Long conversations render in time linear in their size.
@Suite struct ChatTemplatePerformanceTests {
    @Test func longConversationRendersQuickly() throws {
        let source = try #require(ChatTemplateFixtures.text("qwen3.5-style.jinja"))
        let template = try ChatTemplate(source)
        let paragraph = String(repeating: "All work and no play makes Jack a dull boy. ", count: 100)
        var messages: [ChatMessage] = [ChatMessage(role: "system", content: "Be brief.")]
        for index in 0..<400 {
            messages.append(ChatMessage(role: index % 2 == 0 ? "user" : "assistant", content: "\(index): \(paragraph)"))
        }
        let clock = ContinuousClock()
        var prompt = ""
        let elapsed = try clock.measure {
            prompt = try template.render(messages: messages, addGenerationPrompt: true, bosToken: nil, eosToken: "<|im_end|>")
        }
        #expect(prompt.utf8.count > 400 * paragraph.utf8.count)
        #expect(elapsed < .seconds(20))
        print("rendered \(messages.count) messages (\(prompt.utf8.count) bytes) in \(elapsed)")
    }
}
