import Foundation
import OrigamiTokenizers

/// Locates the committed fixtures relative to this file, so tests run the same from any working directory.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // OrigamiTokenizersTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/tokenizers")

    /// The families Scripts/make_tokenizer_goldens.py trains.
    static let families = ["gpt2", "llama3", "qwen2", "falcon", "bloom", "llama2", "llama2-hf", "mistral", "misc"]

    static func directory(_ family: String) -> URL {
        root.appendingPathComponent(family)
    }

    static func tokenizer(_ family: String) throws -> Tokenizer {
        try Tokenizer(directory: directory(family))
    }

    static func goldens(_ family: String) throws -> FamilyGoldens {
        let data = try Data(contentsOf: directory(family).appendingPathComponent("goldens.json"))
        return try JSONDecoder().decode(FamilyGoldens.self, from: data)
    }

    /// components.json as plain JSON objects: its stage configs are fed back into tokenizer.json documents.
    static func components() throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent("components.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// A tokenizer.json with a merge-less BPE model and the given stages.
    static func tokenizerJSON(
        vocabulary: [String: Int] = [:], normalizer: Any? = nil, preTokenizer: Any? = nil, decoder: Any? = nil
    ) throws -> Data {
        let document: [String: Any] = [
            "version": "1.0",
            "added_tokens": [Any](),
            "normalizer": normalizer ?? NSNull(),
            "pre_tokenizer": preTokenizer ?? NSNull(),
            "post_processor": NSNull(),
            "decoder": decoder ?? NSNull(),
            "model": ["type": "BPE", "vocab": vocabulary, "merges": [Any]()] as [String: Any],
        ]
        return try JSONSerialization.data(withJSONObject: document)
    }
}

/// One family's goldens.json, written by transformers.
struct FamilyGoldens: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let ids_no_special: [Int]
        let tokens: [String]
        let ids_of_tokens: [Int?]
        let decoded: String
        let decoded_skip_special: String
        let decoded_no_special: String
    }

    let family: String
    let vocab_size: Int
    let bos_token_id: Int?
    let eos_token_id: Int?
    let named_special_ids: [Int]
    let special_added_ids: [Int]
    let cases: [Case]
}

/// Text with every non-printable-ASCII scalar spelled out, so failures show invisible differences.
func visible(_ text: String) -> String {
    text.unicodeScalars.map { scalar in
        scalar.value >= 0x20 && scalar.value < 0x7F ? String(scalar) : "\\u{\(String(scalar.value, radix: 16))}"
    }.joined()
}
