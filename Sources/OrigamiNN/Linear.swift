public import OrigamiTensor

/// A weight matrix in some storage format: dense F32/F16/BF16 today, quantized formats later. Layers hold
/// `any LinearWeight` and never know which format they got.
public protocol LinearWeight: Sendable {
    /// Columns of the Hugging Face `[out, in]` weight.
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    /// Bytes the weight occupies (what decode streams per token).
    var storageBytes: Int { get }
    /// A short name of the format, e.g. "F16".
    var formatName: String { get }
    /// The byte ranges of file mappings that `multiply` reads, so that placement can read a streamed layer ahead
    /// and release it after use. Bytes a weight holds elsewhere (heap buffers made at load) are left out: those
    /// cannot be released and count as resident. Defaults to none.
    var mappedRanges: [MappedRange] { get }
    /// The same weight reading its bytes from a copy: `address(r)` is where the copy of each of `mappedRanges` lies,
    /// kept alive by `owner`. Placement streams a layer by reading its ranges into a reusable buffer and running
    /// the relocated weights. nil (the default): the weight cannot move, and streams through the page cache.
    func relocated(_ address: (MappedRange) -> UnsafeRawPointer?, owner: any StorageOwner) -> (any LinearWeight)?
    /// `y[tokens, out] = x[tokens, in] · Wᵀ (+ bias[out])`.
    func multiply(_ x: UnsafePointer<Float>, tokens: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                  context: ComputeContext)
}

extension LinearWeight {
    public var mappedRanges: [MappedRange] { [] }
    public func relocated(_ address: (MappedRange) -> UnsafeRawPointer?, owner: any StorageOwner) -> (any LinearWeight)? { nil }
}

/// A dense weight used in place from its storage (normally the checkpoint's memory mapping), stored `[out, in]`
/// (nn.Linear) or, when `transposed`, `[in, out]` (GPT-2's Conv1D).
public struct DenseWeight: LinearWeight {
    public let view: TensorView
    public let transposed: Bool

    public init(_ view: TensorView, name: String, transposed: Bool = false) throws(NNError) {
        self.transposed = transposed
        guard view.shape.count == 2 else { throw .unsupported("tensor '\(name)': a linear weight must be 2-D, found \(view.shape)") }
        guard [.f32, .f16, .bf16].contains(view.dtype) else {
            throw .unsupportedDType(name: name, dtype: view.dtype, supported: [.f32, .f16, .bf16])
        }
        self.view = view
    }

    public var inFeatures: Int { view.shape[transposed ? 0 : 1] }
    public var outFeatures: Int { view.shape[transposed ? 1 : 0] }
    public var storageBytes: Int { view.byteCount }
    public var formatName: String { view.dtype.rawValue }
    public var mappedRanges: [MappedRange] { view.mappedRange.map { [$0] } ?? [] }

    public func relocated(_ address: (MappedRange) -> UnsafeRawPointer?, owner: any StorageOwner) -> (any LinearWeight)? {
        guard let range = view.mappedRange, let p = address(range) else { return nil }
        return DenseWeight(checked: TensorView(dtype: view.dtype, shape: view.shape, raw: p, owner: owner), transposed: transposed)
    }

    /// A view already validated by `init(_:name:transposed:)`.
    private init(checked view: TensorView, transposed: Bool) {
        self.view = view
        self.transposed = transposed
    }

    public func multiply(_ x: UnsafePointer<Float>, tokens: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                         context: ComputeContext)
    {
        if transposed {
            Ops.linearTransposed(x: x, tokens: tokens, weight: view.raw, dtype: view.dtype, inFeatures: inFeatures,
                                 outFeatures: outFeatures, bias: bias, y: y, context: context)
            return
        }
        Ops.linear(x: x, tokens: tokens, weight: view.raw, dtype: view.dtype, rows: outFeatures, cols: inFeatures, bias: bias,
                   y: y, context: context)
    }
}

/// `y = x · Wᵀ + b` over any weight format.
public struct Linear: Sendable {
    public let weight: any LinearWeight
    /// `[out]`
    public let bias: FloatBuffer?

    public init(weight: any LinearWeight, bias: FloatBuffer?) {
        self.weight = weight
        self.bias = bias
    }

    /// Binds `<name>.weight` `[out, in]` (`[in, out]` when `transposed`) and, when `bias` is true, `<name>.bias` `[out]`.
    public init(_ scope: WeightScope, _ name: String, inFeatures: Int, outFeatures: Int, bias: Bool,
                transposed: Bool = false) throws(NNError)
    {
        let s = scope.scope(name)
        weight = try scope.binder.bindLinear(s, inFeatures: inFeatures, outFeatures: outFeatures, transposed: transposed)
        self.bias = bias ? try s.floats("bias", count: outFeatures) : nil
    }

    public var inFeatures: Int { weight.inFeatures }
    public var outFeatures: Int { weight.outFeatures }

    /// This layer with its weight relocated (see `LinearWeight.relocated`); the bias is an F32 copy and stays.
    public func relocated(_ address: (MappedRange) -> UnsafeRawPointer?, owner: any StorageOwner) -> Linear? {
        weight.relocated(address, owner: owner).map { Linear(weight: $0, bias: bias) }
    }

    /// x: `[tokens, in]` → y: `[tokens, out]`.
    public func callAsFunction(_ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>, context: ComputeContext) {
        weight.multiply(x, tokens: tokens, bias: bias?.pointer, into: y, context: context)
    }
}

/// Makes the weight of one linear layer from the tensors under its scope (`<layer>.weight` and whatever a
/// quantized format stores beside it).
public protocol LinearBinder: Sendable {
    /// - Parameters:
    ///   - layer: the layer's scope, e.g. `model.layers.3.self_attn.q_proj`.
    ///   - transposed: the checkpoint stores the weight `[in, out]` (GPT-2's Conv1D).
    func bindLinear(_ layer: WeightScope, inFeatures: Int, outFeatures: Int, transposed: Bool) throws(NNError) -> any LinearWeight
}

/// Binds `<layer>.weight` as a dense F32/F16/BF16 weight, used in place.
public struct DenseBinder: LinearBinder {
    public init() {}

    public func bindLinear(_ layer: WeightScope, inFeatures: Int, outFeatures: Int, transposed: Bool) throws(NNError) -> any LinearWeight {
        let w = try layer.tensor("weight", shape: transposed ? [inFeatures, outFeatures] : [outFeatures, inFeatures])
        return try DenseWeight(w, name: layer.fullName("weight"), transposed: transposed)
    }
}
