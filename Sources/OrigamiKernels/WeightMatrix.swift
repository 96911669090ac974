public import OrigamiTensor

/// Errors from describing kernel inputs that come from files (a checkpoint's dtype or shape).
public enum KernelError: Error, Equatable, CustomStringConvertible {
    /// Matrices must be F32, F16 or BF16.
    case unsupportedDType(DType)
    /// A weight matrix must have two dimensions.
    case notAMatrix(shape: [Int])

    public var description: String {
        switch self {
        case .unsupportedDType(let d): "weight dtype \(d.rawValue) is not supported by the dense kernels (F32, F16, BF16)"
        case .notAMatrix(let s): "expected a 2-D weight matrix, got shape \(s)"
        }
    }
}

/// A weight matrix in Hugging Face `nn.Linear` layout, `W[out, in]` row-major, read where it lies (usually a
/// memory-mapped safetensors file): the kernels never make a second full copy of it.
///
/// Holds a raw pointer only; whoever made it keeps the bytes alive (a `TensorView` does, through its owner).
public struct WeightMatrix: @unchecked Sendable {
    /// First element of row 0.
    public let data: UnsafeRawPointer
    public let dtype: DType
    /// Output features.
    public let rows: Int
    /// Input features.
    public let cols: Int
    /// Elements from one row to the next (`cols` when the matrix is contiguous).
    public let rowStride: Int

    /// - Throws: `KernelError.unsupportedDType` unless `dtype` is F32, F16 or BF16.
    public init(data: UnsafeRawPointer, dtype: DType, rows: Int, cols: Int, rowStride: Int? = nil) throws(KernelError) {
        guard dtype.isFloatingPoint else { throw .unsupportedDType(dtype) }
        precondition(rows >= 0 && cols >= 0, "negative matrix size")
        precondition((rowStride ?? cols) >= cols, "rowStride shorter than a row")
        self.data = data
        self.dtype = dtype
        self.rows = rows
        self.cols = cols
        self.rowStride = rowStride ?? cols
    }

    /// The matrix behind a 2-D tensor view `[out, in]`.
    public init(_ view: TensorView) throws(KernelError) {
        guard view.shape.count == 2 else { throw .notAMatrix(shape: view.shape) }
        try self.init(data: view.raw, dtype: view.dtype, rows: view.shape[0], cols: view.shape[1])
    }

    /// Bytes of weight data the matrix spans (what a matrix × vector product has to stream).
    public var byteCount: Int { rows * cols * dtype.byteSize }

    /// C-side code for the element type.
    var kernelCode: Int32 {
        switch dtype {
        case .f16: 1
        case .bf16: 2
        default: 0
        }
    }
}
