import Foundation
import OrigamiTokenizers
import Testing

@Suite struct ConfigTests {
    @Test func readsSpecialTokensInBothSpellings() throws {
        let config = try TokenizerConfig(
            json: Data(
                #"""
                {
                  "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false, "normalized": false},
                  "eos_token": "</s>",
                  "unk_token": null,
                  "pad_token": "<pad>",
                  "additional_special_tokens": ["<extra_0>", {"content": "<extra_1>"}],
                  "add_bos_token": true,
                  "add_eos_token": false,
                  "model_max_length": 4096,
                  "clean_up_tokenization_spaces": false,
                  "tokenizer_class": "LlamaTokenizer",
                  "legacy": false,
                  "add_prefix_space": true
                }
                """#.utf8))
        #expect(config.bosToken == "<s>")
        #expect(config.eosToken == "</s>")
        #expect(config.unkToken == nil)
        #expect(config.padToken == "<pad>")
        #expect(config.additionalSpecialTokens == ["<extra_0>", "<extra_1>"])
        #expect(config.addBosToken == true)
        #expect(config.addEosToken == false)
        #expect(config.modelMaxLength == 4096)
        #expect(config.cleanUpTokenizationSpaces == false)
        #expect(config.tokenizerClass == "LlamaTokenizer")
        #expect(config.legacy == false)
        #expect(config.addPrefixSpace == true)
        #expect(config.chatTemplate == nil)
    }

    @Test func noLimitSentinelMeansNoMaximumLength() throws {
        let config = try TokenizerConfig(json: Data(#"{"model_max_length": 1000000000000000019884624838656}"#.utf8))
        #expect(config.modelMaxLength == nil)
    }

    @Test func chatTemplateListExposesTheDefault() throws {
        let config = try TokenizerConfig(
            contentsOf: Fixtures.directory("mistral").appendingPathComponent("tokenizer_config.json"))
        #expect(config.chatTemplate?.hasPrefix("{{ bos_token }}{% for m in messages %}") == true)
        #expect(config.chatTemplates["tool_use"] == "{{ bos_token }}[TOOL_CALLS]")
        #expect(config.chatTemplates.count == 2)
        let single = try TokenizerConfig(json: Data(#"{"chat_template": [{"name": "rag", "template": "R"}]}"#.utf8))
        #expect(single.chatTemplate == "R")
    }

    /// transformers 5 writes the template to chat_template.jinja; the directory loader picks it up.
    @Test func chatTemplateFileBesideTheConfig() throws {
        let tokenizer = try Fixtures.tokenizer("llama3")
        let template = try String(
            contentsOf: Fixtures.directory("llama3").appendingPathComponent("chat_template.jinja"), encoding: .utf8)
        #expect(tokenizer.config?.chatTemplate == template)
        #expect(template.contains("<|start_header_id|>"))
        #expect(tokenizer.config?.bosToken == "<|begin_of_text|>")
        #expect(tokenizer.config?.modelMaxLength == 131072)
    }

    @Test func generationConfigFields() throws {
        let config = try GenerationConfig(
            json: Data(
                #"""
                {"bos_token_id": 128000, "eos_token_id": [128001, 128009], "pad_token_id": 0, "max_length": 4096,
                 "max_new_tokens": 256, "do_sample": true, "temperature": 0.6, "top_k": 50, "top_p": 0.9,
                 "repetition_penalty": 1.1, "transformers_version": "4.40.0"}
                """#.utf8))
        #expect(config.bosTokenId == 128000)
        #expect(config.eosTokenIds == [128001, 128009])
        #expect(config.padTokenId == 0)
        #expect(config.maxLength == 4096)
        #expect(config.maxNewTokens == 256)
        #expect(config.doSample == true)
        #expect(config.temperature == 0.6)
        #expect(config.topK == 50)
        #expect(config.topP == 0.9)
        #expect(config.repetitionPenalty == 1.1)
        let single = try GenerationConfig(json: Data(#"{"eos_token_id": 2, "temperature": 1}"#.utf8))
        #expect(single.eosTokenIds == [2])
        #expect(single.temperature == 1.0)
        #expect(single.topP == nil)
        let empty = try GenerationConfig(json: Data("{}".utf8))
        #expect(empty == GenerationConfig())
    }

    /// The add_bos_token/add_eos_token flags are read, but as in transformers 5 they do not override the
    /// post-processor in tokenizer.json (llama2 says add_eos_token: true; its goldens carry no </s>).
    @Test func addTokenFlagsDoNotOverrideTheFile() throws {
        let llama2 = try Fixtures.tokenizer("llama2")
        #expect(llama2.config?.addEosToken == true)
        #expect(llama2.encode("hi").last != llama2.id(of: "</s>"))
        let mistral = try Fixtures.tokenizer("mistral")
        #expect(mistral.config?.addBosToken == true)
        #expect(mistral.encode("hi").first != mistral.bosTokenId)
    }

    /// A special token named in the config but missing from tokenizer.json becomes a special added token.
    @Test func configSpecialTokensJoinTheAddedTokens() throws {
        let json = Data(
            #"""
            {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "</s>": 2}, "merges": []}, "added_tokens": []}
            """#.utf8)
        var config = TokenizerConfig()
        config.eosToken = "</s>"
        config.padToken = "<pad>"
        let tokenizer = try Tokenizer(tokenizerJSON: json, config: config)
        #expect(tokenizer.encode("a</s>b") == [0, 2, 1])
        #expect(tokenizer.eosTokenIds == [2])
        #expect(tokenizer.id(of: "<pad>") == 3)
        #expect(tokenizer.specialTokenIds == [2, 3])
        #expect(tokenizer.vocabularySize == 4)
        // Expected values from transformers 5.23 on the same two files.
        #expect(tokenizer.decode([0, 2, 3, 1], skipSpecialTokens: true) == "a b")
        #expect(tokenizer.decode([0, 2, 3, 1]) == "a </s> <pad> b")
    }
}
