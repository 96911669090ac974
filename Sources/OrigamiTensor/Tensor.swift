/// Keeps the memory behind a tensor view alive: a `MappedFile`, an `AlignedBuffer`, or anything else.
public typealias StorageOwner = AnyObject & Sendable

/// A typed, shaped view of bytes owned by someone else (a file mapping or an aligned buffer); never a copy.
///
/// Row-major and contiguous. The view holds its owner, so the bytes live as long as any view of them; the bytes
/// are read-only once viewed, which is what makes sharing the pointer across threads safe.
public struct TensorView: @unchecked Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let raw: UnsafeRawPointer
    public let owner: any StorageOwner

    public init(dtype: DType, shape: [Int], raw: UnsafeRawPointer, owner: any StorageOwner) {
        self.dtype = dtype
        self.shape = shape
        self.raw = raw
        self.owner = owner
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * dtype.byteSize }
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: raw, count: byteCount) }

    /// The elements as a typed buffer; `T` must match the dtype's width.
    public func buffer<T>(as: T.Type) -> UnsafeBufferPointer<T> {
        precondition(MemoryLayout<T>.stride == dtype.byteSize, "element type does not match dtype \(dtype)")
        return UnsafeBufferPointer(start: raw.assumingMemoryBound(to: T.self), count: elementCount)
    }

    /// Converts every element to Float (for tests, tools and small tensors; hot paths read the stored type).
    public func toFloatArray() -> [Float] {
        let n = elementCount
        var out = [Float](repeating: 0, count: n)
        switch dtype {
        case .f32: for i in 0..<n { out[i] = raw.loadUnaligned(fromByteOffset: i * 4, as: Float.self) }
        case .f16: for i in 0..<n { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 2, as: Float16.self)) }
        case .bf16:
            for i in 0..<n { out[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) << 16) }
        case .i8: for i in 0..<n { out[i] = Float(raw.loadUnaligned(fromByteOffset: i, as: Int8.self)) }
        case .u8, .bool: for i in 0..<n { out[i] = Float(raw.loadUnaligned(fromByteOffset: i, as: UInt8.self)) }
        case .i16: for i in 0..<n { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)) }
        case .i32: for i in 0..<n { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
        case .i64: for i in 0..<n { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
        }
        return out
    }
}

/// bf16 <-> f32 by bit manipulation (round to nearest even on the way down, as torch does).
public enum BFloat16 {
    @inline(__always) public static func toFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }
    /// x rounded to the nearest bfloat16, as a Float.
    @inline(__always) public static func round(_ x: Float) -> Float { toFloat(fromFloat(x)) }
    @inline(__always) public static func fromFloat(_ x: Float) -> UInt16 {
        let u = x.bitPattern
        if x.isNaN { return UInt16(u >> 16) | 0x40 }
        let rounding = ((u >> 16) & 1) &+ 0x7FFF
        return UInt16((u &+ rounding) >> 16)
    }
}
