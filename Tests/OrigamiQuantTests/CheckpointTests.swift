import Foundation
import OrigamiFormats
import OrigamiModels
import OrigamiNN
import OrigamiQuant
import OrigamiRuntime
import Testing

/// A model directory's golden logits: Tests/Fixtures/models/<name>/golden.json (positions 0, 1, 2 and the last) or a
/// quant fixture's golden.json.
struct GoldenLogits {
    let prompt: [Int]
    let positions: [Int]
    let logits: [[Float]]

    init(model name: String) throws {
        let g = try json(fixtures.appendingPathComponent("models/\(name)/golden.json"))
        prompt = g["prompt_ids"] as! [Int]
        let first = (g["logits_first_positions"] as! [[Double]]).map { $0.map(Float.init) }
        positions = Array(0..<first.count) + [prompt.count - 1]
        logits = first + [(g["logits_last"] as! [Double]).map(Float.init)]
    }

    init(quantFixture name: String) throws {
        let g = try json(quantFixtures.appendingPathComponent("\(name)/golden.json"))
        prompt = g["prompt_ids"] as! [Int]
        positions = g["positions"] as! [Int]
        logits = (g["logits"] as! [[Double]]).map { $0.map(Float.init) }
    }

    /// The worst relative error (max |Δ| / range of the golden row) over the golden positions.
    func error(of model: any CausalLM) -> Float {
        let all = forward(model, prompt)
        let vocab = model.config.vocabSize
        return zip(positions, logits).map { p, want in relativeError(all[(p * vocab)..<((p + 1) * vocab)], want) }.max()!
    }
}

let testContext = ComputeContext(threads: 2)

func forward(_ model: any CausalLM, _ ids: [Int]) -> [Float] {
    model.forward(ids, cache: model.makeCache(capacity: 64), logits: .all, context: testContext)
}

/// Tests/Fixtures/models/<name>, or Tests/Fixtures/quant/llama64 (layer widths that are multiples of 64).
func modelDirectory(_ name: String) -> String {
    name == "llama64" ? quantFixtures.appendingPathComponent(name).path : fixtures.appendingPathComponent("models/\(name)").path
}

/// Quantizes a fixture model into a fresh temporary directory (removed by the caller).
func quantized(_ name: String, _ spec: QuantSpec, format: QuantizedFormat = .origami) throws -> (dir: String, report: QuantizeReport) {
    let out = temporaryDirectory(name).path
    let report = try ModelQuantizer.quantize(modelDirectory: modelDirectory(name), spec: spec, format: format, output: out)
    return (out, report)
}

/// Worst relative error (max |Δ| / range of `b`'s row) between two models' logits over a prompt, all positions.
func logitsError(_ a: any CausalLM, _ b: any CausalLM, prompt: [Int]) -> Float {
    let x = forward(a, prompt), y = forward(b, prompt)
    let vocab = a.config.vocabSize
    return (0..<prompt.count).map { p in relativeError(x[(p * vocab)..<((p + 1) * vocab)], Array(y[(p * vocab)..<((p + 1) * vocab)])) }.max()!
}

@Suite struct BitsAndBytesCheckpointTests {
    @Test(arguments: ["llama64-bnb-nf4", "llama64-bnb-nf4-dq"])
    func transformersNF4CheckpointMatchesItsLogits(_ name: String) throws {
        let loaded = try LoadedModel(directory: quantFixtures.appendingPathComponent(name).path)
        #expect(loaded.quantization?.hasPrefix("bitsandbytes nf4") == true)
        let formats = WeightSummary.of(loaded.model)!.formats
        #expect(formats == [name.hasSuffix("dq") ? "nf4-dq" : "nf4": 7, "BF16": 1])
        // Golden: transformers with that checkpoint, dequantize-then-float32 path; float rounding only.
        let err = try GoldenLogits(quantFixture: name).error(of: loaded.model)
        #expect(err < 1e-5, "\(name): logits differ by \(err) of the range")
    }

