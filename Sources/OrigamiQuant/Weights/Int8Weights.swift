public import OrigamiNN
public import OrigamiTensor

/// int8 codes with one scale per output row: `w[r, k] ≈ codes[r, k] · scales[r] / 127` (bitsandbytes' `CB`/`SCB`).
///
/// With `threshold` set this is LLM.int8(): in each call, input columns holding an activation with |x| ≥ threshold
/// are multiplied in float against the dequantized weight columns, the rest as int8 × int8 → int32.
public struct Int8Weight: QuantizedLinearWeight {
    public let outFeatures: Int
    public let inFeatures: Int
    /// `[out, in]` I8.
    public let codes: TensorView
    /// `[out]`: each row's max |w| (of the float16-rounded weight).
    public let scales: FloatBuffer
    /// LLM.int8()'s outlier threshold; nil for plain int8.
    public let threshold: Float?

    /// - Throws: `QuantError.invalidTensor` naming `name` if the codes are not I8 `[out, in]`.
    public init(codes: TensorView, scales: [Float], threshold: Float?, name: String) throws(QuantError) {
        guard codes.dtype == .i8, codes.shape.count == 2 else {
            throw .invalidTensor(name: name, reason: "int8 codes must be a 2-D I8 tensor, found \(codes.dtype.rawValue) \(codes.shape)")
        }
        guard scales.count == codes.shape[0] else {
            throw .invalidTensor(name: name, reason: "\(scales.count) row scales for \(codes.shape[0]) rows")
        }
        outFeatures = codes.shape[0]
        inFeatures = codes.shape[1]
        self.codes = codes
        let s = FloatBuffer(count: scales.count)
        for (i, v) in scales.enumerated() { s[i] = v }
        self.scales = s
        self.threshold = threshold
    }

    /// Quantizes a float weight (bitsandbytes' `int8_vectorwise_quant` of its float16 rounding).
    public init(quantizing src: FloatMatrixSource, threshold: Float?) throws(QuantError) {
        let (codes, data) = try QuantStorage.make(.i8, shape: [src.rows, src.cols])
        var scales = [Float](repeating: 0, count: src.rows)
        scales.withUnsafeMutableBufferPointer {
            RowwiseInt8.quantizeWeight(src, codes: data.assumingMemoryBound(to: Int8.self), scales: $0.baseAddress!)
        }
        try self.init(codes: codes, scales: scales, threshold: threshold, name: "(quantized)")
    }

    public var storageBytes: Int { codes.byteCount + outFeatures * 4 }
    public var formatName: String { threshold == nil ? "int8" : "llm-int8" }
    public var bitsPerWeight: Double { Double(storageBytes * 8) / Double(max(1, inFeatures * outFeatures)) }

    public func multiply(_ x: UnsafePointer<Float>, tokens: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                         context: ComputeContext)
    {
        QuantReference.multiply(self, x, tokens: tokens, bias: bias, into: y, context: context)
    }

    /// Row `r` dequantized as bitsandbytes does (`codes · scale · (1/127)`, float32, in that order).
    public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        let q = codes.raw.assumingMemoryBound(to: Int8.self) + r * inFeatures
        let s = scales[r]
        for k in 0..<inFeatures { out[k] = (Float(q[k]) * s) * RowwiseInt8.inverse127 }
    }
}

/// uint8 codes with a scale and a zero point per output row: `w[r, k] ≈ (codes[r, k] − zeros[r]) · scales[r]`
/// (`RowwiseInt8.quantizeWeightZeroPoint` states the formula).
public struct Int8ZeroPointWeight: QuantizedLinearWeight {
    public let outFeatures: Int
    public let inFeatures: Int
    /// `[out, in]` U8.
    public let codes: TensorView
    /// `[out]`
    public let scales: FloatBuffer
    /// `[out]`
    public let zeros: [UInt8]

    public init(codes: TensorView, scales: [Float], zeros: [UInt8], name: String) throws(QuantError) {
        guard codes.dtype == .u8, codes.shape.count == 2 else {
            throw .invalidTensor(name: name, reason: "int8-zp codes must be a 2-D U8 tensor, found \(codes.dtype.rawValue) \(codes.shape)")
        }
        guard scales.count == codes.shape[0], zeros.count == codes.shape[0] else {
            throw .invalidTensor(name: name, reason: "\(scales.count) scales and \(zeros.count) zero points for \(codes.shape[0]) rows")
        }
        outFeatures = codes.shape[0]
        inFeatures = codes.shape[1]
        self.codes = codes
        let s = FloatBuffer(count: scales.count)
        for (i, v) in scales.enumerated() { s[i] = v }
        self.scales = s
        self.zeros = zeros
    }

    public init(quantizing src: FloatMatrixSource) throws(QuantError) {
        let (codes, data) = try QuantStorage.make(.u8, shape: [src.rows, src.cols])
        var scales = [Float](repeating: 0, count: src.rows)
        var zeros = [UInt8](repeating: 0, count: src.rows)
        scales.withUnsafeMutableBufferPointer { s in
            zeros.withUnsafeMutableBufferPointer { z in
                RowwiseInt8.quantizeWeightZeroPoint(src, codes: data.assumingMemoryBound(to: UInt8.self), scales: s.baseAddress!,
                                                    zeros: z.baseAddress!)
            }
        }
        try self.init(codes: codes, scales: scales, zeros: zeros, name: "(quantized)")
    }

    public var storageBytes: Int { codes.byteCount + outFeatures * (4 + 1) }
    public var formatName: String { "int8-zp" }
    public var bitsPerWeight: Double { Double(storageBytes * 8) / Double(max(1, inFeatures * outFeatures)) }

    public func multiply(_ x: UnsafePointer<Float>, tokens: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                         context: ComputeContext)
    {
        QuantReference.multiply(self, x, tokens: tokens, bias: bias, into: y, context: context)
    }

    public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        let q = codes.raw.assumingMemoryBound(to: UInt8.self) + r * inFeatures
        let s = scales[r], z = Int(zeros[r])
        for k in 0..<inFeatures { out[k] = Float(Int(q[k]) - z) * s }
    }
}
