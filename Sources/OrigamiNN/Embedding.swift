public import OrigamiTensor

/// A `[rows, width]` float table read in place: token embeddings, learned positions.
public struct Embedding: Sendable {
    public let table: TensorView
    public var rows: Int { table.shape[0] }
    public var width: Int { table.shape[1] }

    /// Binds `<name>.weight` `[rows, width]`.
    public init(_ scope: WeightScope, _ name: String, rows: Int, width: Int) throws(NNError) {
        let full = scope.fullName("\(name).weight")
        table = try scope.tensor("\(name).weight", shape: [rows, width])
        guard table.dtype.isFloatingPoint else {
            throw .unsupportedDType(name: full, dtype: table.dtype, supported: [.f32, .f16, .bf16])
        }
    }

    /// Copies row `index` into `out[width]` as F32 (`accumulate` adds instead).
    public func lookup(_ index: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        Ops.convertRow(table.raw + index * width * table.dtype.byteSize, dtype: table.dtype, count: width, into: out,
                       accumulate: accumulate)
    }
}