    @Test func transformersInt8CheckpointMatchesItsLogits() throws {
        let loaded = try LoadedModel(directory: quantFixtures.appendingPathComponent("llama64-bnb-int8").path)
        #expect(loaded.quantization == "bitsandbytes int8 (LLM.int8(), threshold 6.0)")
        #expect(WeightSummary.of(loaded.model)!.formats == ["llm-int8": 7, "BF16": 1])
        // LLM.int8(): the int32 products are exact; the float sums over outlier columns and the float layers differ
        // in order only.
        let golden = try GoldenLogits(quantFixture: "llama64-bnb-int8")
        let err = golden.error(of: loaded.model)
        #expect(err < 1e-5, "logits differ by \(err) of the range")
        // Origami's llm-int8 quantizer makes the same codes, hence the same logits.
        let (dir, _) = try quantized("llama64", try QuantSpec(method: .llmInt8))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(golden.error(of: try LoadedModel(directory: dir).model) < 1e-5)
    }

    @Test(arguments: [false, true])
    func bnbFormatOutputIsByteIdenticalToSavePretrained(_ doubleQuant: Bool) throws {
        let (dir, report) = try quantized("llama64", try QuantSpec(method: .nf4, doubleQuant: doubleQuant), format: .bnb)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let golden = quantFixtures.appendingPathComponent(doubleQuant ? "llama64-bnb-nf4-dq" : "llama64-bnb-nf4")
        for file in ["model.safetensors", "config.json", "tokenizer.json", "generation_config.json"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: dir).appendingPathComponent(file))
            let b = try Data(contentsOf: golden.appendingPathComponent(file))
            #expect(a == b, "\(file) differs from transformers' save_pretrained output")
        }
        // The head is tied to the embeddings: no layer is skipped, none named lm_head exists.
        #expect(report.quantizedLayers == 7 && report.skippedLayers.isEmpty)
        let summary = try #require(try QuantizedCheckpointSummary.read(
            try SafeTensorsCheckpoint(path: dir), quantization: try ModelConfig(contentsOf: dir).quantizationConfig, configFile: dir))
        #expect(summary.quantizedParameters == report.quantizedParameters && summary.quantizedBytes == report.quantizedBytes)
    }

    @Test func corruptQuantStateIsReportedWithTensorAndPath() throws {
        let dir = temporaryDirectory("corrupt")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: quantFixtures.appendingPathComponent("llama64-bnb-nf4"), to: dir)
        let source = try SafeTensorsCheckpoint(path: dir.path)
        let broken = "model.layers.0.mlp.up_proj.weight.quant_state.bitsandbytes__nf4"
        var tensors: [TensorToWrite] = []
        for e in source.entries {
            let v = try source.tensor(named: e.name)
            if e.name == broken {
                tensors.append(TensorToWrite(name: e.name, dtype: .u8, shape: [20], bytes: Array(#"{"quant_type": "nf4"}"#.utf8).prefix(20).map { $0 }))
            } else {
                tensors.append(TensorToWrite(name: e.name, dtype: e.dtype, shape: e.shape, bytes: Array(v.bytes)))
            }
        }
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt"], to: dir.appendingPathComponent("model.safetensors").path)
        let e = thrown(LoadError.self) { _ = try LoadedModel(directory: dir.path) }
        guard case .quantization(.invalidQuantState(let t, let p, _))? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(t == broken && p == "$", "\(e!)")
    }

    @Test func corruptQuantizationConfigIsReportedWithFileAndPath() throws {
        let dir = temporaryDirectory("badconfig")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: quantFixtures.appendingPathComponent("llama64-bnb-nf4"), to: dir)
        let config = dir.appendingPathComponent("config.json")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: #""bnb_4bit_quant_type": "nf4""#,
                                                                                        with: #""bnb_4bit_quant_type": "nf3""#)
        try text.write(to: config, atomically: true, encoding: .utf8)
        let e = thrown(LoadError.self) { _ = try LoadedModel(directory: dir.path) }
        guard case .quantization(.invalidConfig(let f, let p, _))? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(f == config.path && p == "$.quantization_config.bnb_4bit_quant_type", "\(e!)")
    }
}

