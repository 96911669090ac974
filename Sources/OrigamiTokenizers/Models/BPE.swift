/// Byte-pair encoding as `tokenizers`' `BPE` model: each word starts as one symbol per scalar (or per UTF-8
/// byte token with `byte_fallback`, or the unknown token), then the lowest-ranked adjacent pair is merged until no
/// listed merge applies. Ties go to the leftmost pair, which is what `tokenizers`' (rank, position) heap yields.
struct BPEModel: Sendable {
    static let maximumTokenId = 1 << 24

    /// Token → id, compared scalar by scalar.
    private let vocabulary: [ExactString: Int]
    /// id → token; nil for ids the vocabulary skips.
    let tokens: [String?]
    private let merges: MergeTable
    private(set) var unknownId: Int?
    private(set) var fuseUnknown: Bool
    private(set) var byteFallback: Bool
    private(set) var ignoreMerges: Bool
    private(set) var continuingSubwordPrefix: String?
    private(set) var endOfWordSuffix: String?

    /// Ids of single-scalar tokens in the Basic Multilingual Plane, -1 where absent; others go through
    /// `astralScalarIds`. Only used when no prefix or suffix decorates the symbols.
    private let scalarIds: [Int32]
    private let astralScalarIds: [UInt32: Int32]
    /// Ids of `<0x00>`...`<0xFF>`, -1 where absent.
    private let byteTokenIds: [Int32]

    /// Words longer than this merge through a heap instead of rescanning all pairs after each merge.
    private static let quadraticLimit = 48

