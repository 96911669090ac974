public import Foundation

/// The parts of `tokenizer_config.json` that change how text is encoded, decoded or prompted.
///
/// transformers 5 ignores `add_bos_token`/`add_eos_token` whenever tokenizer.json exists (the post-processor in
/// tokenizer.json decides); they are exposed here for callers that build prompts themselves.
public struct TokenizerConfig: Sendable, Equatable {
    public var bosToken: String?
    public var eosToken: String?
    public var unkToken: String?
    public var padToken: String?
    public var sepToken: String?
    public var clsToken: String?
    public var maskToken: String?
    public var additionalSpecialTokens: [String] = []
    public var addBosToken: Bool?
    public var addEosToken: Bool?
    /// The default chat template: the plain string, the entry named "default" of a list, or the only entry.
    public var chatTemplate: String?
    /// Every named template when the config gives a list (`[{name, template}]`); "default" for a plain string.
    public var chatTemplates: [String: String] = [:]
    /// nil when absent or when the file holds transformers' "no limit" sentinel (about 1e30).
    public var modelMaxLength: Int?
    public var cleanUpTokenizationSpaces: Bool?
    /// transformers 5 skips the clean-up pass for BPE models unless this is set.
    public var cleanUpTokenizationSpacesForBPE: Bool = false
    public var tokenizerClass: String?
    public var addPrefixSpace: Bool?
    public var legacy: Bool?

    public init() {}

    /// Reads `tokenizer_config.json`.
    public init(contentsOf url: URL) throws(TokenizerError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadableFile(file: url.lastPathComponent, reason: "\(url.path): \(error.localizedDescription)")
        }
        try self.init(json: data, file: url.lastPathComponent)
    }

    public init(json data: Data, file: String = "tokenizer_config.json") throws(TokenizerError) {
        try self.init(JSONNode.parse(Array(data), file: file))
    }

    init(_ root: JSONNode) throws(TokenizerError) {
        bosToken = try Self.tokenContent(root.optional("bos_token"))
        eosToken = try Self.tokenContent(root.optional("eos_token"))
        unkToken = try Self.tokenContent(root.optional("unk_token"))
        padToken = try Self.tokenContent(root.optional("pad_token"))
        sepToken = try Self.tokenContent(root.optional("sep_token"))
        clsToken = try Self.tokenContent(root.optional("cls_token"))
        maskToken = try Self.tokenContent(root.optional("mask_token"))
        for key in ["additional_special_tokens", "extra_special_tokens"] {
            guard let list = try root.optional(key) else { continue }
            // transformers 5 also allows a name → token object here.
            if case .object = list.value {
                for (_, node) in try list.entries() {
                    if let content = try Self.tokenContent(node) { additionalSpecialTokens.append(content) }
                }
            } else {
                for node in try list.array() {
                    if let content = try Self.tokenContent(node) { additionalSpecialTokens.append(content) }
                }
            }
        }
        addBosToken = try root.optionalBool("add_bos_token")
        addEosToken = try root.optionalBool("add_eos_token")
        if let templateNode = try root.optional("chat_template") {
            switch templateNode.value {
            case .string(let template):
                chatTemplates["default"] = template
            case .array:
                for entry in try templateNode.array() {
                    chatTemplates[try entry.string("name")] = try entry.string("template")
                }
            default:
                throw templateNode.wrongType("a string or a list of {name, template}")
            }
            chatTemplate = chatTemplates["default"] ?? (chatTemplates.count == 1 ? chatTemplates.values.first : nil)
        }
        if let lengthNode = try root.optional("model_max_length") {
            let length = try lengthNode.double()
            modelMaxLength = length >= 0 && length < 1e18 ? Int(length) : nil
        }
        cleanUpTokenizationSpaces = try root.optionalBool("clean_up_tokenization_spaces")
        cleanUpTokenizationSpacesForBPE =
            try root.optionalBool("clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output") ?? false
        tokenizerClass = try root.optionalString("tokenizer_class")
        addPrefixSpace = try root.optionalBool("add_prefix_space")
        legacy = try root.optionalBool("legacy")
    }

    /// A special token written as a string or as an AddedToken object (`{"content": ..., "lstrip": ...}`).
    private static func tokenContent(_ node: JSONNode?) throws(TokenizerError) -> String? {
        guard let node else { return nil }
        if case .string(let content) = node.value { return content }
        guard case .object = node.value else { throw node.wrongType("a string or a token object") }
        return try node.string("content")
    }

    /// The named special tokens, in transformers' attribute order.
    var namedSpecialTokens: [String] {
        [bosToken, eosToken, unkToken, sepToken, padToken, clsToken, maskToken].compactMap { $0 }
            + additionalSpecialTokens
    }
}

/// `generation_config.json`: the sampling defaults a checkpoint ships with. Every field is optional; the runtime
/// decides what an absent one means.
public struct GenerationConfig: Sendable, Equatable {
    public var bosTokenId: Int?
    /// One id or several (Llama 3 instruct stops on both `<|end_of_text|>` and `<|eot_id|>`).
    public var eosTokenIds: [Int]?
    public var padTokenId: Int?
    public var maxLength: Int?
    public var maxNewTokens: Int?
    public var doSample: Bool?
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?
    public var repetitionPenalty: Double?

    public init() {}

    public init(contentsOf url: URL) throws(TokenizerError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadableFile(file: url.lastPathComponent, reason: "\(url.path): \(error.localizedDescription)")
        }
        try self.init(json: data, file: url.lastPathComponent)
    }

    public init(json data: Data, file: String = "generation_config.json") throws(TokenizerError) {
        let root = try JSONNode.parse(Array(data), file: file)
        bosTokenId = try root.optionalInt("bos_token_id")
        if let eos = try root.optional("eos_token_id") {
            if case .array = eos.value {
                var ids: [Int] = []
                for node in try eos.array() { ids.append(try node.int()) }
                eosTokenIds = ids
            } else {
                eosTokenIds = [try eos.int()]
            }
        }
        padTokenId = try root.optionalInt("pad_token_id")
        maxLength = try root.optionalInt("max_length")
        maxNewTokens = try root.optionalInt("max_new_tokens")
        doSample = try root.optionalBool("do_sample")
        temperature = try root.optionalDouble("temperature")
        topK = try root.optionalInt("top_k")
        topP = try root.optionalDouble("top_p")
        repetitionPenalty = try root.optionalDouble("repetition_penalty")
    }
}