@Suite struct RoundTripTests {
    /// Worst relative logit error against the float model (max |Δ| over the 4 golden positions / the logit range),
    /// per method. Measured on the tiny random Llama (hidden 32, two layers): int8 0.021–0.024, nf4 0.23 (block 32:
    /// 0.29), fp4 0.41 (block 128: 0.29); double quantization adds < 0.005. Random Gaussian weights in 32-wide
    /// layers leave 4-bit noise little to average over, hence the large 4-bit figures. Tolerances are 1.5× those.
    static let tolerances: [(spec: String, tolerance: Float)] = [
        ("int8", 0.04), ("int8-zp", 0.04), ("llm-int8", 0.04), ("nf4", 0.35), ("fp4", 0.6), ("nf4-dq", 0.35), ("fp4-dq", 0.6),
        ("nf4-b32", 0.45), ("fp4-b128", 0.45),
    ]

    static func spec(_ s: String) throws -> QuantSpec {
        let parts = s.split(separator: "-")
        switch s {
        case "int8-zp": return try QuantSpec(method: .int8ZeroPoint)
        case "llm-int8": return try QuantSpec(method: .llmInt8)
        default:
            let method = try QuantMethod(parsing: String(parts[0]))
            let block = parts.dropFirst().first { $0.hasPrefix("b") }.map { Int($0.dropFirst())! } ?? 64
            return try QuantSpec(method: method, blockSize: block, doubleQuant: parts.contains("dq"))
        }
    }

    @Test(arguments: tolerances.map(\.spec))
    func quantizeThenLoadIsCloseToTheFloatModel(_ name: String) throws {
        let spec = try Self.spec(name)
        let (dir, report) = try quantized("llama", spec)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(report.quantizedLayers == 14 && report.skippedLayers == ["lm_head"])
        let loaded = try LoadedModel(directory: dir)
        #expect(loaded.quantization == spec.summary)
        let err = try GoldenLogits(model: "llama").error(of: loaded.model)
        let tolerance = Self.tolerances.first { $0.spec == name }!.tolerance
        #expect(err < tolerance, "\(name): logits differ from the float model's by \(err) of the range")

        // Quantizing at load gives the same weights, hence the same logits bit for bit.
        let atLoad = try LoadedModel(directory: modelDirectory("llama"), quantize: spec)
        #expect(atLoad.quantization == spec.summary + " (quantized at load)")
        #expect(bits(forward(atLoad.model, [1, 5, 9, 300])) == bits(forward(loaded.model, [1, 5, 9, 300])))
        // And the weights report the same storage.
        let a = WeightSummary.of(atLoad.model)!, b = WeightSummary.of(loaded.model)!
        #expect(a.bytes == b.bytes && a.formats == b.formats)
    }

    /// Every architecture's linear layers (Conv1D stored [in, out], fused QKV, projections) through nf4 and llm-int8.
    @Test(arguments: ["gpt2", "falcon-7b", "falcon-40b", "bloom", "opt-proj", "qwen2", "llama-bf16"])
    func everyArchitectureRoundTrips(_ name: String) throws {
        for spec in [try QuantSpec(method: .nf4, doubleQuant: true), try QuantSpec(method: .llmInt8)] {
            let (dir, report) = try quantized(name, spec)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            #expect(report.quantizedLayers > 0)
            let loaded = try LoadedModel(directory: dir)
            let err = try GoldenLogits(model: name).error(of: loaded.model)
            // Measured: nf4 + double quant 0.16–0.23, llm-int8 < 0.03.
            #expect(err < (spec.method == .nf4 ? 0.35 : 0.04), "\(name) \(spec.summary): \(err)")
            let atLoad = try LoadedModel(directory: modelDirectory(name), quantize: spec)
            #expect(bits(forward(atLoad.model, [1, 5, 9])) == bits(forward(loaded.model, [1, 5, 9])), "\(name) \(spec.summary)")
        }
    }

