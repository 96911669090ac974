import Foundation
import OrigamiFormats
import OrigamiQuant
import Testing

@Suite struct TorchFloatSumTests {
    /// The inputs of torch_sums.json, generated as Scripts/make_quant_goldens.py does.
    static func values(_ n: Int) -> [Float] {
        (0..<n).map { i in Float(UInt32(truncatingIfNeeded: UInt64(i) &* 2654435761)) / 4294967296 - 0.5 }
    }

    @Test func sumAndMeanEqualTorchOnOneThread() throws {
        let golden = try json(quantFixtures.appendingPathComponent("torch_sums.json"))
        for c in golden["cases"] as! [[String: Any]] {
            let n = c["n"] as! Int
            let x = Self.values(n)
            let sum = x.withUnsafeBufferPointer { TorchFloatSum.sum($0) }
            #expect(sum.bitPattern == UInt32(c["sum_bits"] as! Int), "sum of \(n): \(sum)")
            #expect(TorchFloatSum.mean(x).bitPattern == UInt32(c["mean_bits"] as! Int), "mean of \(n)")
        }
    }
}

@Suite struct BitsAndBytesFormatTests {
    @Test func floatsPrintAsPythonReprDoes() {
        let cases: [(Float, String)] = [
            (0x1.be07fcp-2, "0.4355773329734802"), (0x1.4f8b58p-17, "9.999999747378752e-06"), (0x1.421f6p-23, "1.500000053056283e-07"),
            (123, "123.0"), (0x1.1c3794p+53, "1.0000000272564224e+16"), (Float.greatestFiniteMagnitude, "3.4028234663852886e+38"),
            (0x1.a36e2ep-14, "9.999999747378752e-05"), (0x1.02e4b6p-13, "0.0001234499941347167"), (0x1.555556p-2, "0.3333333432674408"),
            (0x1p-20, "9.5367431640625e-07"), (65504, "65504.0"), (12345678, "12345678.0"), (0x1.99999ap-4, "0.10000000149011612"),
            (0x1p-149, "1.401298464324817e-45"), (-0.25, "-0.25"), (0, "0.0"),
        ]
        for (x, want) in cases { #expect(BitsAndBytesFormat.pythonFloatRepr(x) == want, "\(x)") }
    }

    @Test func quantStateJSONRoundTrips() throws {
        let s = BitsAndBytesFormat.QuantState(quantType: .nf4, blockSize: 64, dtype: "float32", shape: [32, 32], nestedBlockSize: 256,
                                              nestedDType: "float32", nestedOffset: 0x1.be07fcp-2)
        #expect(s.json == #"{"quant_type": "nf4", "blocksize": 64, "dtype": "float32", "shape": [32, 32], "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": 0.4355773329734802}"#)
        let parsed = try Array(s.json.utf8).withUnsafeBytes { try BitsAndBytesFormat.parseQuantState($0, tensor: "t") }
        #expect(parsed == s)
    }

    @Test(arguments: [
        (#"{"quant_type": "nf4", "blocksize": 64, "dtype": "float32"}"#, "$.shape"),
        (#"{"quant_type": "nf5", "blocksize": 64, "dtype": "float32", "shape": [2, 2]}"#, "$.quant_type"),
        (#"{"quant_type": "nf4", "blocksize": 48, "dtype": "float32", "shape": [2, 2]}"#, "$.blocksize"),
        (#"{"quant_type": "nf4", "blocksize": 64, "dtype": "float32", "shape": [2, "x"]}"#, "$.shape[1]"),
        (#"{"quant_type": "nf4", "blocksize": 64, "dtype": "float32", "shape": [4]}"#, "$.shape"),
        (#"{"quant_type": "nf4", "blocksize": 64, "dtype": "float32", "shape": [2, 2], "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": "x"}"#, "$.nested_offset"),
        (#"{"quant_type": "nf4", "#, "$"),
        (#"[1, 2]"#, "$"),
    ])
    func corruptQuantStatesNameTheJSONPath(_ text: String, _ path: String) {
        #expect(throws: QuantError.self) { try Array(text.utf8).withUnsafeBytes { try BitsAndBytesFormat.parseQuantState($0, tensor: "w.quant_state") } }
        let e = thrown(QuantError.self) { _ = try Array(text.utf8).withUnsafeBytes { try BitsAndBytesFormat.parseQuantState($0, tensor: "w.quant_state") } }
        guard case .invalidQuantState(let t, let p, _)? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(t == "w.quant_state" && p == path, "\(e!)")
    }
}

@Suite struct OptionTests {
    @Test func methodsParseAndUnknownOnesAreTyped() throws {
        for m in QuantMethod.allCases { #expect(try QuantMethod(parsing: m.rawValue) == m) }
        #expect(try QuantMethod(parsing: "NF4") == .nf4)
        #expect(throws: QuantError.unknownMethod("int3")) { try QuantMethod(parsing: "int3") }
    }

    @Test(arguments: [0, 16, 31, 48, 96, 8192, -64])
    func blockSizesOutsideBitsandbytesAreRejected(_ n: Int) {
        #expect(throws: QuantError.invalidBlockSize(n)) { try QuantSpec(method: .nf4, blockSize: n) }
    }

    @Test(arguments: [32, 64, 128, 256, 512, 1024, 2048, 4096])
    func powersOfTwoFrom32To4096AreAccepted(_ n: Int) throws {
        #expect(try QuantSpec(method: .fp4, blockSize: n).blockSize == n)
    }

    @Test func thresholdAndDoubleQuantAreValidated() {
        #expect(throws: QuantError.invalidThreshold(0)) { try QuantSpec(method: .llmInt8, threshold: 0) }
        #expect(throws: QuantError.self) { try QuantSpec(method: .int8, doubleQuant: true) }
    }

    @Test func skipPatterns() throws {
        let spec = try QuantSpec(method: .nf4, skip: ["lm_head", "*.down_proj", "model.layers.1?.*", "o_proj"])
        #expect(spec.skips("lm_head"))
        #expect(spec.skips("model.layers.3.mlp.down_proj"))
        #expect(!spec.skips("model.layers.3.mlp.up_proj"))
        #expect(spec.skips("model.layers.12.self_attn.q_proj"))
        #expect(!spec.skips("model.layers.1.self_attn.q_proj"))
        #expect(spec.skips("model.layers.1.self_attn.o_proj"))
        #expect(!spec.skips("model.layers.1.self_attn.xo_proj"))
        #expect(!spec.skips("transformer.lm_head_extra"))
    }
}

@Suite struct ConfigTests {
    func parse(_ text: String) throws(QuantError) -> CheckpointQuantization? {
        let value = try! JSONParser.parse(Array(text.utf8))
        return try CheckpointQuantization.parse(value["quantization_config"], file: "config.json")
    }

    @Test func origamiConfigRoundTrips() throws {
        let spec = try QuantSpec(method: .nf4, blockSize: 128, doubleQuant: true, skip: ["lm_head", "*.down_proj"])
        let text = "{\"quantization_config\": \(PythonJSON.dumps(OrigamiQuantFormat.json(spec), sortKeys: false))}"
        #expect(try parse(text) == .origami(spec))
        let llm = try QuantSpec(method: .llmInt8, threshold: 4.5)
        #expect(try parse("{\"quantization_config\": \(PythonJSON.dumps(OrigamiQuantFormat.json(llm)))}") == .origami(llm))
        #expect(try parse("{}") == nil)
    }

    @Test(arguments: [
        (#"{"quantization_config": {"quant_method": "gptq"}}"#, "$.quantization_config.quant_method"),
        (#"{"quantization_config": {"bits": 4}}"#, "$.quantization_config.quant_method"),
        (#"{"quantization_config": {"quant_method": "origami", "method": "nf5"}}"#, "$.quantization_config.method"),
        (#"{"quantization_config": {"quant_method": "origami", "method": "nf4", "block_size": 100}}"#, "$.quantization_config.block_size"),
        (#"{"quantization_config": {"quant_method": "origami", "method": "nf4", "block_size": "64"}}"#, "$.quantization_config.block_size"),
        (#"{"quantization_config": {"quant_method": "origami", "method": "llm-int8", "llm_int8_threshold": -1}}"#, "$.quantization_config.llm_int8_threshold"),
        (#"{"quantization_config": {"quant_method": "origami", "format_version": 7, "method": "nf4"}}"#, "$.quantization_config.format_version"),
        (#"{"quantization_config": {"quant_method": "origami", "method": "nf4", "skip_modules": [1]}}"#, "$.quantization_config.skip_modules[0]"),
        (#"{"quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": true, "bnb_4bit_quant_type": "nf5"}}"#, "$.quantization_config.bnb_4bit_quant_type"),
        (#"{"quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": false}}"#, "$.quantization_config.load_in_4bit"),
        (#"{"quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": "yes"}}"#, "$.quantization_config.load_in_4bit"),
        (#"{"quantization_config": [1]}"#, "$.quantization_config"),
    ])
    func badConfigsNameFileAndJSONPath(_ text: String, _ path: String) {
        let e = thrown(QuantError.self) { _ = try parse(text) }
        guard case .invalidConfig(let f, let p, _)? = e else { Issue.record("\(String(describing: e)) for \(text)"); return }
        #expect(f == "config.json" && p == path, "\(e!)")
    }

    @Test func pythonJSONWritesAsTransformersDoes() throws {
        let source = try Data(contentsOf: fixtures.appendingPathComponent("models/llama/config.json"))
        #expect(PythonJSON.dumps(try JSONParser.parse(source)) + "\n" == String(decoding: source, as: UTF8.self))
        #expect(PythonJSON.quote("é\u{1F600}\u{7F}\"") == #""\u00e9\ud83d\ude00\u007f\"""#)
    }
}
