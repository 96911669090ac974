import Foundation
public import OrigamiFormats
import OrigamiKernels
import OrigamiTensor

/// A linear layer of a model, as its architecture binds it: the scope name (`model.layers.0.self_attn.q_proj`),
/// its `[out, in]` size and whether the checkpoint stores the weight `[in, out]` (GPT-2's Conv1D).
public struct LinearLayerInfo: Sendable, Equatable {
    public let name: String
    public let inFeatures: Int
    public let outFeatures: Int
    public let transposed: Bool

    public init(name: String, inFeatures: Int, outFeatures: Int, transposed: Bool) {
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.transposed = transposed
    }

    public var weightName: String { name + ".weight" }
}

/// The on-disk layout `origami quantize` writes.
public enum QuantizedFormat: String, Sendable, CaseIterable {
    /// `OrigamiQuantFormat`: every method.
    case origami
    /// `BitsAndBytesFormat`: NF4/FP4 exactly as transformers + bitsandbytes `save_pretrained` writes them.
    case bnb
}

/// Where a quantization run is.
public struct QuantizeProgress: Sendable {
    public var bytesDone: Int
    public var bytesTotal: Int
    public var tensor: String
}

/// What a quantization run wrote.
public struct QuantizeReport: Sendable {
    public var quantizedLayers: Int
    public var skippedLayers: [String]
    /// Logical weights of the quantized layers, and the bytes they take (codes + scales + zeros).
    public var quantizedParameters: Int
    public var quantizedBytes: Int
    public var inputBytes: Int
    public var outputBytes: Int
    public var files: [String]
    public var bitsPerWeight: Double { quantizedParameters > 0 ? Double(quantizedBytes * 8) / Double(quantizedParameters) : 0 }
}

/// Writes the safetensors of a quantized checkpoint from a float one, tensor by tensor.
///
/// The safetensors header must list every tensor before any data, and its data order is by dtype then name
/// (`SafeTensorsWriter`), so a layer's float32 statistics are written long before its uint8 codes. Each output
/// tensor is therefore produced when the writer reaches it: a layer's small statistics (absmax, scales) are
/// recomputed from the mapped float weight when needed (a cheap pass) and kept only while the writer stays on that
/// layer; its codes are made, written and freed in one go, and its float pages are then dropped from this process.
/// Peak memory is one layer's codes and statistics, never the float or the quantized model.
public enum QuantizedCheckpointWriter {
    /// transformers' former default shard size.
    public static let defaultMaxShardBytes = 5_000_000_000

