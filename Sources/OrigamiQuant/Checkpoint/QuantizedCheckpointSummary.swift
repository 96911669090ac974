public import OrigamiFormats
import OrigamiTensor

/// What a quantized checkpoint holds, read from its headers and config alone (for `origami inspect`): which tensors
/// make up each quantized layer, the layer's logical weight count, and its bytes with scales and zero points.
public struct QuantizedCheckpointSummary: Sendable {
    public struct Layer: Sendable, Equatable {
        /// `<l>.weight`
        public let weight: String
        /// e.g. "nf4", "nf4-dq", "int8", "int8-zp".
        public let format: String
        /// Logical weights (`out · in`).
        public let parameters: Int
        /// Codes + absmax/scales + nested statistics + zero points (not bitsandbytes' per-layer code books and JSON).
        public let bytes: Int

        public var bitsPerWeight: Double { Double(bytes * 8) / Double(max(1, parameters)) }
    }

    public let quantization: CheckpointQuantization
    public let layers: [Layer]
    /// Tensors that belong to a quantized layer (codes, statistics, code books, quant states).
    public let layerTensors: Set<String>

    public var quantizedParameters: Int { layers.reduce(0) { $0 + $1.parameters } }
    public var quantizedBytes: Int { layers.reduce(0) { $0 + $1.bytes } }
    public var bitsPerWeight: Double { Double(quantizedBytes * 8) / Double(max(1, quantizedParameters)) }

    /// Parameters of the whole model: the quantized layers' logical weights plus every other tensor's elements.
    public func totalParameters(_ checkpoint: SafeTensorsCheckpoint) -> Int {
        quantizedParameters + checkpoint.entries.filter { !layerTensors.contains($0.name) }.reduce(0) { $0 + $1.elementCount }
    }

    /// - Returns: nil for a checkpoint without `quantization_config`.
    /// - Throws: `QuantError` for an unreadable `quantization_config` or bitsandbytes quant state.
    public static func read(_ checkpoint: SafeTensorsCheckpoint, quantization value: JSONValue?, configFile: String) throws(QuantError)
        -> QuantizedCheckpointSummary?
    {
        guard let q = try CheckpointQuantization.parse(value, file: configFile) else { return nil }
        var layers: [Layer] = []
        var tensors = Set<String>()
        func bytes(_ name: String) -> Int {
            guard let e = checkpoint.entry(named: name) else { return 0 }
            tensors.insert(name)
            return e.byteCount
        }
        switch q {
        case .origami(let spec):
            for e in checkpoint.entries where e.name.hasSuffix(".weight") && !e.dtype.isFloatingPoint {
                let w = e.name
                switch spec.method {
                case .int8, .llmInt8, .int8ZeroPoint:
                    guard checkpoint.contains(w + ".scale") else { continue }
                    let b = bytes(w) + bytes(w + ".scale") + bytes(w + ".zero")
                    layers.append(Layer(weight: w, format: spec.method == .int8ZeroPoint ? "int8-zp" : spec.method.rawValue,
                                        parameters: e.elementCount, bytes: b))
                case .nf4, .fp4:
                    guard checkpoint.contains(w + ".absmax") else { continue }
                    let b = bytes(w) + bytes(w + ".absmax") + bytes(w + ".nested_absmax") + bytes(w + ".nested_offset")
                    // [out, in / 2] gives the count exactly; a 1-D stream (odd `in`) holds 2 codes a byte.
                    let params = e.shape.count == 2 ? e.shape[0] * e.shape[1] * 2 : e.byteCount * 2
                    layers.append(Layer(weight: w, format: spec.method.rawValue + (spec.doubleQuant ? "-dq" : ""), parameters: params, bytes: b))
                }
            }
        case .bitsAndBytes:
            for e in checkpoint.entries {
                if let r = e.name.range(of: "." + BitsAndBytesFormat.quantStatePrefix) {
                    let w = String(e.name[..<r.lowerBound])
                    let view: TensorView
                    do { view = try checkpoint.tensor(named: e.name) } catch { throw .checkpoint(error) }
                    let state = try BitsAndBytesFormat.parseQuantState(view.bytes, tensor: e.name)
                    tensors.insert(e.name)
                    _ = bytes(w + ".quant_map")
                    _ = bytes(w + ".nested_quant_map")
                    let b = bytes(w) + bytes(w + ".absmax") + bytes(w + ".nested_absmax") + (state.nestedOffset != nil ? 4 : 0)
                    layers.append(Layer(weight: w, format: state.quantType.rawValue + (state.nestedOffset != nil ? "-dq" : ""),
                                        parameters: state.shape[0] * state.shape[1], bytes: b))
                } else if e.name.hasSuffix(".SCB") {
                    let w = String(e.name.dropLast(4)) + ".weight"
                    guard let codes = checkpoint.entry(named: w), codes.dtype == .i8 else { continue }
                    _ = bytes(w + "_format")
                    layers.append(Layer(weight: w, format: "int8", parameters: codes.elementCount, bytes: bytes(w) + bytes(e.name)))
                }
            }
        }
        return QuantizedCheckpointSummary(quantization: q, layers: layers, layerTensors: tensors)
    }
}