    /// Origami's own format holds the same codes as bitsandbytes', so its logits are transformers' too.
    @Test(arguments: [false, true])
    func origamiNF4EqualsTransformersBitsandbytes(_ doubleQuant: Bool) throws {
        let (dir, _) = try quantized("llama64", try QuantSpec(method: .nf4, doubleQuant: doubleQuant))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let golden = try GoldenLogits(quantFixture: doubleQuant ? "llama64-bnb-nf4-dq" : "llama64-bnb-nf4")
        let err = golden.error(of: try LoadedModel(directory: dir).model)
        #expect(err < 1e-5, "logits differ from transformers + bitsandbytes by \(err) of the range")
    }

    @Test func shardedOutputLoadsLikeOneFile() throws {
        let spec = try QuantSpec(method: .nf4, doubleQuant: true)
        let single = try quantized("llama", spec)
        let sharded = temporaryDirectory("sharded").path
        defer {
            try? FileManager.default.removeItem(atPath: single.dir)
            try? FileManager.default.removeItem(atPath: sharded)
        }
        let report = try ModelQuantizer.quantize(modelDirectory: modelDirectory("llama"), spec: spec, format: .origami, output: sharded,
                                                 maxShardBytes: 40_000)
        #expect(report.files.count > 3 && report.files.last == "model.safetensors.index.json")
        let a = try LoadedModel(directory: single.dir), b = try LoadedModel(directory: sharded)
        #expect(bits(forward(a.model, [1, 5, 9])) == bits(forward(b.model, [1, 5, 9])))
    }

    @Test func skipPatternsKeepLayersInFloat() throws {
        let spec = try QuantSpec(method: .int8, skip: ["*.down_proj"])
        let (dir, report) = try quantized("llama", spec)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(report.skippedLayers == ["model.layers.0.mlp.down_proj", "model.layers.1.mlp.down_proj"])
        let loaded = try LoadedModel(directory: dir)
        // lm_head is quantized now that the pattern list does not name it.
        #expect(WeightSummary.of(loaded.model)!.formats == ["int8": 13, "F32": 2])
        let checkpoint = try SafeTensorsCheckpoint(path: dir)
        #expect(checkpoint.entry(named: "model.layers.0.mlp.down_proj.weight")?.dtype == .f32)
        #expect(checkpoint.entry(named: "lm_head.weight")?.dtype == .i8)
    }
}

@Suite struct QuantizeErrorTests {
    @Test func existingOutputIsRefused() throws {
        let out = temporaryDirectory("exists")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(throws: QuantError.outputExists(out.path)) {
            try ModelQuantizer.quantize(modelDirectory: modelDirectory("llama"), spec: try QuantSpec(method: .nf4), format: .origami,
                                        output: out.path)
        }
    }

    @Test func failedRunsLeaveNothingBehind() throws {
        let out = temporaryDirectory("failed")
        #expect(throws: QuantError.self) {
            try ModelQuantizer.quantize(modelDirectory: modelDirectory("llama"), spec: try QuantSpec(method: .int8), format: .bnb, output: out.path)
        }
        let siblings = try FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path)
        #expect(!siblings.contains { $0.hasPrefix(out.lastPathComponent) }, "left \(siblings.filter { $0.hasPrefix(out.lastPathComponent) })")
    }

    @Test func quantizingAQuantizedCheckpointIsRefused() throws {
        let dir = quantFixtures.appendingPathComponent("llama64-bnb-nf4").path
        let spec = try QuantSpec(method: .int8)
        let e = thrown(LoadError.self) { _ = try LoadedModel(directory: dir, quantize: spec) }
        guard case .quantization(.alreadyQuantized(let f, _))? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(f.hasSuffix("llama64-bnb-nf4/config.json"))
        #expect(throws: QuantError.self) {
            try ModelQuantizer.quantize(modelDirectory: dir, spec: try QuantSpec(method: .nf4), format: .origami,
                                        output: temporaryDirectory("requant").path)
        }
    }
}
