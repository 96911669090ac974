public import OrigamiFormats

/// How a checkpoint's linear weights are stored, as config.json's `quantization_config` says.
public enum CheckpointQuantization: Sendable, Equatable {
    /// Written by `origami quantize` in Origami's format (`OrigamiQuantFormat`).
    case origami(QuantSpec)
    /// Written by transformers with bitsandbytes (`quant_method: "bitsandbytes"`).
    case bitsAndBytes(BitsAndBytesConfig)

    public var summary: String {
        switch self {
        case .origami(let s): s.summary
        case .bitsAndBytes(let b): b.summary
        }
    }

    /// Parses `quantization_config` (nil when absent).
    /// - Throws: `QuantError.invalidConfig` with the file and the JSON path of the offending value.
    public static func parse(_ value: JSONValue?, file: String) throws(QuantError) -> CheckpointQuantization? {
        guard let value, value != .null else { return nil }
        let path = "$.quantization_config"
        do {
            let r = try JSONObjectReader(file: file, path: path, value: value)
            guard let method = try r.string("quant_method") else { throw QuantError.invalidConfig(file: file, path: r.keyPath("quant_method"), reason: "missing") }
            switch method {
            case OrigamiQuantFormat.quantMethod: return .origami(try OrigamiQuantFormat.parse(r))
            case "bitsandbytes": return .bitsAndBytes(try BitsAndBytesConfig(r))
            default:
                throw QuantError.invalidConfig(file: file, path: r.keyPath("quant_method"),
                                               reason: "quantization method '\(method)' is not supported (supported: origami, bitsandbytes)")
            }
        } catch let e as QuantError {
            throw e
        } catch let e as ConfigError {
            throw QuantError(e)
        } catch {
            throw .invalidConfig(file: file, path: path, reason: "\(error)")
        }
    }
}

extension QuantError {
    /// A config.json problem, keeping its file and JSON path.
    init(_ e: ConfigError) {
        switch e {
        case .invalidValue(let f, let p, let r), .unsupported(let f, let p, let r): self = .invalidConfig(file: f, path: p, reason: r)
        case .missingKey(let f, let p): self = .invalidConfig(file: f, path: p, reason: "required key is missing")
        case .unreadable(let f, let r): self = .io(path: f, reason: r)
        case .notJSON(let f, let o, let r): self = .invalidConfig(file: f, path: "$", reason: "not valid JSON: \(r) at byte \(o)")
        case .unsupportedModelType(let f, let t, _): self = .invalidConfig(file: f, path: "$.model_type", reason: "unsupported model_type '\(t)'")
        }
    }
}

/// transformers' `BitsAndBytesConfig` as it serializes it into config.json.
public struct BitsAndBytesConfig: Sendable, Equatable {
    public var loadIn4Bit: Bool
    public var loadIn8Bit: Bool
    /// `bnb_4bit_quant_type` (transformers' default is fp4).
    public var quantType: FourBitType
    public var doubleQuant: Bool
    /// `llm_int8_threshold`: LLM.int8()'s outlier threshold for 8-bit checkpoints.
    public var threshold: Float
    public var skipModules: [String]?
    /// `bnb_4bit_compute_dtype`: what transformers computes in (Origami computes in float32 regardless).
    public var computeDType: String
    /// `bnb_4bit_quant_storage`: the element type the packed bytes are stored as (Origami reads the bytes).
    public var quantStorage: String

    public init(quantType: FourBitType, doubleQuant: Bool, skipModules: [String]? = nil, computeDType: String = "float32") {
        loadIn4Bit = true
        loadIn8Bit = false
        self.quantType = quantType
        self.doubleQuant = doubleQuant
        threshold = 6
        self.skipModules = skipModules
        self.computeDType = computeDType
        quantStorage = "uint8"
    }

    init(_ r: JSONObjectReader) throws {
        loadIn4Bit = try r.bool("load_in_4bit") ?? r.bool("_load_in_4bit") ?? false
        loadIn8Bit = try r.bool("load_in_8bit") ?? r.bool("_load_in_8bit") ?? false
        guard loadIn4Bit != loadIn8Bit else {
            throw QuantError.invalidConfig(file: r.file, path: r.keyPath("load_in_4bit"),
                                           reason: "exactly one of load_in_4bit and load_in_8bit must be true")
        }
        let type = try r.string("bnb_4bit_quant_type") ?? "fp4"
        guard let t = FourBitType(rawValue: type) else {
            throw QuantError.invalidConfig(file: r.file, path: r.keyPath("bnb_4bit_quant_type"), reason: "'\(type)' is not nf4 or fp4")
        }
        quantType = t
        doubleQuant = try r.bool("bnb_4bit_use_double_quant") ?? false
        let th = try r.double("llm_int8_threshold") ?? 6
        guard th.isFinite, th >= 0 else {
            throw QuantError.invalidConfig(file: r.file, path: r.keyPath("llm_int8_threshold"), reason: "must be a non-negative number, found \(th)")
        }
        threshold = Float(th)
        skipModules = try r.strings("llm_int8_skip_modules")
        computeDType = try r.string("bnb_4bit_compute_dtype") ?? "float32"
        quantStorage = try r.string("bnb_4bit_quant_storage") ?? "uint8"
    }

    public var summary: String {
        loadIn8Bit ? "bitsandbytes int8\(threshold > 0 ? " (LLM.int8(), threshold \(threshold))" : "")"
            : "bitsandbytes \(quantType.rawValue)\(doubleQuant ? ", double quant" : "")"
    }

