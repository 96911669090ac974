import Foundation
import OrigamiTokenizers
import Testing

/// Broken files fail with a typed error naming the file and JSON path, never a crash.
@Suite struct ErrorTests {
    /// A small valid tokenizer.json to break in one place at a time.
    static func document(
        model: Any? = nil, normalizer: Any = NSNull(), preTokenizer: Any = NSNull(), postProcessor: Any = NSNull(),
        decoder: Any = NSNull(), addedTokens: Any = [Any]()
    ) -> [String: Any] {
        [
            "version": "1.0",
            "added_tokens": addedTokens,
            "normalizer": normalizer,
            "pre_tokenizer": preTokenizer,
            "post_processor": postProcessor,
            "decoder": decoder,
            "model": model ?? bpe(),
        ]
    }

    static func bpe(vocab: Any = ["a": 0, "b": 1, "ab": 2], merges: Any = ["a b"], extra: [String: Any] = [:])
        -> [String: Any]
    {
        var model: [String: Any] = ["type": "BPE", "vocab": vocab, "merges": merges]
        model.merge(extra) { $1 }
        return model
    }

    static func load(_ document: [String: Any]) throws(TokenizerError) -> Tokenizer {
        let data = (try? JSONSerialization.data(withJSONObject: document)) ?? Data()
        return try Tokenizer(tokenizerJSON: data, config: nil)
    }

    static func load(raw: String) throws(TokenizerError) -> Tokenizer {
        try Tokenizer(tokenizerJSON: Data(raw.utf8), config: nil)
    }

    /// The `TokenizerError` `body` throws, or nil (any other error is recorded as an issue).
    static func error(_ body: () throws -> Void) -> TokenizerError? {
        do {
            try body()
            return nil
        } catch let error as TokenizerError {
            return error
        } catch {
            Issue.record("untyped error \(error)")
            return nil
        }
    }

    @Test func validDocumentLoads() throws {
        let tokenizer = try Self.load(Self.document())
        #expect(tokenizer.encode("ab") == [2])
    }

