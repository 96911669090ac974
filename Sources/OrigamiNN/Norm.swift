public import OrigamiFormats

/// RMSNorm (Llama) or LayerNorm (Falcon, BLOOM, OPT, GPT-2), applied row by row.
public struct Norm: Sendable {
    public let kind: NormKind
    public let weight: FloatBuffer?
    public let bias: FloatBuffer?
    public let eps: Float
    public let width: Int

    /// Binds `<name>.weight` and, for LayerNorm, `<name>.bias` when present (OPT can run without affine terms).
    public init(_ scope: WeightScope, _ name: String, kind: NormKind, width: Int, eps: Double) throws(NNError) {
        let s = scope.scope(name)
        self.kind = kind
        self.width = width
        self.eps = Float(eps)
        weight = try s.optionalFloats("weight", count: width)
        bias = kind == .layer ? try s.optionalFloats("bias", count: width) : nil
        if kind == .rms && weight == nil { throw .missingTensor(name: s.fullName("weight"), checkpoint: scope.checkpoint.location) }
    }

    /// x: `[rows, width]` → y: `[rows, width]` (may alias x).
    public func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            switch kind {
            case .rms: Ops.rmsNorm(x + r * width, weight: weight?.pointer, eps: eps, count: width, into: y + r * width)
            case .layer: Ops.layerNorm(x + r * width, weight: weight?.pointer, bias: bias?.pointer, eps: eps, count: width, into: y + r * width)
            }
        }
    }
}
