public import Foundation

/// A Hugging Face `tokenizer.json` tokenizer (BPE models), giving the ids, pieces and text that transformers 5
/// gives for the same files.
///
/// Encoding runs `tokenizers`' pipeline: added tokens are cut out of the raw text, the rest is normalized
/// (and searched again for added tokens that match normalized text), pre-tokenized into words, split into BPE
/// tokens, and framed by the post-processor. Decoding maps ids to token strings, runs the decoder chain and,
/// where transformers does, its clean-up pass.
///
/// When tokenizer_config.json names `LlamaTokenizer` (Llama-2, Mistral and their fine-tunes), transformers 5 keeps
/// only the vocabulary, merges, added tokens and post-processor of tokenizer.json and builds the rest itself (a
/// Metaspace pre-tokenizer instead of the legacy Prepend/Replace normalizer); this type does the same.
/// `add_bos_token`/`add_eos_token` are not applied: transformers 5 ignores them when tokenizer.json exists.
///
/// Immutable after loading, so one instance can serve any number of threads.
public final class Tokenizer: Sendable {
    let model: BPEModel
    /// id → the added token's string as `tokenizers` shows it: a `normalized` token appears normalized
    /// (Llama-2's `<<SYS>>` as `▁<<SYS>>`), which is also what the decoder receives.
    private let addedTokenStrings: [Int: String]
    /// Written content → id.
    private let addedTokenIds: [ExactString: Int]
    private let rawMatcher: AddedTokenMatcher?
    private let normalizedMatcher: AddedTokenMatcher?
    private let normalizer: (any Normalizer)?
    private let preTokenizer: (any PreTokenizer)?
    private let postProcessor: (any PostProcessor)?
    private let decoder: (any TokenDecoder)?
    /// Contents of special added tokens; `skipSpecialTokens` drops any token spelled like one.
    private let specialContents: Set<ExactString>
    /// transformers' `clean_up_tokenization` after decoding.
    let cleansUpSpaces: Bool
    /// Whether the decoder joins runs of `<0xAB>` tokens, so a streaming decoder must hold them.
    let decodesByteRuns: Bool

    public let config: TokenizerConfig?
    /// Ids of the added tokens marked special.
    public let specialTokenIds: Set<Int>
    /// One past the largest id the model or the added tokens use.
    public let vocabularySize: Int
    /// The id of the config's `bos_token`, if it has one in the vocabulary.
    public let bosTokenId: Int?
    /// The id of the config's `eos_token`; merge with `GenerationConfig.eosTokenIds` to know when to stop.
    public let eosTokenIds: [Int]