    @Test func mergeOfWrongTypeNamesItsPath() {
        let error = Self.error { _ = try Self.load(Self.document(model: Self.bpe(merges: ["a b", 7]))) }
        #expect(
            error?.description
                == "tokenizer.json: $.model.merges[1]: expected a string or a pair of strings, found a number")
    }

    @Test func malformedMerges() {
        let threeParts = Self.error { _ = try Self.load(Self.document(model: Self.bpe(merges: ["a b c"]))) }
        #expect(
            threeParts
                == .invalidValue(
                    file: "tokenizer.json", path: "$.model.merges[0]",
                    reason: "expected \"left right\" with exactly one space, found \"a b c\""))
        let badPair = Self.error { _ = try Self.load(Self.document(model: Self.bpe(merges: [["a", 1]]))) }
        #expect(
            badPair
                == .invalidValue(
                    file: "tokenizer.json", path: "$.model.merges[0]", reason: "expected a pair of strings"))
        let unknown = Self.error { _ = try Self.load(Self.document(model: Self.bpe(merges: [["a", "z"]]))) }
        #expect(
            unknown
                == .invalidValue(
                    file: "tokenizer.json", path: "$.model.merges[0]",
                    reason: "token \"z\" is not in the vocabulary"))
        let unmerged = Self.error {
            _ = try Self.load(Self.document(model: Self.bpe(vocab: ["a": 0, "b": 1], merges: ["a b"])))
        }
        #expect(
            unmerged
                == .invalidValue(
                    file: "tokenizer.json", path: "$.model.merges[0]",
                    reason: "merged token \"ab\" is not in the vocabulary"))
    }

    @Test func malformedJSONNamesLineAndColumn() {
        let error = Self.error {
            _ = try Self.load(raw: "{\n  \"model\": {\"type\": \"BPE\",\n  \"vocab\": {\"a\": 0,}\n}")
        }
        guard case .malformedJSON(let file, let line, let column, _) = error else {
            Issue.record("expected malformedJSON, got \(String(describing: error))")
            return
        }
        #expect(file == "tokenizer.json")
        #expect(line == 3)
        #expect(column == 20)
        for raw in [
            "", "{", "[1, 2", "{\"a\": tru}", "{\"a\": \"\\x\"}", "{\"a\": \"\\ud800\"}", "{\"a\": 01}", "{} {}",
            "\"\u{1}\"",
        ] {
            guard case .malformedJSON = Self.error({ _ = try Self.load(raw: raw) }) else {
                Issue.record("expected malformedJSON for \(raw.debugDescription)")
                continue
            }
        }
    }

    @Test func invalidUTF8AndDeepNestingAreRejected() {
        let invalid = Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])  // {"\xFF":1}
        guard
            case .malformedJSON(_, _, _, let reason) = Self.error({
                _ = try Tokenizer(tokenizerJSON: invalid, config: nil)
            })
        else {
            Issue.record("expected malformedJSON")
            return
        }
        #expect(reason.contains("UTF-8"))
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        guard case .malformedJSON(_, _, _, let depthReason) = Self.error({ _ = try Self.load(raw: deep) }) else {
            Issue.record("expected malformedJSON")
            return
        }
        #expect(depthReason.contains("nesting"))
    }

    @Test func missingKeysAndWrongTypes() {
        #expect(
            Self.error { _ = try Self.load(raw: "[]") }
                == .wrongType(file: "tokenizer.json", path: "$", expected: "an object", found: "an array"))
        #expect(Self.error { _ = try Self.load(raw: "{}") } == .missingKey(file: "tokenizer.json", path: "$.model"))
        #expect(
            Self.error { _ = try Self.load(Self.document(model: ["type": "BPE", "merges": []])) }
                == .missingKey(file: "tokenizer.json", path: "$.model.vocab"))
        #expect(
            Self.error { _ = try Self.load(Self.document(model: Self.bpe(vocab: ["a", "b"]))) }
                == .wrongType(file: "tokenizer.json", path: "$.model.vocab", expected: "an object", found: "an array"))
        #expect(
            Self.error { _ = try Self.load(Self.document(model: Self.bpe(vocab: ["a": "0", "b": 1, "ab": 2]))) }
                == .wrongType(
                    file: "tokenizer.json", path: "$.model.vocab.a", expected: "an integer", found: "a string"))
        #expect(
            Self.error { _ = try Self.load(Self.document(model: Self.bpe(vocab: ["a b": -1]))) }
                == .invalidValue(
                    file: "tokenizer.json", path: #"$.model.vocab["a b"]"#,
                    reason: "token id -1 is outside 0..<16777216"))
        #expect(
            Self.error { _ = try Self.load(Self.document(model: Self.bpe(extra: ["byte_fallback": 1]))) }
                == .wrongType(
                    file: "tokenizer.json", path: "$.model.byte_fallback", expected: "a boolean", found: "a number"))
        #expect(
            Self.error { _ = try Self.load(Self.document(model: Self.bpe(extra: ["unk_token": "<unk>"]))) }
                == .invalidValue(
                    file: "tokenizer.json", path: "$.model.unk_token",
                    reason: "unknown token \"<unk>\" is not in the vocabulary"))
        #expect(
            Self.error { _ = try Self.load(Self.document(addedTokens: [["id": 5, "special": true]])) }
                == .missingKey(file: "tokenizer.json", path: "$.added_tokens[0].content"))
        #expect(
            Self.error { _ = try Self.load(Self.document(addedTokens: [["id": "5", "content": "x"]])) }
                == .wrongType(
                    file: "tokenizer.json", path: "$.added_tokens[0].id", expected: "an integer", found: "a string"))
    }

    @Test func unsupportedComponentsListWhatIsSupported() {
        let model = Self.error { _ = try Self.load(Self.document(model: ["type": "WordPiece", "vocab": [:]])) }
        #expect(
            model
                == .unsupportedComponent(
                    file: "tokenizer.json", path: "$.model", kind: "model", type: "WordPiece",
                    supported: ["BPE"]))
        let normalizer = Self.error { _ = try Self.load(Self.document(normalizer: ["type": "Precompiled"])) }
        #expect(
            normalizer?.description.hasPrefix(
                #"tokenizer.json: $.normalizer: unsupported normalizer type "Precompiled" (supported: Sequence, Prepend"#
            ) == true)
        let nested = Self.error {
            _ = try Self.load(
                Self.document(preTokenizer: ["type": "Sequence", "pretokenizers": [["type": "UnicodeScripts"]]]))
        }
        guard case .unsupportedComponent(_, let path, let kind, let type, let supported) = nested else {
            Issue.record("expected unsupportedComponent, got \(String(describing: nested))")
            return
        }
        #expect(path == "$.pre_tokenizer.pretokenizers[0]")
        #expect(kind == "pre-tokenizer" && type == "UnicodeScripts" && supported.contains("Split"))
        guard
            case .unsupportedComponent(_, "$.decoder", "decoder", "CTC", _) =
                Self.error({ _ = try Self.load(Self.document(decoder: ["type": "CTC"])) })
        else {
            Issue.record("expected an unsupported decoder")
            return
        }
        guard
            case .unsupportedComponent(_, "$.post_processor", "post-processor", "Pair", _) =
                Self.error({ _ = try Self.load(Self.document(postProcessor: ["type": "Pair"])) })
        else {
            Issue.record("expected an unsupported post-processor")
            return
        }
        guard case .missingKey(_, "$.decoder.type") = Self.error({ _ = try Self.load(Self.document(decoder: [:])) })
        else {
            Issue.record("expected a missing type")
            return
        }
    }

    @Test func invalidComponentSettings() {
        let behavior = Self.error {
            _ = try Self.load(
                Self.document(preTokenizer: ["type": "Split", "pattern": ["String": " "], "behavior": "Sideways"]))
        }
        #expect(
            behavior?.description.hasPrefix(
                #"tokenizer.json: $.pre_tokenizer.behavior: unknown split behavior "Sideways""#) == true)
        let pattern = Self.error {
            _ = try Self.load(
                Self.document(preTokenizer: ["type": "Split", "pattern": ["Glob": "*"], "behavior": "Isolated"]))
        }
        #expect(
            pattern
                == .invalidValue(
                    file: "tokenizer.json", path: "$.pre_tokenizer.pattern",
                    reason: "expected a pattern object with a \"String\" or \"Regex\" key"))
        let regex = Self.error {
            _ = try Self.load(
                Self.document(preTokenizer: [
                    "type": "Split", "pattern": ["Regex": "(unclosed"], "behavior": "Isolated",
                ]))
        }
        guard case .unsupportedRegex(_, "$.pre_tokenizer.pattern.Regex", "(unclosed", _) = regex else {
            Issue.record("expected unsupportedRegex, got \(String(describing: regex))")
            return
        }
        let replacement = Self.error {
            _ = try Self.load(
                Self.document(preTokenizer: ["type": "Metaspace", "replacement": "ab", "prepend_scheme": "first"]))
        }
        #expect(
            replacement
                == .invalidValue(
                    file: "tokenizer.json", path: "$.pre_tokenizer.replacement",
                    reason: "expected a single character"))
        let scheme = Self.error {
            _ = try Self.load(
                Self.document(preTokenizer: ["type": "Metaspace", "replacement": "_", "prepend_scheme": "sometimes"]))
        }
        guard case .invalidValue(_, "$.pre_tokenizer.prepend_scheme", _) = scheme else {
            Issue.record("expected an invalid prepend_scheme")
            return
        }
        let template = Self.error {
            _ = try Self.load(
                Self.document(postProcessor: [
                    "type": "TemplateProcessing",
                    "single": [
                        ["SpecialToken": ["id": "<s>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]],
                    ],
                    "special_tokens": [:],
                ]))
        }
        #expect(
            template
                == .invalidValue(
                    file: "tokenizer.json", path: "$.post_processor.single[0].SpecialToken.id",
                    reason: "special token \"<s>\" is missing from special_tokens"))
    }

    @Test func missingDirectoryIsUnreadable() {
        let error = Self.error { _ = try Tokenizer(directory: URL(fileURLWithPath: "/nonexistent/origami-model")) }
        guard case .unreadableFile(file: "tokenizer.json", _) = error else {
            Issue.record("expected unreadableFile, got \(String(describing: error))")
            return
        }
    }

    @Test func configFilesReportTheirOwnNames() {
        let bos = Self.error { _ = try TokenizerConfig(json: Data(#"{"bos_token": 1}"#.utf8)) }
        #expect(
            bos
                == .wrongType(
                    file: "tokenizer_config.json", path: "$.bos_token", expected: "a string or a token object",
                    found: "a number"))
        let template = Self.error { _ = try TokenizerConfig(json: Data(#"{"chat_template": [{"name": "x"}]}"#.utf8)) }
        #expect(template == .missingKey(file: "tokenizer_config.json", path: "$.chat_template[0].template"))
        let flag = Self.error { _ = try TokenizerConfig(json: Data(#"{"add_bos_token": "yes"}"#.utf8)) }
        #expect(
            flag
                == .wrongType(
                    file: "tokenizer_config.json", path: "$.add_bos_token", expected: "a boolean", found: "a string"))
        let eos = Self.error { _ = try GenerationConfig(json: Data(#"{"eos_token_id": [1, "2"]}"#.utf8)) }
        #expect(
            eos
                == .wrongType(
                    file: "generation_config.json", path: "$.eos_token_id[1]", expected: "an integer", found: "a string"
                ))
        let temperature = Self.error { _ = try GenerationConfig(json: Data(#"{"temperature": true}"#.utf8)) }
        #expect(
            temperature
                == .wrongType(
                    file: "generation_config.json", path: "$.temperature", expected: "a number",
                    found: "a boolean"))
    }

    /// Truncated and corrupted copies of a real fixture either load or throw; none may crash.
    @Test func corruptedFilesNeverCrash() throws {
        let original = try Data(contentsOf: Fixtures.directory("llama2").appendingPathComponent("tokenizer.json"))
        var generator = SplitMix64(seed: 42)
        var thrown = 0
        for round in 0..<300 {
            var bytes = [UInt8](original)
            if round % 3 == 0 {
                bytes.removeSubrange(Int(generator.next() % UInt64(bytes.count))...)
            } else {
                for _ in 0..<(1 + round % 4) {
                    let index = Int(generator.next() % UInt64(bytes.count))
                    bytes[index] = UInt8(truncatingIfNeeded: generator.next())
                }
            }
            do {
                let tokenizer = try Tokenizer(tokenizerJSON: Data(bytes), config: nil)
                _ = tokenizer.decode(tokenizer.encode("Hello, wörld! 中文 😀"))
            } catch {
                thrown += 1
            }
        }
        #expect(thrown > 100)
    }
}

/// A small deterministic generator for the corruption test.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
