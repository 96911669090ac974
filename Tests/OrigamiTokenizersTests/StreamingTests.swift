import Foundation
import OrigamiTokenizers
import Testing

@Suite struct StreamingTests {
    /// Pushes every id and returns what each push produced, then the flush.
    static func stream(_ tokenizer: Tokenizer, _ ids: [Int], skipSpecialTokens: Bool = false) -> (
        chunks: [String], rest: String
    ) {
        var decoder = tokenizer.makeStreamingDecoder(skipSpecialTokens: skipSpecialTokens)
        let chunks = ids.map { decoder.push($0) }
        return (chunks, decoder.flush())
    }

    /// Byte-level BPE splits an emoji's four UTF-8 bytes over several tokens: nothing comes out until the last.
    @Test func byteLevelHoldsPartialCharacters() throws {
        let tokenizer = try Fixtures.tokenizer("gpt2")
        let ids = tokenizer.encode("a😀b")
        #expect(ids.count > 3)
        let (chunks, rest) = Self.stream(tokenizer, ids)
        #expect(chunks.joined() + rest == "a😀b")
        for chunk in chunks {
            #expect(!chunk.unicodeScalars.contains("\u{FFFD}"))
        }
        #expect(chunks.contains("😀") || chunks.contains { $0.contains("😀") })
        #expect(chunks.filter(\.isEmpty).count >= 1)
    }

    /// Byte-fallback tokens (`<0xE4><0xB8><0xAD>` for 中) come out as whole characters.
    @Test func byteFallbackHoldsPartialCharacters() throws {
        let tokenizer = try Fixtures.tokenizer("llama2")
        let text = "x 中文😀 y"
        let ids = tokenizer.encode(text, addSpecialTokens: false)
        #expect(tokenizer.tokens(for: ids).contains("<0xF0>"))
        let (chunks, rest) = Self.stream(tokenizer, ids)
        #expect(chunks.joined() + rest == tokenizer.decode(ids))
        #expect(chunks.joined() + rest == text)
        for chunk in chunks {
            #expect(!chunk.unicodeScalars.contains("\u{FFFD}"))
        }
    }

    /// Invalid byte runs still concatenate to what `decode` gives, even where a valid character in the run
    /// turns into U+FFFD because of a later byte.
    @Test func invalidBytesMatchDecode() throws {
        let tokenizer = try Fixtures.tokenizer("llama2")
        let byteE4 = try #require(tokenizer.id(of: "<0xE4>"))
        let byteA = try #require(tokenizer.id(of: "<0x41>"))
        let word = try #require(tokenizer.id(of: "▁the"))
        for ids in [[byteE4, byteA], [word, byteE4], [byteE4, word, byteA], [byteA, byteE4, byteE4]] {
            let (chunks, rest) = Self.stream(tokenizer, ids)
            #expect(visible(chunks.joined() + rest) == visible(tokenizer.decode(ids)), "\(tokenizer.tokens(for: ids))")
        }
        let gpt2 = try Fixtures.tokenizer("gpt2")
        let lead = try #require(gpt2.id(of: "ð"))  // 0xF0, a four-byte lead
        let hello = gpt2.encode("hello")
        let ids = [lead] + hello + [lead]
        let (chunks, rest) = Self.stream(gpt2, ids)
        #expect(visible(chunks.joined() + rest) == visible(gpt2.decode(ids)))
    }

    /// A long run of undecodable bytes still streams out (as U+FFFDs) instead of waiting for the flush.
    @Test func undecodableBytesDoNotStallTheStream() throws {
        let tokenizer = try Fixtures.tokenizer("gpt2")
        let continuation = try #require(tokenizer.id(of: "Ģ"))  // byte 0x80: never starts a character
        let ids = [Int](repeating: continuation, count: 200) + tokenizer.encode(" ok")
        let (chunks, rest) = Self.stream(tokenizer, ids)
        #expect(chunks.prefix(150).joined().unicodeScalars.count >= 64)
        #expect(chunks.joined() + rest == tokenizer.decode(ids))
    }

    /// Metaspace decoding drops the first token's `▁` only: the stream must not treat each push as a first token.
    @Test func leadingSpaceStrippedOnlyOnce() throws {
        for family in ["mistral", "llama2"] {
            let tokenizer = try Fixtures.tokenizer(family)
            let ids = tokenizer.encode("one two  three", addSpecialTokens: false)
            let (chunks, rest) = Self.stream(tokenizer, ids)
            #expect(chunks.joined() + rest == tokenizer.decode(ids))
            #expect(chunks.joined() + rest == "one two  three")
        }
    }

    @Test func skippedSpecialTokensProduceNothing() throws {
        let tokenizer = try Fixtures.tokenizer("llama3")
        let ids = tokenizer.encode("<|start_header_id|>user<|end_header_id|> hi<|eot_id|>")
        let (chunks, rest) = Self.stream(tokenizer, ids, skipSpecialTokens: true)
        #expect(chunks.joined() + rest == tokenizer.decode(ids, skipSpecialTokens: true))
        #expect(chunks.first == "")
        let unknown = Self.stream(tokenizer, [999_999, -1])
        #expect(unknown.chunks == ["", ""] && unknown.rest == "")
    }

    /// With transformers' clean-up on, a space that ` .` or ` 's` would remove is held until the next text.
    @Test func cleanUpHoldsSpacesBack() throws {
        let tokenizer = try Fixtures.tokenizer("bloom")
        let text = "Yes , it 's fine . Do n't ' go ' !"
        let ids = tokenizer.encode(text, addSpecialTokens: false)
        let (chunks, rest) = Self.stream(tokenizer, ids)
        #expect(chunks.joined() + rest == tokenizer.decode(ids))
        // transformers 5.23 on the same ids.
        #expect(tokenizer.decode(ids) == "Yes, it's fine. Don't'go '!")
    }

    @Test func keepsGoingAfterFlush() throws {
        let tokenizer = try Fixtures.tokenizer("qwen2")
        var decoder = tokenizer.makeStreamingDecoder(skipSpecialTokens: false)
        let first = tokenizer.encode("Hello 世界")
        let second = tokenizer.encode(" again!")
        var text = first.map { decoder.push($0) }.joined() + decoder.flush()
        text += second.map { decoder.push($0) }.joined() + decoder.flush()
        #expect(text == tokenizer.decode(first + second))
        #expect(decoder.flush() == "")
    }

    /// Long streams stay exact: every golden text of every family back to back, with and without specials.
    @Test(arguments: Fixtures.families)
    func longStreamMatchesDecode(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        let ids = try Fixtures.goldens(family).cases.flatMap(\.ids)
        for skip in [false, true] {
            let (chunks, rest) = Self.stream(tokenizer, ids, skipSpecialTokens: skip)
            #expect(visible(chunks.joined() + rest) == visible(tokenizer.decode(ids, skipSpecialTokens: skip)))
        }
    }
}
