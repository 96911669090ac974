public import OrigamiFormats
public import OrigamiNN
import OrigamiKernels
import OrigamiTensor

/// Chooses how a model's linear layers are bound: dense, from a quantized checkpoint (Origami's or transformers +
/// bitsandbytes'), or quantized while loading.
public enum QuantBinding {
    public struct Choice: Sendable {
        public let binder: any LinearBinder
        /// What the weights are, for reports (nil: stored float weights).
        public let summary: String?
    }

    /// - Parameters:
    ///   - quantization: config.json's `quantization_config`.
    ///   - configFile: config.json's path, for errors.
    ///   - quantizeAtLoad: `--quantize`: quantize a float checkpoint layer by layer while binding.
    /// - Throws: `QuantError` for an unreadable `quantization_config`, a corrupt bitsandbytes quant state, or
    ///   `--quantize` on a checkpoint that is already quantized.
    public static func choose(quantization: JSONValue?, configFile: String, checkpoint: SafeTensorsCheckpoint,
                              quantizeAtLoad: QuantSpec?) throws(QuantError) -> Choice
    {
        let stored = try CheckpointQuantization.parse(quantization, file: configFile)
        if let stored, quantizeAtLoad != nil { throw .alreadyQuantized(file: configFile, method: stored.summary) }
        switch stored {
        case .origami(let spec): return Choice(binder: FastKernelBinder(OrigamiQuantizedBinder(spec: spec)), summary: spec.summary)
        case .bitsAndBytes(let config):
            return Choice(binder: FastKernelBinder(try BitsAndBytesBinder(checkpoint: checkpoint, config: config)), summary: config.summary)
        case nil:
            guard let spec = quantizeAtLoad else { return Choice(binder: DenseBinder(), summary: nil) }
            return Choice(binder: FastKernelBinder(QuantizeAtLoadBinder(spec: spec)), summary: spec.summary + " (quantized at load)")
        }
    }
}

extension NNError {
    /// Binders throw `NNError`; a quantization problem travels as `.unsupported` with its full description.
    init(_ e: QuantError) {
        switch e {
        case .weights(let w): self = w
        case .checkpoint(let c): self = .checkpoint(c)
        default: self = .unsupported(e.description)
        }
    }
}

/// Reads a checkpoint written by `origami quantize` (format: `OrigamiQuantFormat`). Layers stored in float (the
/// skipped ones) bind densely.
public struct OrigamiQuantizedBinder: LinearBinder {
    public let spec: QuantSpec

    public init(spec: QuantSpec) { self.spec = spec }

    public func bindLinear(_ layer: WeightScope, inFeatures: Int, outFeatures: Int, transposed: Bool) throws(NNError) -> any LinearWeight {
        let name = layer.fullName("weight")
        guard let entry = layer.checkpoint.entry(named: name) else { throw .missingTensor(name: name, checkpoint: layer.checkpoint.location) }
        if entry.dtype.isFloatingPoint { return try DenseBinder().bindLinear(layer, inFeatures: inFeatures, outFeatures: outFeatures, transposed: transposed) }
        do throws(QuantError) {
            switch spec.method {
            case .int8, .llmInt8:
                let codes = try tensor(layer, "weight", shape: [outFeatures, inFeatures], dtype: .i8)
                let scales = try tensor(layer, "weight.scale", shape: [outFeatures], dtype: .f32)
                return try Int8Weight(codes: codes, scales: scales.floats(), threshold: spec.method == .llmInt8 ? spec.threshold : nil,
                                      name: name)
            case .int8ZeroPoint:
                let codes = try tensor(layer, "weight", shape: [outFeatures, inFeatures], dtype: .u8)
                let scales = try tensor(layer, "weight.scale", shape: [outFeatures], dtype: .f32)
                let zeros = try tensor(layer, "weight.zero", shape: [outFeatures], dtype: .u8)
                return try Int8ZeroPointWeight(codes: codes, scales: scales.floats(), zeros: Array(zeros.bytes), name: name)
            case .nf4, .fp4:
                let n = outFeatures * inFeatures
                let blocks = Blockwise4Bit.blocks(n, blockSize: spec.blockSize)
                let packedShape = inFeatures % 2 == 0 ? [outFeatures, inFeatures / 2] : [Blockwise4Bit.packedBytes(n)]
                let packed = try tensor(layer, "weight", shape: packedShape, dtype: .u8)
                let absmax: FourBitWeight.Absmax
                if spec.doubleQuant {
                    let nb = (blocks + DoubleQuant.blockSize - 1) / DoubleQuant.blockSize
                    let offset = try tensor(layer, "weight.nested_offset", shape: [1], dtype: .f32)
                    absmax = .double(codes: try tensor(layer, "weight.absmax", shape: [blocks], dtype: .u8),
                                     nested: try tensor(layer, "weight.nested_absmax", shape: [nb], dtype: .f32),
                                     offset: offset.float(at: 0), code: CodeBooks.dynamic, blockSize: DoubleQuant.blockSize)
                } else {
                    absmax = .plain(try tensor(layer, "weight.absmax", shape: [blocks], dtype: .f32))
                }
                return try FourBitWeight(type: spec.method.fourBitType!, outFeatures: outFeatures, inFeatures: inFeatures,
                                         blockSize: spec.blockSize, packed: packed, absmax: absmax, name: name)
            }
        } catch {
            throw NNError(error)
        }
    }

