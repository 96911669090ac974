public import OrigamiFormats
public import OrigamiTensor

/// Binds checkpoint tensors by scoped names (`scope("model").scope("layers.3")["self_attn.q_proj.weight"]`), so that
/// a missing or mis-shaped tensor fails at load with its full name.
public struct WeightScope: Sendable {
    public let checkpoint: SafeTensorsCheckpoint
    public let prefix: String
    /// Turns a linear layer's stored tensors into a weight type: dense by default; quantize-at-load and quantized
    /// checkpoints supply their own binder, and no architecture file changes.
    public let binder: any LinearBinder

    public init(checkpoint: SafeTensorsCheckpoint, prefix: String = "", binder: any LinearBinder = DenseBinder()) {
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.binder = binder
    }

    public func scope(_ name: String) -> WeightScope {
        WeightScope(checkpoint: checkpoint, prefix: fullName(name), binder: binder)
    }

    public func fullName(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    public func contains(_ name: String) -> Bool { checkpoint.contains(fullName(name)) }

    /// The tensor, checked against the expected shape.
    public func tensor(_ name: String, shape: [Int]) throws(NNError) -> TensorView {
        let full = fullName(name)
        guard checkpoint.contains(full) else { throw .missingTensor(name: full, checkpoint: checkpoint.location) }
        let view: TensorView
        do { view = try checkpoint.tensor(named: full) } catch { throw .checkpoint(error) }
        guard view.shape == shape else { throw .wrongShape(name: full, expected: shape, found: view.shape) }
        return view
    }

    /// A float tensor (F32/F16/BF16) as F32 values: for small vectors (norm weights, biases), where a copy is cheap
    /// and saves a conversion on every use.
    public func floats(_ name: String, count: Int) throws(NNError) -> FloatBuffer {
        let view = try tensor(name, shape: [count])
        guard view.dtype.isFloatingPoint else {
            throw .unsupportedDType(name: fullName(name), dtype: view.dtype, supported: [.f32, .f16, .bf16])
        }
        let out = FloatBuffer(count: count)
        let values = view.toFloatArray()
        for i in 0..<count { out[i] = values[i] }
        return out
    }

    public func optionalFloats(_ name: String, count: Int) throws(NNError) -> FloatBuffer? {
        contains(name) ? try floats(name, count: count) : nil
    }
}
