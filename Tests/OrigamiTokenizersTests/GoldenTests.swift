import Foundation
import OrigamiTokenizers
import Testing

/// Every family against what transformers 5 produced for the same files (Scripts/make_tokenizer_goldens.py).
@Suite struct GoldenTests {
    @Test(arguments: Fixtures.families)
    func idsMatchTransformers(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        for golden in try Fixtures.goldens(family).cases {
            #expect(tokenizer.encode(golden.text) == golden.ids, "\(family): \(visible(golden.text))")
            #expect(
                tokenizer.encode(golden.text, addSpecialTokens: false) == golden.ids_no_special,
                "\(family) without special tokens: \(visible(golden.text))")
        }
    }

    @Test(arguments: Fixtures.families)
    func tokensMatchTransformers(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        for golden in try Fixtures.goldens(family).cases {
            // Compared spelled out: Swift's String equality would accept a canonically equivalent token.
            #expect(
                tokenizer.tokens(for: golden.ids).map(visible) == golden.tokens.map(visible),
                "\(family): \(visible(golden.text))")
        }
    }

    @Test(arguments: Fixtures.families)
    func decodingMatchesTransformers(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        for golden in try Fixtures.goldens(family).cases {
            let context = "\(family): \(visible(golden.text))"
            #expect(visible(tokenizer.decode(golden.ids)) == visible(golden.decoded), "\(context)")
            #expect(
                visible(tokenizer.decode(golden.ids, skipSpecialTokens: true)) == visible(golden.decoded_skip_special),
                "\(context)")
            #expect(
                visible(tokenizer.decode(golden.ids_no_special)) == visible(golden.decoded_no_special), "\(context)")
        }
    }

    /// Where transformers gets the text back from its own ids, so do we (normalizers and unknown characters
    /// make some texts lossy; the goldens say which).
    @Test(arguments: Fixtures.families)
    func roundTripsWhereTransformersDoes(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        var roundTrips = 0
        for golden in try Fixtures.goldens(family).cases
        where visible(golden.decoded_no_special) == visible(golden.text) {
            let ids = tokenizer.encode(golden.text, addSpecialTokens: false)
            #expect(visible(tokenizer.decode(ids)) == visible(golden.text), "\(family): \(visible(golden.text))")
            roundTrips += 1
        }
        #expect(roundTrips > 0)
    }

    @Test(arguments: Fixtures.families)
    func streamingConcatenatesToDecode(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        for golden in try Fixtures.goldens(family).cases {
            for skip in [false, true] {
                let expected = skip ? golden.decoded_skip_special : golden.decoded
                var stream = tokenizer.makeStreamingDecoder(skipSpecialTokens: skip)
                var text = ""
                for id in golden.ids {
                    let chunk = stream.push(id)
                    // Never half a character: a replacement character only where the full decode has one.
                    #expect(!chunk.unicodeScalars.contains("\u{FFFD}") || expected.unicodeScalars.contains("\u{FFFD}"))
                    text += chunk
                }
                text += stream.flush()
                #expect(visible(text) == visible(expected), "\(family) skip=\(skip): \(visible(golden.text))")
            }
        }
    }

    @Test(arguments: Fixtures.families)
    func vocabularyAndSpecialTokens(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        let goldens = try Fixtures.goldens(family)
        #expect(tokenizer.vocabularySize == goldens.vocab_size)
        #expect(tokenizer.bosTokenId == goldens.bos_token_id)
        #expect(tokenizer.eosTokenIds == (goldens.eos_token_id.map { [$0] } ?? []))
        #expect(tokenizer.specialTokenIds == Set(goldens.special_added_ids))
        #expect(tokenizer.specialTokenIds.isSuperset(of: goldens.named_special_ids))
        for golden in goldens.cases {
            for (token, id) in zip(golden.tokens, golden.ids_of_tokens) {
                #expect(tokenizer.id(of: token) == id, "\(family): \(visible(token))")
            }
        }
    }
}
