/// A stretch of text on its way through the pipeline, as Unicode scalars: every stage of the Hugging Face
/// pipeline (normalizers, regexes, BPE's initial symbols) works on Rust `char`s, which are scalars, never on
/// grapheme clusters.
struct Piece: Sendable {
    var scalars: [Unicode.Scalar]
    /// Whether the piece begins at offset 0 of the caller's text. Metaspace's `prepend_scheme: first` adds its
    /// `▁` only there, so text after a leading special token gets none.
    var startsAtOrigin: Bool

    init(_ scalars: [Unicode.Scalar], startsAtOrigin: Bool) {
        self.scalars = scalars
        self.startsAtOrigin = startsAtOrigin
    }
}

/// What `Split` does with the text its pattern matches (`tokenizers`' `SplitDelimiterBehavior`).
enum SplitBehavior: String, Sendable, CaseIterable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    static func parse(_ node: JSONNode) throws(TokenizerError) -> SplitBehavior {
        let name = try node.string()
        // Serialized files use the enum's case names; the Python constructor's snake_case spellings appear in
        // hand-written files.
        let normalized = name.replacingUnderscoresAsCamelCase()
        guard
            let behavior = SplitBehavior.allCases.first(where: { $0.rawValue.lowercased() == normalized.lowercased() })
        else {
            let supported = SplitBehavior.allCases.map(\.rawValue).joined(separator: ", ")
            throw node.invalid("unknown split behavior \"\(name)\" (supported: \(supported))")
        }
        return behavior
    }
}

extension String {
    fileprivate func replacingUnderscoresAsCamelCase() -> String {
        split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}

/// Where a pattern matches inside a piece.
protocol MatchPattern: Sendable {
    /// Appends the ranges (scalar offsets) of the pattern's matches in `text`: in order, non-overlapping, the
    /// way Oniguruma's `find_iter` reports them.
    func appendMatches(in text: [Unicode.Scalar], to matches: inout [Range<Int>])
}

extension Piece {
    /// Splits the piece around `pattern`'s matches as `NormalizedString::split` does: the matches and the gaps
    /// between them cover the text; `invert` swaps which is which; `behavior` decides what is kept and merged.
    /// Empty results are dropped, as `PreTokenizedString::split` drops them.
    func split(on pattern: some MatchPattern, behavior: SplitBehavior, invert: Bool = false, into output: inout [Piece])
    {
        var matches: [Range<Int>] = []
        pattern.appendMatches(in: scalars, to: &matches)
        split(matches: matches, behavior: behavior, invert: invert, into: &output)
    }

    func split(matches: [Range<Int>], behavior: SplitBehavior, invert: Bool, into output: inout [Piece]) {
        if scalars.isEmpty { return }
        if matches.isEmpty && !invert {
            output.append(self)
            return
        }
        // Coverage of the whole text: (range, isMatch).
        var covered: [(range: Range<Int>, isMatch: Bool)] = []
        covered.reserveCapacity(matches.count * 2 + 1)
        var previous = 0
        for match in matches {
            if previous != match.lowerBound { covered.append((previous..<match.lowerBound, invert)) }
            covered.append((match, !invert))
            previous = match.upperBound
        }
        if previous != scalars.count { covered.append((previous..<scalars.count, invert)) }

        var kept: [(range: Range<Int>, remove: Bool)] = []
        kept.reserveCapacity(covered.count)
        switch behavior {
        case .isolated:
            kept = covered.map { ($0.range, false) }
        case .removed:
            kept = covered.map { ($0.range, $0.isMatch) }
        case .mergedWithPrevious:
            var previousMatch = false
            for entry in covered {
                if entry.isMatch && !previousMatch, let last = kept.last {
                    kept[kept.count - 1].range = last.range.lowerBound..<entry.range.upperBound
                } else {
                    kept.append((entry.range, false))
                }
                previousMatch = entry.isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for entry in covered.reversed() {
                if entry.isMatch && !previousMatch, let last = kept.last {
                    kept[kept.count - 1].range = entry.range.lowerBound..<last.range.upperBound
                } else {
                    kept.append((entry.range, false))
                }
                previousMatch = entry.isMatch
            }
            kept.reverse()
        case .contiguous:
            var previousMatch = false
            for entry in covered {
                if entry.isMatch == previousMatch, let last = kept.last {
                    kept[kept.count - 1].range = last.range.lowerBound..<entry.range.upperBound
                } else {
                    kept.append((entry.range, false))
                }
                previousMatch = entry.isMatch
            }
        }
        for entry in kept where !entry.remove && !entry.range.isEmpty {
            output.append(
                Piece(Array(scalars[entry.range]), startsAtOrigin: startsAtOrigin && entry.range.lowerBound == 0))
        }
    }
}

/// Matches a fixed scalar sequence (`Split` with a `String` pattern, `Replace` with a `String` pattern).
struct LiteralPattern: MatchPattern {
    let literal: [Unicode.Scalar]

    func appendMatches(in text: [Unicode.Scalar], to matches: inout [Range<Int>]) {
        guard let first = literal.first, text.count >= literal.count else { return }
        var index = 0
        let last = text.count - literal.count
        while index <= last {
            if text[index] == first && text[index..<index + literal.count].elementsEqual(literal) {
                matches.append(index..<index + literal.count)
                index += literal.count
            } else {
                index += 1
            }
        }
    }
}

/// Each scalar satisfying the predicate is one match (`tokenizers`' `Fn(char) -> bool` pattern).
struct ScalarPredicatePattern: MatchPattern {
    let predicate: @Sendable (Unicode.Scalar) -> Bool

    func appendMatches(in text: [Unicode.Scalar], to matches: inout [Range<Int>]) {
        for index in text.indices where predicate(text[index]) {
            matches.append(index..<index + 1)
        }
    }
}
