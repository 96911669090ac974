import ArgumentParser
import Foundation
import OrigamiFormats
import OrigamiQuant
import OrigamiRuntime
import OrigamiTensor

/// `origami inspect MODEL_DIR`: what a checkpoint holds, read from the headers alone (no tensor data is touched).
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's architecture, parameter count, bytes per dtype and tensor table (headers only).")

    @Argument(help: "A model directory (config.json + safetensors) or a .safetensors file.")
    var model: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "Omit the per-tensor table.")
    var noTensors = false

    @Flag(help: "Read every tensor once and print its sum (checks the data; peak RSS stays ≈ the file size).")
    var checksum = false

    func run() throws {
        let checkpoint = try SafeTensorsCheckpoint(path: model)
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: model, isDirectory: &isDir)
        let configPath = URL(fileURLWithPath: model).appendingPathComponent("config.json").path
        let config = isDir.boolValue && FileManager.default.fileExists(atPath: configPath)
            ? try ModelConfig(contentsOf: configPath) : nil

        var byDType: [DType: (params: Int, bytes: Int)] = [:]
        for e in checkpoint.entries {
            byDType[e.dtype, default: (0, 0)].params += e.elementCount
            byDType[e.dtype, default: (0, 0)].bytes += e.byteCount
        }
        let quantized = try QuantizedCheckpointSummary.read(checkpoint, quantization: config?.quantizationConfig, configFile: configPath)
        // A quantized layer's logical weights, not its packed elements, count as parameters.
        let params = quantized?.totalParameters(checkpoint) ?? checkpoint.entries.reduce(0) { $0 + $1.elementCount }
        var sums: [String: Double] = [:]
        if checksum {
            for e in checkpoint.entries {
                let view = try checkpoint.tensor(named: e.name)
                sums[e.name] = tensorSum(view)
            }
        }
        let dtypes = byDType.keys.sorted { $0.rawValue < $1.rawValue }

        if json {
            var out: [String: Any] = [
                "path": model,
                "parameters": params,
                "bytes_on_disk": checkpoint.fileBytes,
                "files": checkpoint.files.map { ["path": $0.path, "bytes": $0.mapping.size, "tensors": $0.entries.count] },
                "dtypes": Dictionary(uniqueKeysWithValues: dtypes.map { ($0.rawValue, ["parameters": byDType[$0]!.params, "bytes": byDType[$0]!.bytes]) }),
            ]
            if let m = checkpoint.metadata { out["metadata"] = m }
            out["peak_rss_bytes"] = SystemInfo.peakResidentBytes()
            if let c = config { out["config"] = configSummary(c) }
            if let q = quantized {
                out["quantization"] = [
                    "summary": q.quantization.summary, "layers": q.layers.count, "parameters": q.quantizedParameters,
                    "bytes": q.quantizedBytes, "bits_per_weight": q.bitsPerWeight,
                    "file_bits_per_parameter": Double(checkpoint.fileBytes * 8) / Double(max(1, params)),
                    "formats": Dictionary(grouping: q.layers, by: \.format).mapValues { $0.count },
                ] as [String: Any]
            }
            if !noTensors {
                out["tensors"] = checkpoint.entries.map {
                    var t: [String: Any] = ["name": $0.name, "dtype": $0.dtype.rawValue, "shape": $0.shape, "bytes": $0.byteCount,
                                            "file": URL(fileURLWithPath: $0.file).lastPathComponent, "offset": $0.fileOffset]
                    if let s = sums[$0.name] { t["sum"] = s }
                    return t
                }
            }
            let data = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }

        print("Model:        \(model)")
        if let c = config {
            let arch = c.architectures.first.map { " (\($0))" } ?? ""
            print("Architecture: \(c.family.rawValue)\(arch), model_type \(c.modelType)")
            print("Shape:        \(c.numLayers) layers, hidden \(c.hiddenSize), \(c.numHeads) heads (\(c.numKVHeads) KV), head dim \(c.headDim), FFN \(c.intermediateSize), vocab \(c.vocabSize), context \(c.maxPositionEmbeddings)")
            print("Positions:    \(describe(c.positions))")
        }
        print("Parameters:   \(grouped(params)) (\(String(format: "%.3f", Double(params) / 1e9)) B)")
        print("On disk:      \(grouped(checkpoint.fileBytes)) bytes (\(formatBytes(checkpoint.fileBytes))) in \(checkpoint.files.count) file(s)")
        if let q = quantized {
            let formats = Dictionary(grouping: q.layers, by: \.format).map { "\($0.key) ×\($0.value.count)" }.sorted().joined(separator: ", ")
            print("Quantization: \(q.quantization.summary): \(q.layers.count) layers (\(formats)), \(grouped(q.quantizedParameters)) weights in "
                  + "\(formatBytes(q.quantizedBytes)) = " + String(format: "%.3f bits per weight (scales and zeros included)", q.bitsPerWeight))
            print(String(format: "              whole file: %.3f bits per parameter", Double(checkpoint.fileBytes * 8) / Double(max(1, params))))
        }
        if let m = checkpoint.metadata, !m.isEmpty {
            print("Metadata:     " + m.keys.sorted().map { "\($0)=\(m[$0]!)" }.joined(separator: ", "))
        }
        print("By dtype:")
        for d in dtypes {
            let v = byDType[d]!
            print("  \(d.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \(grouped(v.params).leftPad(16)) params \(grouped(v.bytes).leftPad(18)) bytes (\(formatBytes(v.bytes)))")
        }
        print("Peak RSS:     \(formatBytes(SystemInfo.peakResidentBytes()))\(checksum ? " (after reading every tensor)" : " (headers only)")")
        guard !noTensors else { return }
        let width = max(6, checkpoint.entries.map(\.name.count).max() ?? 0)
        print("Tensors (\(checkpoint.entries.count)):")
        print("  " + "name".padding(toLength: width, withPad: " ", startingAt: 0) + "  dtype  " + "shape".padding(toLength: 20, withPad: " ", startingAt: 0) + "         bytes" + (checksum ? "                 sum" : ""))
        for e in checkpoint.entries {
            let shape = "[" + e.shape.map(String.init).joined(separator: ", ") + "]"
            print("  " + e.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                  + e.dtype.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0) + "  "
                  + shape.padding(toLength: 20, withPad: " ", startingAt: 0) + grouped(e.byteCount).leftPad(14)
                  + (sums[e.name].map { String(format: "%20.6f", $0) } ?? ""))
        }
    }

    func configSummary(_ c: ModelConfig) -> [String: Any] {
        ["family": c.family.rawValue, "model_type": c.modelType, "architectures": c.architectures, "layers": c.numLayers,
         "hidden_size": c.hiddenSize, "heads": c.numHeads, "kv_heads": c.numKVHeads, "head_dim": c.headDim,
         "intermediate_size": c.intermediateSize, "vocab_size": c.vocabSize, "max_positions": c.maxPositionEmbeddings,
         "positions": describe(c.positions), "tied_embeddings": c.tieWordEmbeddings]
    }

    func describe(_ p: PositionEncoding) -> String {
        switch p {
        case .alibi: "ALiBi"
        case .learned(let offset): offset == 0 ? "learned" : "learned (offset \(offset))"
        case .rotary(let r):
            switch r.scaling {
            case .none: "RoPE θ=\(r.theta)"
            case .linear(let f): "RoPE θ=\(r.theta), linear ×\(f)"
            case .dynamic(let f, _): "RoPE θ=\(r.theta), dynamic NTK ×\(f)"
            case .llama3(let f, _, _, let o): "RoPE θ=\(r.theta), llama3 ×\(f) from \(o)"
            case .yarn(let f, let o, _, _, _, _, _, _): "RoPE θ=\(r.theta), YaRN ×\(f) from \(o)"
            }
        }
    }
}

/// 1234567 → "1,234,567".
func grouped(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (i, ch) in s.reversed().enumerated() {
        if i > 0 && i % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return (n < 0 ? "-" : "") + String(out.reversed())
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

/// Sum of a tensor's elements in Double, reading the mapping in place, one page at a time.
func tensorSum(_ v: TensorView) -> Double {
    var s = 0.0
    let n = v.elementCount
    switch v.dtype {
    case .f32: for i in 0..<n { s += Double(v.raw.loadUnaligned(fromByteOffset: i * 4, as: Float.self)) }
    case .f16: for i in 0..<n { s += Double(v.raw.loadUnaligned(fromByteOffset: i * 2, as: Float16.self)) }
    case .bf16: for i in 0..<n { s += Double(BFloat16.toFloat(v.raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) }
    case .i8: for i in 0..<n { s += Double(v.raw.load(fromByteOffset: i, as: Int8.self)) }
    case .u8, .bool: for i in 0..<n { s += Double(v.raw.load(fromByteOffset: i, as: UInt8.self)) }
    case .i16: for i in 0..<n { s += Double(v.raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)) }
    case .i32: for i in 0..<n { s += Double(v.raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
    case .i64: for i in 0..<n { s += Double(v.raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
    }
    return s
}
