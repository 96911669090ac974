public import OrigamiTensor

/// A 64-byte aligned buffer of Float: activations, scratch, KV cache, small weight vectors.
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let storage: AlignedBuffer
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        // Allocation failure of an activation buffer is not recoverable input: the process is out of memory.
        storage = try! AlignedBuffer(byteCount: max(1, count) * MemoryLayout<Float>.stride)
        pointer = storage.pointer(as: Float.self)
    }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