    /// The `quantization_config` object as transformers 5 writes it for a 4-bit model.
    public var json: JSONValue {
        let skip: JSONValue = skipModules.map { .array($0.map { .string($0) }) } ?? .null
        return .object([
            ("_load_in_4bit", .bool(loadIn4Bit)), ("_load_in_8bit", .bool(loadIn8Bit)),
            ("bnb_4bit_compute_dtype", .string(computeDType)), ("bnb_4bit_quant_storage", .string(quantStorage)),
            ("bnb_4bit_quant_type", .string(quantType.rawValue)), ("bnb_4bit_use_double_quant", .bool(doubleQuant)),
            ("llm_int8_enable_fp32_cpu_offload", .bool(false)), ("llm_int8_has_fp16_weight", .bool(false)),
            ("llm_int8_skip_modules", skip), ("llm_int8_threshold", PythonJSON.number(Double(threshold))),
            ("load_in_4bit", .bool(loadIn4Bit)), ("load_in_8bit", .bool(loadIn8Bit)), ("quant_method", .string("bitsandbytes")),
        ])
    }
}

/// Origami's own quantized checkpoint format: safetensors plus a `quantization_config` that says everything needed
/// to read it, and per linear layer `<l>`:
///
/// | method | tensors |
/// |---|---|
/// | int8, llm-int8 | `<l>.weight` I8 `[out, in]`; `<l>.weight.scale` F32 `[out]` (row absmax: w ≈ q · scale / 127) |
/// | int8-zp | `<l>.weight` U8 `[out, in]`; `<l>.weight.scale` F32 `[out]`; `<l>.weight.zero` U8 `[out]` (w ≈ (q − zero) · scale) |
/// | nf4, fp4 | `<l>.weight` U8 `[out, in / 2]` (`[(out · in + 1) / 2]` when `in` is odd): bitsandbytes' packing of the flattened weight; `<l>.weight.absmax` F32 `[blocks]` |
/// | nf4, fp4 + double quant | as above but `<l>.weight.absmax` U8 `[blocks]`; `<l>.weight.nested_absmax` F32 `[ceil(blocks / 256)]`; `<l>.weight.nested_offset` F32 `[1]` |
///
/// Layers left in float (`skip_modules`, and embeddings) keep their float `<l>.weight`. The code books are not
/// stored: they are bitsandbytes' (`CodeBooks`), named by `method`.
///
///     "quantization_config": {"quant_method": "origami", "format_version": 1, "method": "nf4", "block_size": 64,
///                             "double_quant": true, "nested_block_size": 256, "llm_int8_threshold": 6.0,
///                             "skip_modules": ["lm_head"]}
public enum OrigamiQuantFormat {
    public static let quantMethod = "origami"
    public static let version = 1

    public static func json(_ spec: QuantSpec) -> JSONValue {
        var fields: [(key: String, value: JSONValue)] = [
            ("quant_method", .string(quantMethod)), ("format_version", PythonJSON.number(version)),
            ("method", .string(spec.method.rawValue)),
        ]
        if spec.method.isFourBit {
            fields += [("block_size", PythonJSON.number(spec.blockSize)), ("double_quant", .bool(spec.doubleQuant))]
            if spec.doubleQuant { fields.append(("nested_block_size", PythonJSON.number(DoubleQuant.blockSize))) }
        }
        if spec.method == .llmInt8 { fields.append(("llm_int8_threshold", PythonJSON.number(Double(spec.threshold)))) }
        fields.append(("skip_modules", .array(spec.skip.map { .string($0) })))
        return .object(fields)
    }

    static func parse(_ r: JSONObjectReader) throws -> QuantSpec {
        let version = try r.int("format_version") ?? 1
        guard version == Self.version else {
            throw QuantError.invalidConfig(file: r.file, path: r.keyPath("format_version"),
                                           reason: "format version \(version) is not supported (this Origami reads \(Self.version))")
        }
        guard let name = try r.string("method") else { throw QuantError.invalidConfig(file: r.file, path: r.keyPath("method"), reason: "missing") }
        let method: QuantMethod
        do { method = try QuantMethod(parsing: name) } catch {
            throw QuantError.invalidConfig(file: r.file, path: r.keyPath("method"), reason: error.description)
        }
        let blockSize = try r.int("block_size") ?? QuantSpec.defaultBlockSize
        let doubleQuant = try r.bool("double_quant") ?? false
        let nested = try r.int("nested_block_size") ?? DoubleQuant.blockSize
        guard nested == DoubleQuant.blockSize else {
            throw QuantError.invalidConfig(file: r.file, path: r.keyPath("nested_block_size"), reason: "must be 256, found \(nested)")
        }
        let threshold = try r.double("llm_int8_threshold") ?? Double(QuantSpec.defaultThreshold)
        let skip = try r.strings("skip_modules") ?? QuantSpec.defaultSkip
        do {
            return try QuantSpec(method: method, blockSize: blockSize, doubleQuant: doubleQuant, threshold: Float(threshold), skip: skip)
        } catch {
            let key = switch error {
            case .invalidBlockSize: "block_size"
            case .invalidThreshold: "llm_int8_threshold"
            default: "double_quant"
            }
            throw QuantError.invalidConfig(file: r.file, path: r.keyPath(key), reason: error.description)
        }
    }
}