    func tensor(_ layer: WeightScope, _ name: String, shape: [Int], dtype: DType) throws(QuantError) -> TensorView {
        let v: TensorView
        do { v = try layer.tensor(name, shape: shape) } catch { throw .weights(error) }
        guard v.dtype == dtype else {
            throw .invalidTensor(name: layer.fullName(name), reason: "expected \(dtype.rawValue), found \(v.dtype.rawValue)")
        }
        return v
    }
}

/// Reads transformers + bitsandbytes checkpoints (`BitsAndBytesFormat`): 4-bit layers by their quant state, 8-bit
/// layers (`weight` I8 + `SCB`) as int8 / LLM.int8() with the config's threshold; anything else binds densely.
public struct BitsAndBytesBinder: LinearBinder {
    public let config: BitsAndBytesConfig
    /// Weight name (`<l>.weight`) → its parsed quant state and the name of the tensor it came from.
    public let states: [String: BitsAndBytesFormat.QuantState]

    /// Parses every `quant_state.bitsandbytes__*` tensor of the checkpoint up front, so a corrupt one is reported
    /// with its tensor name and JSON path before any layer is bound.
    public init(checkpoint: SafeTensorsCheckpoint, config: BitsAndBytesConfig) throws(QuantError) {
        var states: [String: BitsAndBytesFormat.QuantState] = [:]
        for e in checkpoint.entries {
            guard let r = e.name.range(of: "." + BitsAndBytesFormat.quantStatePrefix) else { continue }
            let weight = String(e.name[..<r.lowerBound])
            let view: TensorView
            do { view = try checkpoint.tensor(named: e.name) } catch { throw .checkpoint(error) }
            let state = try BitsAndBytesFormat.parseQuantState(view.bytes, tensor: e.name)
            let suffix = String(e.name[r.upperBound...])
            guard suffix == state.quantType.bnbName else {
                throw .invalidQuantState(tensor: e.name, path: "$.quant_type",
                                         reason: "'\(state.quantType.bnbName)' disagrees with the tensor name's '\(suffix)'")
            }
            states[weight] = state
        }
        self.config = config
        self.states = states
    }

    public func bindLinear(_ layer: WeightScope, inFeatures: Int, outFeatures: Int, transposed: Bool) throws(NNError) -> any LinearWeight {
        let name = layer.fullName("weight")
        do throws(QuantError) {
            if let state = states[name] { return try bindFourBit(layer, name: name, state: state, inFeatures: inFeatures, outFeatures: outFeatures) }
            if layer.contains("SCB"), layer.checkpoint.entry(named: name)?.dtype == .i8 {
                let codes = try view(layer, "weight")
                guard codes.shape == [outFeatures, inFeatures] else { throw .weights(.wrongShape(name: name, expected: [outFeatures, inFeatures], found: codes.shape)) }
                let scb = try view(layer, "SCB")
                guard scb.dtype == .f32, scb.elementCount == outFeatures else {
                    throw .invalidTensor(name: layer.fullName("SCB"), reason: "expected F32 [\(outFeatures)], found \(scb.dtype.rawValue) \(scb.shape)")
                }
                return try Int8Weight(codes: codes, scales: scb.floats(), threshold: config.threshold > 0 ? config.threshold : nil, name: name)
            }
        } catch {
            throw NNError(error)
        }
        return try DenseBinder().bindLinear(layer, inFeatures: inFeatures, outFeatures: outFeatures, transposed: transposed)
    }