    /// - Parameters:
    ///   - layers: the model's linear layers (others, and layers `spec` skips, are copied as they are).
    ///   - directory: an existing, empty directory.
    public static func write(source: SafeTensorsCheckpoint, layers: [LinearLayerInfo], spec: QuantSpec, format: QuantizedFormat,
                             to directory: String, maxShardBytes: Int = defaultMaxShardBytes,
                             progress: (QuantizeProgress) -> Void = { _ in }) throws(QuantError) -> QuantizeReport
    {
        if format == .bnb && !spec.method.isFourBit {
            throw .unsupported("--format bnb writes NF4/FP4 (transformers' 4-bit layout); \(spec.method.rawValue) is written in the origami format")
        }
        var byWeight: [String: LinearLayerInfo] = [:]
        for l in layers { byWeight[l.weightName] = l }

        var plan: [Planned] = []
        var report = QuantizeReport(quantizedLayers: 0, skippedLayers: [], quantizedParameters: 0, quantizedBytes: 0,
                                    inputBytes: source.fileBytes, outputBytes: 0, files: [])
        for entry in source.entries {
            let view: TensorView
            do { view = try source.tensor(named: entry.name) } catch { throw .checkpoint(error) }
            guard let layer = byWeight[entry.name] else {
                plan.append(Planned(header: TensorHeader(name: entry.name, dtype: entry.dtype, shape: entry.shape), piece: .copy(view, entry)))
                continue
            }
            if spec.skips(layer.name) {
                report.skippedLayers.append(layer.name)
                plan.append(Planned(header: TensorHeader(name: entry.name, dtype: entry.dtype, shape: entry.shape), piece: .copy(view, entry)))
                continue
            }
            let src = try FloatMatrixSource(view, name: entry.name, rows: layer.outFeatures, cols: layer.inFeatures,
                                            transposed: layer.transposed)
            let job = LayerJob(name: entry.name, source: src, spec: spec, entry: entry, mapping: source.mapping(of: entry.name))
            let pieces = try job.pieces(format: format)
            report.quantizedLayers += 1
            report.quantizedParameters += src.count
            report.quantizedBytes += pieces.reduce(0) { $0 + ($1.piece.isFormatOverhead ? 0 : $1.header.byteCount) }
            // bitsandbytes keeps the double-quantization offset in its JSON; it is still 4 bytes of statistics.
            if format == .bnb && spec.doubleQuant { report.quantizedBytes += 4 }
            plan += pieces
        }
        // Shards in source order, as save_pretrained assigns them.
        var shards: [[Int]] = [[]]
        var size = 0
        for (i, p) in plan.enumerated() {
            if size + p.header.byteCount > maxShardBytes, !shards[shards.count - 1].isEmpty {
                shards.append([])
                size = 0
            }
            shards[shards.count - 1].append(i)
            size += p.header.byteCount
        }
        let total = plan.reduce(0) { $0 + $1.header.byteCount }
        var done = 0
        let dir = URL(fileURLWithPath: directory)
        var weightMap: [(String, String)] = []
        let cache = JobCache()
        for (s, shard) in shards.enumerated() {
            let file = shards.count == 1 ? "model.safetensors" : String(format: "model-%05d-of-%05d.safetensors", s + 1, shards.count)
            let headers = shard.map { plan[$0].header }
            do {
                try SafeTensorsWriter.write(headers: headers, metadata: ["format": "pt"], to: dir.appendingPathComponent(file).path) {
                    i, emit throws(SafeTensorsError) in
                    let p = plan[shard[i]]
                    progress(QuantizeProgress(bytesDone: done, bytesTotal: total, tensor: p.header.name))
                    try p.piece.produce(cache: cache, emit: emit)
                    done += p.header.byteCount
                }
            } catch { throw .checkpoint(error) }
            cache.clear()
            report.files.append(file)
            weightMap += headers.map { ($0.name, file) }
        }
        progress(QuantizeProgress(bytesDone: total, bytesTotal: total, tensor: ""))
        if shards.count > 1 {
            weightMap.sort { $0.0 < $1.0 }
            var json = "{\n  \"metadata\": {\n    \"total_size\": \(total)\n  },\n  \"weight_map\": {\n"
            json += weightMap.map { "    \(JSONWriter.quote($0.0)): \(JSONWriter.quote($0.1))" }.joined(separator: ",\n")
            json += "\n  }\n}\n"
            let bytes = Array(json.utf8)
            do {
                try AtomicFile.write(to: dir.appendingPathComponent("model.safetensors.index.json").path) {
                    handle throws(SafeTensorsError) in try handle.write(bytes)
                }
            } catch { throw .checkpoint(error) }
            report.files.append("model.safetensors.index.json")
        }
        report.outputBytes = total
        return report
    }
}

/// One output tensor: its header and how to make its bytes.
struct Planned {
    let header: TensorHeader
    let piece: Piece
}

enum Piece {
    /// A tensor copied unchanged from the source mapping.
    case copy(TensorView, TensorEntry)
    /// Part of a quantized layer.
    case layer(LayerJob, LayerJob.Part)

    /// bitsandbytes' per-layer copies of the code books and its JSON: format, not weight storage (a loaded
    /// weight's `storageBytes` leaves them out too).
    var isFormatOverhead: Bool {
        switch self {
        case .layer(_, .quantState), .layer(_, .quantMap), .layer(_, .nestedQuantMap): true
        default: false
        }
    }

    func produce(cache: JobCache, emit: (UnsafeRawBufferPointer) throws(SafeTensorsError) -> Void) throws(SafeTensorsError) {
        switch self {
        case .copy(let view, let entry):
            // In slices, dropping each slice's pages once written: copying never holds the model.
            let slice = 64 << 20
            var offset = 0
            let bytes = view.bytes
            while offset < bytes.count {
                let n = min(slice, bytes.count - offset)
                try emit(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]))
                offset += n
            }
            (view.owner as? MappedFile)?.advise(offset: entry.fileOffset, count: entry.byteCount, willNeed: false)
        case .layer(let job, let part):
            try cache.use(job).produce(part, emit: emit)
        }
    }
}