    init(_ node: JSONNode) throws(TokenizerError) {
        // Vocabularies and merges run to hundreds of thousands of entries: they are read from the JSON values
        // directly, and a node (with its path) is made only to report an error.
        let vocabularyNode = try node.required("vocab")
        let entries = try vocabularyNode.object()
        var vocabulary: [ExactString: Int] = [:]
        vocabulary.reserveCapacity(entries.keys.count)
        var maximumId = -1
        for (token, value) in zip(entries.keys, entries.values) {
            var id = -1
            if case .integer(let integer) = value {
                id = integer
            } else {
                id = try vocabularyNode.child(token, value).int()
            }
            guard id >= 0 && id < Self.maximumTokenId else {
                throw vocabularyNode.child(token, value).invalid("token id \(id) is outside 0..<\(Self.maximumTokenId)")
            }
            vocabulary[ExactString(token)] = id
            maximumId = max(maximumId, id)
        }
        var tokens = [String?](repeating: nil, count: maximumId + 1)
        for (token, id) in vocabulary { tokens[id] = token.value }
        self.vocabulary = vocabulary
        self.tokens = tokens

        continuingSubwordPrefix = try node.optionalString("continuing_subword_prefix").flatMap { $0.isEmpty ? nil : $0 }
        endOfWordSuffix = try node.optionalString("end_of_word_suffix").flatMap { $0.isEmpty ? nil : $0 }
        fuseUnknown = try node.bool("fuse_unk", default: false)
        byteFallback = try node.bool("byte_fallback", default: false)
        ignoreMerges = try node.bool("ignore_merges", default: false)
        if let unknownNode = try node.optional("unk_token") {
            let unknown = try unknownNode.string()
            guard let id = vocabulary[ExactString(unknown)] else {
                throw unknownNode.invalid("unknown token \(unknown.debugDescription) is not in the vocabulary")
            }
            unknownId = id
        } else {
            unknownId = nil
        }

        let prefixLength = continuingSubwordPrefix?.count ?? 0
        var mergeValues: [JSONValue] = []
        let mergesNode = try node.optional("merges")
        if let mergesNode {
            guard case .array(let elements) = mergesNode.value else { throw mergesNode.wrongType("an array") }
            mergeValues = elements
        }
        var merges = MergeTable(capacity: mergeValues.count)
        for (rank, value) in mergeValues.enumerated() {
            var pair: (String, String)?
            switch value {
            case .string(let line):
                // Split on the UTF-8 view: a combining mark after the space must stay with the right token.
                if let space = line.utf8.firstIndex(of: UInt8(ascii: " ")) {
                    let rest = line.utf8.index(after: space)
                    if !line.utf8[rest...].contains(UInt8(ascii: " ")) {
                        pair = (
                            String(decoding: line.utf8[..<space], as: UTF8.self),
                            String(decoding: line.utf8[rest...], as: UTF8.self)
                        )
                    }
                }
            case .array(let elements):
                if elements.count == 2, case .string(let left) = elements[0], case .string(let right) = elements[1] {
                    pair = (left, right)
                }
            default:
                break
            }
            func mergeNode() -> JSONNode { mergesNode?.element(rank, value) ?? node }
            guard let (left, right) = pair else { throw Self.mergeError(mergeNode()) }
            guard let leftId = vocabulary[ExactString(left)] else {
                throw mergeNode().invalid("token \(left.debugDescription) is not in the vocabulary")
            }
            guard let rightId = vocabulary[ExactString(right)] else {
                throw mergeNode().invalid("token \(right.debugDescription) is not in the vocabulary")
            }
            let merged = left + String(right.dropFirst(prefixLength))
            guard let mergedId = vocabulary[ExactString(merged)] else {
                throw mergeNode().invalid("merged token \(merged.debugDescription) is not in the vocabulary")
            }
            merges.insert(left: Int32(leftId), right: Int32(rightId), rank: Int32(rank), merged: Int32(mergedId))
        }
        self.merges = merges

        var scalarIds = [Int32](repeating: -1, count: 0x10000)
        var astral: [UInt32: Int32] = [:]
        for (token, id) in vocabulary {
            var iterator = token.value.unicodeScalars.makeIterator()
            guard let scalar = iterator.next(), iterator.next() == nil else { continue }
            if scalar.value < 0x10000 {
                scalarIds[Int(scalar.value)] = Int32(id)
            } else {
                astral[scalar.value] = Int32(id)
            }
        }
        self.scalarIds = scalarIds
        astralScalarIds = astral
        var byteTokenIds = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            if let id = vocabulary[ExactString(Self.byteToken(UInt8(byte)))] { byteTokenIds[byte] = Int32(id) }
        }
        self.byteTokenIds = byteTokenIds
    }

    /// The model transformers 5's `LlamaTokenizer` builds from the same vocabulary and merges: byte fallback
    /// and fused unknowns, but no unknown token (unencodable characters are dropped) and no `ignore_merges`.
    func withLlamaTokenizerSettings() -> BPEModel {
        var model = self
        model.unknownId = nil
        model.fuseUnknown = true
        model.byteFallback = true
        model.ignoreMerges = false
        model.continuingSubwordPrefix = nil
        model.endOfWordSuffix = nil
        return model
    }

    /// The id of a token in the model's vocabulary.
    func id(of token: String) -> Int? {
        vocabulary[ExactString(token)]
    }

    var count: Int { vocabulary.count }

    /// `<0xAB>`, the spelling `byte_fallback` tokens use.
    static func byteToken(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "<0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])>"
    }

    /// Why a merge is neither `"a b"` (exactly one space) nor `["a", "b"]`.
    private static func mergeError(_ node: JSONNode) -> TokenizerError {
        switch node.value {
        case .string(let line):
            return node.invalid("expected \"left right\" with exactly one space, found \(line.debugDescription)")
        case .array:
            return node.invalid("expected a pair of strings")
        default:
            return node.wrongType("a string or a pair of strings")
        }
    }

    /// Appends the ids of one pre-tokenized word.
    func tokenize(_ word: [Unicode.Scalar], into ids: inout [Int]) {
        if word.isEmpty { return }
        if ignoreMerges, let id = vocabulary[ExactString(String(scalars: word))] {
            ids.append(id)
            return
        }
        var symbols = initialSymbols(word)
        if symbols.count > Self.quadraticLimit {
            mergeWithHeap(&symbols)
        } else {
            mergeByScanning(&symbols)
        }
        for symbol in symbols { ids.append(Int(symbol)) }
    }

    private func initialSymbols(_ word: [Unicode.Scalar]) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.count)
        // A pending unknown token: added once a known symbol follows, so `fuse_unk` can extend it.
        var pendingUnknown = false
        let decorated = continuingSubwordPrefix != nil || endOfWordSuffix != nil
        for (index, scalar) in word.enumerated() {
            var id: Int32 = -1
            var symbolText: String?
            if decorated {
                var text = String(Character(scalar))
                if index > 0, let prefix = continuingSubwordPrefix { text = prefix + text }
                if index == word.count - 1, let suffix = endOfWordSuffix { text += suffix }
                id = vocabulary[ExactString(text)].map(Int32.init) ?? -1
                symbolText = text
            } else if scalar.value < 0x10000 {
                id = scalarIds[Int(scalar.value)]
            } else {
                id = astralScalarIds[scalar.value] ?? -1
            }
            if id >= 0 {
                if pendingUnknown, let unknownId {
                    symbols.append(Int32(unknownId))
                    pendingUnknown = false
                }
                symbols.append(id)
                continue
            }
            if byteFallback,
                let bytes = byteFallbackIds(symbolText.map { Array($0.utf8) } ?? Array(UTF8.encode(scalar)!))
            {
                // `tokenizers` adds these without flushing a pending unknown token.
                symbols.append(contentsOf: bytes)
                continue
            }
            guard let unknownId else { continue }
            if pendingUnknown && !fuseUnknown {
                symbols.append(Int32(unknownId))
            }
            pendingUnknown = true
        }
        if pendingUnknown, let unknownId { symbols.append(Int32(unknownId)) }
        return symbols
    }

    private func byteFallbackIds(_ bytes: [UInt8]) -> [Int32]? {
        var ids: [Int32] = []
        ids.reserveCapacity(bytes.count)
        for byte in bytes {
            let id = byteTokenIds[Int(byte)]
            if id < 0 { return nil }
            ids.append(id)
        }
        return ids
    }

    private func mergeByScanning(_ symbols: inout [Int32]) {
        while symbols.count > 1 {
            var bestRank = Int32.max
            var bestIndex = -1
            var bestMerged: Int32 = 0
            for index in 0..<symbols.count - 1 {
                if let (rank, merged) = merges.lookup(symbols[index], symbols[index + 1]), rank < bestRank {
                    bestRank = rank
                    bestIndex = index
                    bestMerged = merged
                }
            }
            if bestIndex < 0 { return }
            symbols[bestIndex] = bestMerged
            symbols.remove(at: bestIndex + 1)
        }
    }

    /// The same merges in O(n log n): a min-heap of (rank, position) over a linked list of symbols; entries whose
    /// pair has changed since they were pushed are skipped when popped.
    private func mergeWithHeap(_ symbols: inout [Int32]) {
        let count = symbols.count
        var next = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = index + 1 < count ? Int32(index + 1) : -1 }
            initialized = count
        }
        var previous = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = Int32(index - 1) }
            initialized = count
        }
        var alive = [Bool](repeating: true, count: count)
        var heap = MinHeap()
        for index in 0..<count - 1 {
            if let (rank, _) = merges.lookup(symbols[index], symbols[index + 1]) {
                heap.push(UInt64(UInt32(rank)) << 32 | UInt64(index))
            }
        }
        while let top = heap.pop() {
            let rank = Int32(truncatingIfNeeded: top >> 32)
            let position = Int(truncatingIfNeeded: top & 0xFFFF_FFFF)
            guard alive[position] else { continue }
            let right = Int(next[position])
            guard right >= 0, let (currentRank, merged) = merges.lookup(symbols[position], symbols[right]),
                currentRank == rank
            else { continue }
            symbols[position] = merged
            alive[right] = false
            let afterRight = next[right]
            next[position] = afterRight
            if afterRight >= 0 { previous[Int(afterRight)] = Int32(position) }
            let left = Int(previous[position])
            if left >= 0, let (leftRank, _) = merges.lookup(symbols[left], merged) {
                heap.push(UInt64(UInt32(leftRank)) << 32 | UInt64(left))
            }
            if afterRight >= 0, let (rightRank, _) = merges.lookup(merged, symbols[Int(afterRight)]) {
                heap.push(UInt64(UInt32(rightRank)) << 32 | UInt64(position))
            }
        }
        var compacted: [Int32] = []
        compacted.reserveCapacity(count)
        var index = 0
        while index >= 0 {
            compacted.append(symbols[index])
            index = Int(next[index])
        }
        symbols = compacted
    }
}

/// A binary min-heap of packed (rank, position) keys.
private struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ item: UInt64) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return first }
        items[0] = last
        var parent = 0
        while true {
            let left = parent * 2 + 1
            if left >= items.count { break }
            let right = left + 1
            let smallest = right < items.count && items[right] < items[left] ? right : left
            if items[parent] <= items[smallest] { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}