    func bindFourBit(_ layer: WeightScope, name: String, state: BitsAndBytesFormat.QuantState, inFeatures: Int,
                     outFeatures: Int) throws(QuantError) -> FourBitWeight
    {
        // transformers quantizes a Conv1D weight after transposing it, so the quantized shape is always [out, in].
        guard state.shape == [outFeatures, inFeatures] else {
            throw .invalidQuantState(tensor: BitsAndBytesFormat.quantStateName(weight: name, type: state.quantType), path: "$.shape",
                                     reason: "\(state.shape) does not match the layer's [\(outFeatures), \(inFeatures)]")
        }
        // Packed bytes may be stored as another element type (bnb_4bit_quant_storage): only their bytes count.
        let packed = try view(layer, "weight")
        let code = try floats(layer, "weight.quant_map", count: 16)
        let absmax: FourBitWeight.Absmax
        if let nestedBlock = state.nestedBlockSize, let offset = state.nestedOffset {
            absmax = .double(codes: try view(layer, "weight.absmax"), nested: try view(layer, "weight.nested_absmax"), offset: offset,
                             code: try floats(layer, "weight.nested_quant_map", count: 256), blockSize: nestedBlock)
        } else {
            absmax = .plain(try view(layer, "weight.absmax"))
        }
        return try FourBitWeight(type: state.quantType, code: code, outFeatures: outFeatures, inFeatures: inFeatures,
                                 blockSize: state.blockSize, packed: packed, absmax: absmax, name: name)
    }

    func view(_ layer: WeightScope, _ name: String) throws(QuantError) -> TensorView {
        let full = layer.fullName(name)
        guard layer.contains(name) else { throw .weights(.missingTensor(name: full, checkpoint: layer.checkpoint.location)) }
        do { return try layer.checkpoint.tensor(named: full) } catch { throw .checkpoint(error) }
    }

    func floats(_ layer: WeightScope, _ name: String, count: Int) throws(QuantError) -> [Float] {
        let v = try view(layer, name)
        guard v.dtype == .f32, v.elementCount == count else {
            throw .invalidTensor(name: layer.fullName(name), reason: "expected F32 [\(count)], found \(v.dtype.rawValue) \(v.shape)")
        }
        return v.floats()
    }
}

/// Quantizes a float checkpoint while binding it: each linear weight is read from its memory mapping, quantized
/// into memory, and its float pages are then dropped from this process (`MappedFile.advise`), so the process holds
/// the quantized model plus about one float layer at a time. Layers matching `spec.skip` stay float, in place.
public struct QuantizeAtLoadBinder: LinearBinder {
    public let spec: QuantSpec

    public init(spec: QuantSpec) { self.spec = spec }

    public func bindLinear(_ layer: WeightScope, inFeatures: Int, outFeatures: Int, transposed: Bool) throws(NNError) -> any LinearWeight {
        if spec.skips(layer.prefix) {
            return try DenseBinder().bindLinear(layer, inFeatures: inFeatures, outFeatures: outFeatures, transposed: transposed)
        }
        let name = layer.fullName("weight")
        let view = try layer.tensor("weight", shape: transposed ? [inFeatures, outFeatures] : [outFeatures, inFeatures])
        do throws(QuantError) {
            let src = try FloatMatrixSource(view, name: name, rows: outFeatures, cols: inFeatures, transposed: transposed)
            let weight = try Self.quantize(src, spec: spec)
            if let entry = layer.checkpoint.entry(named: name), let mapping = layer.checkpoint.mapping(of: name) {
                mapping.advise(offset: entry.fileOffset, count: entry.byteCount, willNeed: false)
            }
            return weight
        } catch {
            throw NNError(error)
        }
    }

    /// The weight type `spec` asks for, quantized from `src`.
    public static func quantize(_ src: FloatMatrixSource, spec: QuantSpec) throws(QuantError) -> any LinearWeight {
        switch spec.method {
        case .int8: try Int8Weight(quantizing: src, threshold: nil)
        case .llmInt8: try Int8Weight(quantizing: src, threshold: spec.threshold)
        case .int8ZeroPoint: try Int8ZeroPointWeight(quantizing: src)
        case .nf4, .fp4: try FourBitWeight(quantizing: src, type: spec.method.fourBitType!, blockSize: spec.blockSize, doubleQuant: spec.doubleQuant)
        }
    }
}
