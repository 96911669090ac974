/// The rows of one forward pass: several sequences, each with its own KV cache, run together so every weight is read
/// once for all of them (continuous batching). Sequence `s` contributes `segments[s].count` consecutive rows starting at
/// row `segments[s].row`, at positions `segments[s].start ..< start + count` of its cache.
public struct TokenBatch: Sendable {
    public struct Segment: Sendable {
        public let cache: KVCache
        /// The first position: the cache's length when the batch was made.
        public let start: Int
        public let count: Int
        /// The segment's first row in the batch.
        public let row: Int
    }

    public let segments: [Segment]
    /// Rows in all: the sum of the segments' counts.
    public let rows: Int
    /// For every row, the index of its segment.
    public let segmentOfRow: [Int]

    /// - Parameter parts: each sequence's cache and how many new tokens it runs; the caches must be distinct.
    public init(_ parts: [(cache: KVCache, count: Int)]) {
        var segments: [Segment] = []
        var owner: [Int] = []
        var row = 0
        for (s, part) in parts.enumerated() {
            precondition(part.count > 0 && part.cache.length + part.count <= part.cache.capacity, "KV cache overflow")
            segments.append(Segment(cache: part.cache, start: part.cache.length, count: part.count, row: row))
            owner += repeatElement(s, count: part.count)
            row += part.count
        }
        precondition(Set(parts.map { ObjectIdentifier($0.cache) }).count == parts.count, "a cache appears twice in one batch")
        self.segments = segments
        rows = row
        segmentOfRow = owner
    }

    /// One sequence: `count` tokens at the end of `cache`.
    public init(cache: KVCache, count: Int) { self.init([(cache, count)]) }

    /// The absolute position of batch row `row`.
    @inline(__always) public func position(ofRow row: Int) -> Int {
        let s = segments[segmentOfRow[row]]
        return s.start + (row - s.row)
    }

    /// Advances every cache past its segment, once every layer has written its keys and values.
    public func commit() {
        for s in segments { s.cache.length = s.start + s.count }
    }
}