/// Keeps the statistics of the layer being written and drops the previous layer's.
final class JobCache {
    private var current: LayerJob?

    func use(_ job: LayerJob) -> LayerJob {
        if current !== job {
            current?.release()
            current = job
        }
        return job
    }

    func clear() {
        current?.release()
        current = nil
    }
}

/// One linear layer being quantized into its output tensors.
final class LayerJob {
    enum Part {
        case codes, scales, zeros, absmax, nestedAbsmax, nestedOffset, quantMap, nestedQuantMap, quantState
    }

    enum Stats {
        case int8(scales: [Float])
        case zeroPoint(scales: [Float], zeros: [UInt8])
        case fourBit(absmax: [Float], double: DoubleQuant.Result?)
    }

    let name: String
    let source: FloatMatrixSource
    let spec: QuantSpec
    let entry: TensorEntry
    let mapping: MappedFile?
    private var stats: Stats?
    /// The bitsandbytes quant_state JSON (its length is in the header, so it is made while planning).
    private var quantStateJSON: [UInt8] = []

    init(name: String, source: FloatMatrixSource, spec: QuantSpec, entry: TensorEntry, mapping: MappedFile?) {
        self.name = name
        self.source = source
        self.spec = spec
        self.entry = entry
        self.mapping = mapping
    }

    func release() { stats = nil }

    func pieces(format: QuantizedFormat) throws(QuantError) -> [Planned] {
        let rows = source.rows, cols = source.cols, n = source.count
        func h(_ suffix: String, _ dtype: DType, _ shape: [Int]) -> TensorHeader {
            TensorHeader(name: suffix.isEmpty ? name : "\(name).\(suffix)", dtype: dtype, shape: shape)
        }
        func p(_ header: TensorHeader, _ part: Part) -> Planned { Planned(header: header, piece: .layer(self, part)) }
        switch spec.method {
        case .int8, .llmInt8:
            return [p(h("", .i8, [rows, cols]), .codes), p(h("scale", .f32, [rows]), .scales)]
        case .int8ZeroPoint:
            return [p(h("", .u8, [rows, cols]), .codes), p(h("scale", .f32, [rows]), .scales), p(h("zero", .u8, [rows]), .zeros)]
        case .nf4, .fp4:
            let blocks = Blockwise4Bit.blocks(n, blockSize: spec.blockSize)
            let nested = (blocks + DoubleQuant.blockSize - 1) / DoubleQuant.blockSize
            let packed = Blockwise4Bit.packedBytes(n)
            let absmaxDType: DType = spec.doubleQuant ? .u8 : .f32
            switch format {
            case .origami:
                // [out, in / 2] when rows start on a byte (in even), so the logical shape reads off the header.
                let codesShape = cols % 2 == 0 ? [rows, cols / 2] : [packed]
                var out = [p(h("", .u8, codesShape), .codes), p(h("absmax", absmaxDType, [blocks]), .absmax)]
                if spec.doubleQuant { out += [p(h("nested_absmax", .f32, [nested]), .nestedAbsmax), p(h("nested_offset", .f32, [1]), .nestedOffset)] }
                return out
            case .bnb:
                let type = spec.method.fourBitType!
                var state = BitsAndBytesFormat.QuantState(quantType: type, blockSize: spec.blockSize,
                                                         dtype: BitsAndBytesFormat.dtypeName(source.view.dtype), shape: [rows, cols])
                if spec.doubleQuant {
                    guard case .fourBit(_, let dq?) = computeStats() else { preconditionFailure("double quantization statistics") }
                    state.nestedBlockSize = DoubleQuant.blockSize
                    state.nestedDType = "float32"
                    state.nestedOffset = dq.offset
                    release()
                }
                quantStateJSON = Array(state.json.utf8)
                var out = [p(h("", .u8, [packed, 1]), .codes), p(h("absmax", absmaxDType, [blocks]), .absmax),
                           p(h("quant_map", .f32, [16]), .quantMap)]
                if spec.doubleQuant { out += [p(h("nested_absmax", .f32, [nested]), .nestedAbsmax), p(h("nested_quant_map", .f32, [256]), .nestedQuantMap)] }
                out.append(p(TensorHeader(name: BitsAndBytesFormat.quantStateName(weight: name, type: type), dtype: .u8,
                                          shape: [quantStateJSON.count]), .quantState))
                return out
            }
        }
    }

