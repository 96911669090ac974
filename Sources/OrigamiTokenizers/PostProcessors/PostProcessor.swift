/// Adds the special tokens that frame an encoded sequence (`<s> $A`, `[CLS] $A [SEP]`), keyed in tokenizer.json
/// by `post_processor.type`. Only single sequences are supported: Origami never encodes pairs.
protocol PostProcessor: Sendable {
    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int]
}

enum PostProcessors {
    static let supported = ["TemplateProcessing", "ByteLevel", "RobertaProcessing", "BertProcessing", "Sequence"]

    static func make(_ node: JSONNode) throws(TokenizerError) -> any PostProcessor {
        switch try node.componentType(kind: "post-processor", supported: supported) {
        case "TemplateProcessing":
            return try TemplateProcessor(node)
        case "ByteLevel":
            // Only adjusts offsets, which Origami does not report.
            return SequenceProcessor(stages: [])
        case "RobertaProcessing", "BertProcessing":
            return FramingProcessor(
                prefix: [try specialTokenId(try node.required("cls"))],
                suffix: [try specialTokenId(try node.required("sep"))])
        default:  // Sequence
            var stages: [any PostProcessor] = []
            for stage in try node.required("processors").array() { stages.append(try make(stage)) }
            return SequenceProcessor(stages: stages)
        }
    }

    /// `["</s>", 2]`: a token and its id.
    private static func specialTokenId(_ node: JSONNode) throws(TokenizerError) -> Int {
        let pair = try node.array()
        guard pair.count == 2 else { throw node.invalid("expected [token, id]") }
        _ = try pair[0].string()
        return try pair[1].int()
    }
}

struct SequenceProcessor: PostProcessor {
    let stages: [any PostProcessor]

    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        var current = ids
        for stage in stages { current = stage.process(current, addSpecialTokens: addSpecialTokens) }
        return current
    }
}

/// Fixed ids before and after the sequence (RoBERTa, BERT).
struct FramingProcessor: PostProcessor {
    let prefix: [Int]
    let suffix: [Int]

    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        addSpecialTokens ? prefix + ids + suffix : ids
    }
}

/// `TemplateProcessing`'s `single` template: special-token pieces and the `$A` sequence, e.g. `<s> $A </s>`.
struct TemplateProcessor: PostProcessor {
    enum Part: Sendable {
        case special([Int])
        case sequence
    }

    let parts: [Part]

    init(_ node: JSONNode) throws(TokenizerError) {
        var specialIds: [String: [Int]] = [:]
        if let specialNode = try node.optional("special_tokens") {
            for (name, entry) in try specialNode.entries() {
                var ids: [Int] = []
                for idNode in try entry.required("ids").array() { ids.append(try idNode.int()) }
                specialIds[name] = ids
            }
        }
        var parts: [Part] = []
        for partNode in try node.required("single").array() {
            if let special = try partNode.optional("SpecialToken") {
                let idNode = try special.required("id")
                let name = try idNode.string()
                guard let ids = specialIds[name] else {
                    throw idNode.invalid("special token \(name.debugDescription) is missing from special_tokens")
                }
                parts.append(.special(ids))
            } else if try partNode.optional("Sequence") != nil {
                parts.append(.sequence)
            } else {
                throw partNode.invalid("expected a \"SpecialToken\" or \"Sequence\" piece")
            }
        }
        self.parts = parts
    }

    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        guard addSpecialTokens else { return ids }
        var output: [Int] = []
        output.reserveCapacity(ids.count + 4)
        for part in parts {
            switch part {
            case .special(let specialIds): output.append(contentsOf: specialIds)
            case .sequence: output.append(contentsOf: ids)
            }
        }
        return output
    }
}
