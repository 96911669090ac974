/// Decodes ids one at a time for streaming output. `push` returns only text that later ids cannot change: never
/// half a character (byte-level and byte-fallback tokens can split one across ids), never a space that a
/// decoder would strip or that transformers' clean-up would remove. `flush` returns the rest, and everything
/// returned concatenates to `decode(allIds)`.
///
/// Each push decodes the new ids together with the last committed token as context and keeps what follows
/// the context's own text, so the cost per id does not grow with the length of the stream. With a
/// `ByteFallback` decoder a run of `<0xAB>` tokens is held until another token ends it (or `flush`): one
/// invalid byte anywhere in a run turns the whole run into U+FFFDs, so no part of it is final before its end.
/// Should a decoder ever rewrite text already returned, the whole stream is decoded again and output resumes
/// past what was returned. The one inexact case: more than `maximumPending` ids of undecodable byte-level bytes
/// in a row, which are given out as U+FFFDs instead of being held (and re-decoded) without bound.
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private let skipSpecialTokens: Bool
    /// Token strings of every visible id pushed.
    private var tokens: [String] = []
    /// Tokens whose text has been produced.
    private var committed = 0
    /// Where the context window starts; the context is `tokens[contextStart..<committed]`.
    private var contextStart = 0
    /// The decoder's text for the context alone.
    private var contextText: [Unicode.Scalar] = []
    /// All text produced so far, before clean-up.
    private var produced: [Unicode.Scalar] = []
    /// Produced text held back because clean-up may still change it.
    private var held: [Unicode.Scalar] = []
    /// How many scalars of `produced` have been returned (after clean-up of the part before them).
    private var released = 0

    /// How many ids may wait for a character to complete before their text is given out as it stands.
    static let maximumPending = 64

    init(tokenizer: Tokenizer, skipSpecialTokens: Bool) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one id and returns the text it completes (often empty).
    public mutating func push(_ id: Int) -> String {
        guard let token = tokenizer.visibleTokens([id], skipSpecialTokens: skipSpecialTokens).first else { return "" }
        tokens.append(token)
        return advance(final: false)
    }

    /// Returns whatever is still held back. The decoder can keep going afterwards.
    public mutating func flush() -> String {
        advance(final: true)
    }

    private mutating func advance(final: Bool) -> String {
        guard committed < tokens.count || !held.isEmpty else { return "" }
        var delta: [Unicode.Scalar] = []
        if committed < tokens.count {
            if !final && tokenizer.decodesByteRuns && ByteFallbackDecoder.byte(of: tokens[tokens.count - 1]) != nil {
                return ""
            }
            let window = Array(tokens[contextStart...])
            let text = Array(tokenizer.decodeTokens(window).unicodeScalars)
            if text.starts(with: contextText) {
                delta = Array(text[contextText.count...])
            } else {
                let whole = Array(tokenizer.decodeTokens(tokens).unicodeScalars)
                delta = whole.count > produced.count ? Array(whole[produced.count...]) : []
            }
            // A trailing U+FFFD may be a character still arriving. Valid UTF-8 completes within a few ids, so
            // a longer wait means undecodable bytes: give them out rather than re-decode a growing window.
            if !final && delta.last == "\u{FFFD}" && tokens.count - committed < Self.maximumPending { return "" }
            produced.append(contentsOf: delta)
            committed = tokens.count
            moveContext()
        }
        guard tokenizer.cleansUpSpaces else { return String(scalars: delta) }
        held.append(contentsOf: delta)
        let cut = final ? held.count : safeCleanUpCut()
        let ready = Array(held[..<cut])
        held.removeFirst(cut)
        released += cut
        return Tokenizer.cleanUpTokenizationSpaces(String(scalars: ready))
    }

    /// The context for the next window: the last committed token, extended back over the byte-token run it
    /// ends (after a flush mid-run), since `ByteFallback` decodes a run as a whole.
    private mutating func moveContext() {
        var start = committed - 1
        while start > 0 && ByteFallbackDecoder.byte(of: tokens[start]) != nil
            && ByteFallbackDecoder.byte(of: tokens[start - 1]) != nil
        {
            start -= 1
        }
        contextStart = max(0, start)
        contextText = Array(tokenizer.decodeTokens(Array(tokens[contextStart..<committed])).unicodeScalars)
    }

    /// The longest prefix of `held` whose clean-up cannot depend on later text. Every clean-up pattern starts
    /// with a space and is at most four scalars long, so a cut with no space among the three scalars before it
    /// splits no occurrence, even after earlier replacements removed spaces.
    private func safeCleanUpCut() -> Int {
        var cut = held.count
        while cut > 0 {
            var safe = true
            for offset in 1...3 {
                let position = released + cut - offset
                guard position >= 0 else { break }
                let scalar = position >= released ? held[position - released] : produced[position]
                if scalar == " " {
                    safe = false
                    break
                }
            }
            if safe { return cut }
            cut -= 1
        }
        return 0
    }
}
