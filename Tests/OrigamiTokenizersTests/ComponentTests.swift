import Foundation
import OrigamiTokenizers
import Testing

/// Single pipeline stages against `tokenizers` run alone on the same configs (components.json): the split
/// regexes on random strings, normalizers, decoders on hand-picked token lists, post-processors.
@Suite struct ComponentTests {
    static var components: [String: Any] { (try? Fixtures.components()) ?? [:] }

    static func section(_ name: String) -> [[String: Any]] {
        components[name] as? [[String: Any]] ?? []
    }

    static func names(_ section: String) -> [String] {
        Self.section(section).compactMap { $0["name"] as? String }
    }

    static func entry(_ section: String, _ name: String) -> [String: Any] {
        Self.section(section).first { $0["name"] as? String == name } ?? [:]
    }

    @Test func fixturesArePresent() {
        #expect(Self.names("pre_tokenizers").count >= 20)
        #expect(Self.names("normalizers").count >= 10)
        #expect(Self.names("decoders").count >= 8)
        #expect(Self.names("post_processors").count >= 5)
        #expect(Self.names("models").count >= 5)
    }

    @Test(arguments: names("pre_tokenizers"))
    func preTokenizer(name: String) throws {
        let entry = Self.entry("pre_tokenizers", name)
        let tokenizer = try Tokenizer(
            tokenizerJSON: Fixtures.tokenizerJSON(preTokenizer: entry["config"]), config: nil)
        let cases = entry["cases"] as? [[String: Any]] ?? []
        #expect(!cases.isEmpty)
        for testCase in cases {
            let text = testCase["text"] as? String ?? ""
            let pieces = testCase["pieces"] as? [String] ?? []
            #expect(tokenizer.preTokenize(text).map(visible) == pieces.map(visible), "\(name): \(visible(text))")
        }
    }

    @Test(arguments: names("normalizers"))
    func normalizer(name: String) throws {
        let entry = Self.entry("normalizers", name)
        let tokenizer = try Tokenizer(tokenizerJSON: Fixtures.tokenizerJSON(normalizer: entry["config"]), config: nil)
        for testCase in entry["cases"] as? [[String: Any]] ?? [] {
            let text = testCase["text"] as? String ?? ""
            let expected = testCase["normalized"] as? String ?? ""
            #expect(visible(tokenizer.normalize(text)) == visible(expected), "\(name): \(visible(text))")
        }
    }

    /// Each token list is decoded through a vocabulary made of exactly those tokens.
    @Test(arguments: names("decoders"))
    func decoder(name: String) throws {
        let entry = Self.entry("decoders", name)
        for testCase in entry["cases"] as? [[String: Any]] ?? [] {
            let tokens = testCase["tokens"] as? [String] ?? []
            let expected = testCase["decoded"] as? String ?? ""
            var vocabulary: [String: Int] = [:]
            for token in tokens where vocabulary[token] == nil { vocabulary[token] = vocabulary.count }
            let tokenizer = try Tokenizer(
                tokenizerJSON: Fixtures.tokenizerJSON(vocabulary: vocabulary, decoder: entry["config"]), config: nil)
            let ids = tokens.map { vocabulary[$0]! }
            #expect(visible(tokenizer.decode(ids)) == visible(expected), "\(name): \(tokens)")
        }
    }

    @Test(arguments: names("post_processors"))
    func postProcessor(name: String) throws {
        let entry = Self.entry("post_processors", name)
        let json = try JSONSerialization.data(withJSONObject: entry["tokenizer"] ?? [:])
        let tokenizer = try Tokenizer(tokenizerJSON: json, config: nil)
        for testCase in entry["cases"] as? [[String: Any]] ?? [] {
            let text = testCase["text"] as? String ?? ""
            #expect(tokenizer.encode(text) == testCase["ids"] as? [Int], "\(name): \(text)")
            #expect(tokenizer.encode(text, addSpecialTokens: false) == testCase["ids_no_special"] as? [Int])
        }
    }

    /// BPE options: continuing_subword_prefix, fused and unfused unknown tokens, byte fallback with byte tokens
    /// missing, no unknown token at all.
    @Test(arguments: names("models"))
    func model(name: String) throws {
        let entry = Self.entry("models", name)
        let tokenizer = try Tokenizer(
            tokenizerJSON: JSONSerialization.data(withJSONObject: entry["tokenizer"] ?? [:]), config: nil)
        let cases = entry["cases"] as? [[String: Any]] ?? []
        #expect(!cases.isEmpty)
        for testCase in cases {
            let text = testCase["text"] as? String ?? ""
            let ids = tokenizer.encode(text)
            #expect(ids == testCase["ids"] as? [Int], "\(name): \(visible(text))")
            #expect(tokenizer.tokens(for: ids) == testCase["tokens"] as? [String], "\(name): \(visible(text))")
        }
    }