    @discardableResult
    func computeStats() -> Stats {
        if let stats { return stats }
        let s: Stats
        switch spec.method {
        case .int8, .llmInt8: s = .int8(scales: RowwiseInt8.weightScales(source))
        case .int8ZeroPoint:
            let (scales, zeros) = RowwiseInt8.zeroPointParameters(source)
            s = .zeroPoint(scales: scales, zeros: zeros)
        case .nf4, .fp4:
            let am = Blockwise4Bit.absmax(source, blockSize: spec.blockSize)
            s = .fourBit(absmax: am, double: spec.doubleQuant ? DoubleQuant.quantize(am) : nil)
        }
        stats = s
        // The statistics pass read the whole float weight: drop its pages, or the float model accumulates in RSS.
        dropFloatPages()
        return s
    }

    func dropFloatPages() { mapping?.advise(offset: entry.fileOffset, count: entry.byteCount, willNeed: false) }

    func produce(_ part: Part, emit: (UnsafeRawBufferPointer) throws(SafeTensorsError) -> Void) throws(SafeTensorsError) {
        func floats(_ v: [Float]) throws(SafeTensorsError) {
            var failure: SafeTensorsError?
            v.withUnsafeBytes { b in
                do throws(SafeTensorsError) { try emit(b) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        func bytes(_ v: [UInt8]) throws(SafeTensorsError) {
            var failure: SafeTensorsError?
            v.withUnsafeBytes { b in
                do throws(SafeTensorsError) { try emit(b) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        switch (part, computeStats()) {
        case (.codes, let stats):
            try emitCodes(stats, emit: emit)
            dropFloatPages()
        case (.scales, .int8(let scales)), (.scales, .zeroPoint(let scales, _)): try floats(scales)
        case (.zeros, .zeroPoint(_, let zeros)): try bytes(zeros)
        case (.absmax, .fourBit(let absmax, let dq)):
            if let dq { try bytes(dq.codes) } else { try floats(absmax) }
        case (.nestedAbsmax, .fourBit(_, let dq?)): try floats(dq.nestedAbsmax)
        case (.nestedOffset, .fourBit(_, let dq?)): try floats([dq.offset])
        case (.quantMap, _): try floats(spec.method.fourBitType!.code)
        case (.nestedQuantMap, _): try floats(CodeBooks.dynamic)
        case (.quantState, _): try bytes(quantStateJSON)
        default:
            throw .invalidTensorForWrite(tensor: name, reason: "internal: no \(part) for \(spec.method.rawValue)")
        }
    }

    private func emitCodes(_ stats: Stats, emit: (UnsafeRawBufferPointer) throws(SafeTensorsError) -> Void) throws(SafeTensorsError) {
        let n = source.count
        switch stats {
        case .int8:
            let codes = UnsafeMutablePointer<Int8>.allocate(capacity: max(1, n))
            let scales = UnsafeMutablePointer<Float>.allocate(capacity: max(1, source.rows))
            defer {
                codes.deallocate()
                scales.deallocate()
            }
            RowwiseInt8.quantizeWeight(source, codes: codes, scales: scales)
            try emit(UnsafeRawBufferPointer(start: codes, count: n))
        case .zeroPoint:
            let codes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, n))
            let scales = UnsafeMutablePointer<Float>.allocate(capacity: max(1, source.rows))
            let zeros = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, source.rows))
            defer {
                codes.deallocate()
                scales.deallocate()
                zeros.deallocate()
            }
            RowwiseInt8.quantizeWeightZeroPoint(source, codes: codes, scales: scales, zeros: zeros)
            try emit(UnsafeRawBufferPointer(start: codes, count: n))
        case .fourBit(let absmax, _):
            let bytes = Blockwise4Bit.packedBytes(n)
            let packed = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes))
            defer { packed.deallocate() }
            Blockwise4Bit.encode(source, type: spec.method.fourBitType!, blockSize: spec.blockSize, absmax: absmax, into: packed)
            try emit(UnsafeRawBufferPointer(start: packed, count: bytes))
        }
    }
}
