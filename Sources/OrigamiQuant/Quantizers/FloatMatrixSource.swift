public import OrigamiTensor

/// A float weight about to be quantized: a stored F32/F16/BF16 tensor read as F32, in the logical `[rows, cols]`
/// (= `[out, in]`) row-major order that every quantizer here works in. GPT-2's Conv1D stores `[in, out]`; reading it
/// `transposed` gives the same `[out, in]` order, as transformers does when it quantizes a Conv1D.
///
/// Reads go straight to the tensor's storage (normally a memory mapping), a chunk at a time, so quantizing never
/// holds a float copy of the weight.
public struct FloatMatrixSource: Sendable {
    public let view: TensorView
    public let rows: Int
    public let cols: Int
    public let transposed: Bool

    /// - Throws: `QuantError.invalidTensor` naming `name` when the tensor is not a float `[rows, cols]` matrix
    ///   (`[cols, rows]` when transposed).
    public init(_ view: TensorView, name: String, rows: Int, cols: Int, transposed: Bool = false) throws(QuantError) {
        guard view.dtype.isFloatingPoint else {
            throw .invalidTensor(name: name, reason: "dtype \(view.dtype.rawValue) cannot be quantized (F32, F16 or BF16 expected)")
        }
        let expected = transposed ? [cols, rows] : [rows, cols]
        guard view.shape == expected else { throw .invalidTensor(name: name, reason: "expected shape \(expected), found \(view.shape)") }
        self.view = view
        self.rows = rows
        self.cols = cols
        self.transposed = transposed
    }

    /// A `[rows, cols]` F32 matrix in memory (tests, tools).
    public init(floats: UnsafeBufferPointer<Float>, rows: Int, cols: Int, owner: any StorageOwner) {
        precondition(floats.count == rows * cols, "FloatMatrixSource: \(floats.count) values for [\(rows), \(cols)]")
        view = TensorView(dtype: .f32, shape: [rows, cols], raw: UnsafeRawPointer(floats.baseAddress ?? UnsafePointer(bitPattern: 64)!),
                          owner: owner)
        self.rows = rows
        self.cols = cols
        transposed = false
    }

    public var count: Int { rows * cols }

    /// Copies the logical elements `start ..< start + n` (row-major `[rows, cols]` order) into `out[n]` as F32.
    public func read(_ start: Int, _ n: Int, into out: UnsafeMutablePointer<Float>) {
        if !transposed {
            convert(view.raw, dtype: view.dtype, from: start, count: n, into: out)
            return
        }
        for i in 0..<n {
            let e = start + i
            let (r, c) = e.quotientAndRemainder(dividingBy: cols)
            convert(view.raw, dtype: view.dtype, from: c * rows + r, count: 1, into: out + i)
        }
    }

    /// Row `r` (`[cols]`) as F32.
    public func readRow(_ r: Int, into out: UnsafeMutablePointer<Float>) { read(r * cols, cols, into: out) }

    @inline(__always)
    private func convert(_ raw: UnsafeRawPointer, dtype: DType, from start: Int, count n: Int, into out: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .f32:
            for i in 0..<n { out[i] = raw.loadUnaligned(fromByteOffset: (start + i) * 4, as: Float.self) }
        case .f16:
            for i in 0..<n { out[i] = Float(raw.loadUnaligned(fromByteOffset: (start + i) * 2, as: Float16.self)) }
        case .bf16:
            for i in 0..<n { out[i] = BFloat16.toFloat(raw.loadUnaligned(fromByteOffset: (start + i) * 2, as: UInt16.self)) }
        default:
            // Rejected in init.
            for i in 0..<n { out[i] = .nan }
        }
    }
}