    /// The Swift `Regex` fallback, given the known patterns in a spelling the hand-written matchers do not
    /// claim, must split the random strings exactly as Oniguruma did. Strings with `ſ` are left out: under
    /// `(?i:...)` Oniguruma folds it to `s` and Swift does not (a documented limit of the fallback).
    @Test(arguments: ["gpt2-split", "llama3-split", "qwen2-split", "bloom-split"])
    func regexFallbackAgreesWithOniguruma(name: String) throws {
        let entry = Self.entry("pre_tokenizers", name)
        var config = try #require(entry["config"] as? [String: Any])
        let pattern = try #require((config["pattern"] as? [String: Any])?["Regex"] as? String)
        config["pattern"] = ["Regex": "(?:\(pattern))"]
        let tokenizer = try Tokenizer(tokenizerJSON: Fixtures.tokenizerJSON(preTokenizer: config), config: nil)
        for testCase in (entry["cases"] as? [[String: Any]] ?? []).prefix(120) {
            let text = testCase["text"] as? String ?? ""
            if text.unicodeScalars.contains("\u{17F}") { continue }
            let pieces = testCase["pieces"] as? [String] ?? []
            #expect(tokenizer.preTokenize(text).map(visible) == pieces.map(visible), "\(name): \(visible(text))")
        }
    }

    /// The character classes behind the hand-written matchers, over code points sampled every 7 across the
    /// assigned planes, against Oniguruma (`\s`, `\p{L}`, `\p{N}`) and Rust's char predicates. Code points
    /// assigned after Unicode 15.0 are left out: the engines ship different Unicode versions.
    @Test func unicodeClassesMatchOnigurumaAndRust() throws {
        let classes = Self.components["unicode_classes"] as? [String: Any] ?? [:]
        let points = (classes["points"] as? [Int] ?? []).compactMap { Unicode.Scalar(UInt32($0)) }
        #expect(points.count > 20_000)
        var table: [String: [Bool]] = [:]
        for key in ["letter", "number", "whitespace", "rust_whitespace", "rust_punctuation", "rust_numeric"] {
            table[key] = (classes[key] as? String ?? "").map { $0 == "1" }
            #expect(table[key]?.count == points.count)
        }
        func bits(_ key: String) -> [Bool] { table[key] ?? [] }
        func knownToAll(_ scalar: Unicode.Scalar) -> Bool {
            guard let age = scalar.properties.age else { return true }
            return age.major < 15 || (age.major == 15 && age.minor == 0)
        }

        // \p{L}: GPT-2's regex keeps "a" and a letter together and splits anything else off.
        let gpt2 = try Tokenizer(
            tokenizerJSON: Fixtures.tokenizerJSON(preTokenizer: [
                "type": "Split",
                "pattern": ["Regex": #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#],
                "behavior": "Isolated", "invert": false,
            ]), config: nil)
        // WhitespaceSplit and Punctuation(Removed) drop exactly the class members.
        let whitespace = try Tokenizer(
            tokenizerJSON: Fixtures.tokenizerJSON(preTokenizer: ["type": "WhitespaceSplit"]), config: nil)
        let punctuation = try Tokenizer(
            tokenizerJSON: Fixtures.tokenizerJSON(preTokenizer: ["type": "Punctuation", "behavior": "Removed"]),
            config: nil)
        let digits = try Tokenizer(
            tokenizerJSON: Fixtures.tokenizerJSON(preTokenizer: ["type": "Digits", "individual_digits": false]),
            config: nil)

        var mismatches: [String] = []
        for (index, scalar) in points.enumerated() where knownToAll(scalar) {
            let single = String(scalar)
            let hex = String(scalar.value, radix: 16)
            if (gpt2.preTokenize("a" + single).count == 1) != bits("letter")[index] { mismatches.append("L \(hex)") }
            if (gpt2.preTokenize("1" + single).count == 1) != bits("number")[index] { mismatches.append("N \(hex)") }
            if whitespace.preTokenize(single).isEmpty != bits("whitespace")[index] { mismatches.append("s \(hex)") }
            if whitespace.preTokenize(single).isEmpty != bits("rust_whitespace")[index] {
                mismatches.append("ws \(hex)")
            }
            if punctuation.preTokenize(single).isEmpty != bits("rust_punctuation")[index] {
                mismatches.append("P \(hex)")
            }
            if (digits.preTokenize("a" + single + "a").count == 3) != bits("rust_numeric")[index] {
                mismatches.append("numeric \(hex)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(40))")
    }
}
