public import OrigamiModels
public import OrigamiTensor
import OrigamiNN

/// One unit of a loaded model as placement sees it: the stage that reads it and the file bytes it reads.
public struct ModelUnit: Sendable {
    public let stage: ForwardStage
    /// The byte range of each tensor the unit's weights read, as the weights report them.
    public let tensorRanges: [MappedRange]
    /// `tensorRanges` sorted and merged (ranges closer than `mergeGap` become one), so that reading ahead and
    /// releasing a layer through the page cache is a handful of calls, not one per tensor.
    public let ranges: [MappedRange]
    /// Bytes the unit's weights hold outside any mapping (e.g. heap buffers of weights quantized at load): they
    /// cannot be released, so they count as resident wherever the unit is placed.
    public let heapBytes: Int
    /// Read by row lookups only (the token table, learned positions): never read ahead in full, released
    /// after use.
    public let sparse: Bool

    public var mappedBytes: Int { ranges.reduce(0) { $0 + $1.count } }

    /// Ranges closer than this are merged: the gap holds the same layer's norm vectors, read once at load.
    public static let mergeGap = 64 << 10

    public init(stage: ForwardStage, ranges tensorRanges: [MappedRange], heapBytes: Int = 0, sparse: Bool = false) {
        self.stage = stage
        var unique: [MappedRange] = []
        for r in tensorRanges where r.count > 0 && !unique.contains(r) { unique.append(r) }
        self.tensorRanges = unique
        ranges = Self.merged(unique)
        self.heapBytes = heapBytes
        self.sparse = sparse
    }

    static func merged(_ ranges: [MappedRange]) -> [MappedRange] {
        let sorted = ranges.sorted {
            $0.file === $1.file ? $0.offset < $1.offset : ObjectIdentifier($0.file) < ObjectIdentifier($1.file)
        }
        var out: [MappedRange] = []
        for r in sorted {
            if let last = out.last, last.file === r.file, r.offset <= last.offset + last.count + mergeGap {
                let end = max(last.offset + last.count, r.offset + r.count)
                out[out.count - 1] = MappedRange(file: last.file, offset: last.offset, count: end - last.offset)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// The units of a decoder model in forward order: embeddings, each block, head.
    ///
    /// A tied LM head reads the whole token table every token: the table is then in both units, looked up by rows
    /// in one and read whole in the other (and counted in both when placing).
    public static func of(_ model: DecoderModel) -> [ModelUnit] {
        func parts(_ linears: [Linear]) -> (ranges: [MappedRange], heap: Int) {
            var ranges: [MappedRange] = []
            var heap = 0
            for l in linears {
                let r = l.weight.mappedRanges
                ranges += r
                heap += max(0, l.weight.storageBytes - r.reduce(0) { $0 + $1.count })
            }
            return (ranges, heap)
        }
        let head = parts([model.projectOut, model.lmHead].compactMap { $0 })
        let embeddingRanges = [model.tokenEmbedding.table.mappedRange, model.positionEmbedding?.table.table.mappedRange].compactMap { $0 }
        let projectIn = parts([model.projectIn].compactMap { $0 })
        var units = [ModelUnit(stage: .embeddings, ranges: embeddingRanges + projectIn.ranges, heapBytes: projectIn.heap, sparse: true)]
        for (i, b) in model.blocks.enumerated() {
            let p = parts(b.linears)
            units.append(ModelUnit(stage: .block(i), ranges: p.ranges, heapBytes: p.heap))
        }
        units.append(ModelUnit(stage: .head, ranges: head.ranges, heapBytes: head.heap))
        return units
    }
}