    /// Reads `tokenizer.json`, and `tokenizer_config.json` and `chat_template.jinja` when present.
    public convenience init(directory: URL) throws(TokenizerError) {
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        let data: Data
        do {
            data = try Data(contentsOf: tokenizerURL)
        } catch {
            throw .unreadableFile(file: "tokenizer.json", reason: "\(tokenizerURL.path): \(error.localizedDescription)")
        }
        var config: TokenizerConfig?
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: configURL.path) {
            config = try TokenizerConfig(contentsOf: configURL)
        }
        // transformers 5 saves the template beside the config; the file wins over the config's entry.
        let templateURL = directory.appendingPathComponent("chat_template.jinja")
        if FileManager.default.fileExists(atPath: templateURL.path) {
            do {
                let template = try String(contentsOf: templateURL, encoding: .utf8)
                var updated = config ?? TokenizerConfig()
                updated.chatTemplate = template
                updated.chatTemplates["default"] = template
                config = updated
            } catch {
                throw .unreadableFile(file: "chat_template.jinja", reason: error.localizedDescription)
            }
        }
        try self.init(tokenizerJSON: data, config: config)
    }

    public init(tokenizerJSON data: Data, config: TokenizerConfig?) throws(TokenizerError) {
        let root = try JSONNode.parse(Array(data), file: "tokenizer.json")
        let modelNode = try root.required("model")
        let modelType = try modelNode.optionalString("type") ?? "BPE"
        guard modelType == "BPE" else {
            throw .unsupportedComponent(
                file: root.file, path: modelNode.path, kind: "model", type: modelType, supported: ["BPE"])
        }
        var model = try BPEModel(modelNode)
        var normalizer = try root.optional("normalizer").map { node throws(TokenizerError) in
            try Normalizers.make(node)
        }
        var preTokenizer = try root.optional("pre_tokenizer").map { node throws(TokenizerError) in
            try PreTokenizers.make(node)
        }
        postProcessor = try root.optional("post_processor").map { node throws(TokenizerError) in
            try PostProcessors.make(node)
        }
        var decoder = try root.optional("decoder").map { node throws(TokenizerError) in try Decoders.make(node) }
        if let config, ["LlamaTokenizer", "LlamaTokenizerFast"].contains(config.tokenizerClass) {
            // transformers 5 builds this class's own pipeline around the file's vocabulary, merges, added tokens
            // and post-processor; the file's normalizer, pre-tokenizer and decoder are not used.
            let addPrefixSpace = config.addPrefixSpace ?? true
            model = model.withLlamaTokenizerSettings()
            normalizer = nil
            preTokenizer = MetaspacePreTokenizer(
                replacement: "▁", prependScheme: addPrefixSpace ? (config.legacy == true ? .always : .first) : .never,
                split: false)
            var stages: [any TokenDecoder] = [
                ReplaceDecoder(pattern: LiteralPattern(literal: ["▁"]), content: [" "]), ByteFallbackDecoder(),
                FuseDecoder(),
            ]
            if addPrefixSpace { stages.append(StripDecoder(content: " ", start: 1, stop: 0)) }
            decoder = SequenceDecoder(stages: stages)
        }
        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.decoder = decoder
        decodesByteRuns = decoder.map(Decoders.containsByteFallback) ?? false

        var tokens: [AddedToken] = []
        for node in try root.optional("added_tokens")?.array() ?? [] {
            var token = try AddedToken(node)
            // `tokenizers` gives a token already in the model vocabulary that vocabulary's id.
            if let id = model.id(of: token.content) { token.id = id }
            guard token.id >= 0 && token.id < BPEModel.maximumTokenId else {
                throw node.invalid("token id \(token.id) is outside 0..<\(BPEModel.maximumTokenId)")
            }
            tokens.append(token)
        }
        Self.addConfigSpecialTokens(config, model: model, to: &tokens)

        var byId: [Int: AddedToken] = [:]
        var ids: [ExactString: Int] = [:]
        for token in tokens where !token.content.isEmpty && ids[ExactString(token.content)] == nil {
            byId[token.id] = token
            ids[ExactString(token.content)] = token.id
        }
        addedTokenIds = ids
        let unique = byId.values.sorted { $0.id < $1.id }
        var strings: [Int: String] = [:]
        var normalizedEntries: [([Unicode.Scalar], AddedToken)] = []
        for token in unique {
            guard token.normalized else {
                strings[token.id] = token.content
                continue
            }
            let scalars = Array(token.content.unicodeScalars)
            let normalized = normalizer?.normalize(scalars) ?? scalars
            strings[token.id] = String(scalars: normalized)
            normalizedEntries.append((normalized, token))
        }
        addedTokenStrings = strings
        rawMatcher = AddedTokenMatcher(
            unique.filter { !$0.normalized }.map { (Array($0.content.unicodeScalars), $0) })
        normalizedMatcher = AddedTokenMatcher(normalizedEntries)
        specialContents = Set(unique.filter(\.special).map { ExactString(strings[$0.id] ?? $0.content) })
        specialTokenIds = Set(unique.filter(\.special).map(\.id))
        vocabularySize = max(model.tokens.count, (unique.map(\.id).max() ?? -1) + 1)

        self.config = config
        cleansUpSpaces = config?.cleanUpTokenizationSpaces == true && config?.cleanUpTokenizationSpacesForBPE == true
        bosTokenId = config?.bosToken.flatMap { ids[ExactString($0)] ?? model.id(of: $0) }
        eosTokenIds = config?.eosToken.flatMap { ids[ExactString($0)] ?? model.id(of: $0) }.map { [$0] } ?? []
    }

    /// transformers registers the config's named special tokens with the backend when tokenizer.json lacks
    /// them; a token new to the vocabulary gets the next id the way `tokenizers`' `add_tokens` assigns it.
    private static func addConfigSpecialTokens(
        _ config: TokenizerConfig?, model: BPEModel, to tokens: inout [AddedToken]
    ) {
        guard let config else { return }
        for content in config.namedSpecialTokens where !content.isEmpty {
            guard !tokens.contains(where: { $0.content.utf8.elementsEqual(content.utf8) }) else { continue }
            let id: Int
            if let existing = model.id(of: content) {
                id = existing
            } else {
                let modelSize = model.count
                if let largest = tokens.map(\.id).max() {
                    id = largest >= modelSize || modelSize == 0 ? largest + 1 : modelSize
                } else {
                    id = modelSize
                }
            }
            tokens.append(AddedToken(id: id, content: content, special: true, normalized: false))
        }
    }

    // MARK: Encoding

    /// The ids for `text`. With `addSpecialTokens` false the post-processor adds nothing (no BOS), but special
    /// tokens written in the text are still recognised, as in transformers.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        // Words repeat: within one call, each distinct word goes through BPE once.
        var cache: [ScalarsKey: [Int]] = [:]
        for segment in segments(text) {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let piece):
                let words = preTokenizer?.preTokenize([piece]) ?? [piece]
                for word in words {
                    let key = ScalarsKey(scalars: word.scalars)
                    if let cached = cache[key] {
                        ids.append(contentsOf: cached)
                        continue
                    }
                    let start = ids.count
                    model.tokenize(word.scalars, into: &ids)
                    if cache.count < 100_000 { cache[key] = Array(ids[start...]) }
                }
            }
        }
        return postProcessor?.process(ids, addSpecialTokens: addSpecialTokens) ?? ids
    }

    /// Added tokens cut out of the raw text, then of each normalized stretch between them.
    private func segments(_ text: String) -> [Segment] {
        let whole = Piece(Array(text.unicodeScalars), startsAtOrigin: true)
        var raw: [Segment] = []
        if let rawMatcher {
            rawMatcher.split(whole, into: &raw)
        } else {
            raw = [.text(whole)]
        }
        var result: [Segment] = []
        result.reserveCapacity(raw.count)
        for segment in raw {
            guard case .text(var piece) = segment else {
                result.append(segment)
                continue
            }
            if let normalizer { piece.scalars = normalizer.normalize(piece.scalars) }
            if piece.scalars.isEmpty { continue }
            if let normalizedMatcher {
                normalizedMatcher.split(piece, into: &result)
            } else {
                result.append(.text(piece))
            }
        }
        return result
    }

    /// The normalizer alone applied to `text` (`normalizer.normalize_str`), for inspection.
    public func normalize(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        return String(scalars: normalizer?.normalize(scalars) ?? scalars)
    }

    /// The pre-tokenizer alone applied to `text` (`pre_tokenizer.pre_tokenize_str`), for inspection.
    public func preTokenize(_ text: String) -> [String] {
        let piece = Piece(Array(text.unicodeScalars), startsAtOrigin: true)
        let pieces = preTokenizer?.preTokenize([piece]) ?? (piece.scalars.isEmpty ? [] : [piece])
        return pieces.map { String(scalars: $0.scalars) }
    }

    // MARK: Vocabulary

    /// The token string for each id, as stored in the vocabulary (`Ġhello`, `▁the`, `<0x0A>`); an empty string
    /// for ids outside the vocabulary.
    public func tokens(for ids: [Int]) -> [String] {
        ids.map { token(for: $0) ?? "" }
    }

    func token(for id: Int) -> String? {
        if let added = addedTokenStrings[id] { return added }
        guard id >= 0 && id < model.tokens.count else { return nil }
        return model.tokens[id]
    }

    /// The id of a token string, added tokens (by their written content) first.
    public func id(of token: String) -> Int? {
        addedTokenIds[ExactString(token)] ?? model.id(of: token)
    }

    // MARK: Decoding

    /// The text for `ids`, as transformers' `decode(ids, skip_special_tokens:)`. Ids outside the vocabulary are
    /// dropped.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        let text = decodeTokens(visibleTokens(ids, skipSpecialTokens: skipSpecialTokens))
        return cleansUpSpaces ? Self.cleanUpTokenizationSpaces(text) : text
    }

    /// A decoder that takes ids one at a time and returns only complete text.
    public func makeStreamingDecoder(skipSpecialTokens: Bool = false) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecialTokens: skipSpecialTokens)
    }

    func visibleTokens(_ ids: [Int], skipSpecialTokens: Bool) -> [String] {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let token = token(for: id) else { continue }
            if skipSpecialTokens && specialContents.contains(ExactString(token)) { continue }
            tokens.append(token)
        }
        return tokens
    }

    /// The decoder chain without clean-up; no decoder joins tokens with spaces, as `tokenizers` does.
    func decodeTokens(_ tokens: [String]) -> String {
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decodeChain(tokens).joined()
    }

    /// transformers' `clean_up_tokenization`: spaces before punctuation and English contractions removed.
    static func cleanUpTokenizationSpaces(_ text: String) -> String {
        var scalars = Array(text.unicodeScalars)
        for (pattern, replacement) in [
            (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
            (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
        ] {
            scalars = ReplaceNormalizer(
                pattern: LiteralPattern(literal: Array(pattern.unicodeScalars)),
                content: Array(replacement.unicodeScalars)
            ).normalize(scalars)
        }
        return String(scalars: scalars)
    }
}
