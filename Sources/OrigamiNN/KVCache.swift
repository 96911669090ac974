/// Keys and values of every layer for one sequence: `[capacity, kvHeads, headDim]` F32 per layer.
public final class KVCache: @unchecked Sendable {
    public let layers: Int
    public let capacity: Int
    public let kvHeads: Int
    public let headDim: Int
    public let keys: [FloatBuffer]
    public let values: [FloatBuffer]
    /// Positions filled so far.
    public var length = 0

    public init(layers: Int, capacity: Int, kvHeads: Int, headDim: Int) {
        self.layers = layers
        self.capacity = capacity
        self.kvHeads = kvHeads
        self.headDim = headDim
        keys = (0..<layers).map { _ in FloatBuffer(count: capacity * kvHeads * headDim) }
        values = (0..<layers).map { _ in FloatBuffer(count: capacity * kvHeads * headDim) }
    }

    public var byteCount: Int { 2 * layers * capacity * kvHeads * headDim * MemoryLayout<Float>.stride }

    /// Forget everything (the buffers are reused).
    public func reset() { length = 0 }
}
