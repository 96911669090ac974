public import OrigamiTensor

/// Storage for quantized tensors made in memory (quantize-at-load): 64-byte aligned, viewed as a `TensorView` so
/// that loaded and freshly quantized weights are the same type.
public enum QuantStorage {
    /// A zeroed tensor and a pointer to fill it through (before the view is shared).
    public static func make(_ dtype: DType, shape: [Int]) throws(QuantError) -> (view: TensorView, data: UnsafeMutableRawPointer) {
        let bytes = shape.reduce(1, *) * dtype.byteSize
        let buffer: AlignedBuffer
        do { buffer = try AlignedBuffer(byteCount: max(1, bytes)) } catch {
            throw .unsupported("cannot allocate \(bytes) bytes for a quantized tensor: \(error)")
        }
        return (TensorView(dtype: dtype, shape: shape, raw: UnsafeRawPointer(buffer.raw), owner: buffer), buffer.raw)
    }

    public static func make<T>(_ values: [T], dtype: DType) throws(QuantError) -> TensorView {
        precondition(MemoryLayout<T>.stride == dtype.byteSize, "element type does not match \(dtype)")
        let (view, data) = try make(dtype, shape: [values.count])
        values.withUnsafeBytes { data.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return view
    }
}

extension TensorView {
    /// Element `i` of an F32 tensor, read without assuming alignment (safetensors offsets need not be aligned).
    @inline(__always)
    func float(at i: Int) -> Float { raw.loadUnaligned(fromByteOffset: i * 4, as: Float.self) }

    /// All elements of an F32 tensor.
    func floats() -> [Float] { (0..<elementCount).map { float(at: $0) } }

    var bytePointer: UnsafePointer<UInt8> { raw.assumingMemoryBound(to: UInt8.self) }
}
