public import OrigamiNN
public import OrigamiTensor

/// NF4 or FP4 codes with blockwise absmax, in bitsandbytes' layout: the `[out, in]` weight flattened row-major, cut
/// into blocks of `blockSize`, two codes a byte (first element in the high nibble).
/// `w[e] = code[q[e]] · absmax[e / blockSize]`, float32.
public struct FourBitWeight: QuantizedLinearWeight {
    /// The absmax values: float32, or (double quantization) 8-bit codes of `absmax − offset` with their own
    /// blockwise scales.
    public enum Absmax: Sendable {
        /// `[blocks]` F32.
        case plain(TensorView)
        /// `codes` `[blocks]` U8, `nested` `[ceil(blocks / blockSize)]` F32, `code` the 256-entry dynamic map:
        /// `absmax[b] = code[codes[b]] · nested[b / blockSize] + offset`.
        case double(codes: TensorView, nested: TensorView, offset: Float, code: [Float], blockSize: Int)
    }

    public let type: FourBitType
    /// Code → value (16 entries). bitsandbytes checkpoints carry their own (`quant_map`); it equals `type.code`.
    public let code: [Float]
    public let outFeatures: Int
    public let inFeatures: Int
    public let blockSize: Int
    /// `[(out · in + 1) / 2]` bytes (any shape and dtype: bitsandbytes may store them as other element types).
    public let packed: TensorView
    public let absmax: Absmax

    public var elementCount: Int { outFeatures * inFeatures }
    public var blocks: Int { Blockwise4Bit.blocks(elementCount, blockSize: blockSize) }
    public var isDoubleQuantized: Bool { if case .double = absmax { true } else { false } }

    /// - Throws: `QuantError.invalidTensor` naming `name` when sizes disagree with the shape and block size.
    public init(type: FourBitType, code: [Float]? = nil, outFeatures: Int, inFeatures: Int, blockSize: Int, packed: TensorView,
                absmax: Absmax, name: String) throws(QuantError)
    {
        let n = outFeatures * inFeatures
        let blocks = Blockwise4Bit.blocks(n, blockSize: blockSize)
        guard blockSize > 0, blockSize % 2 == 0 else {
            throw .invalidTensor(name: name, reason: "block size \(blockSize) must be a positive even number")
        }
        guard packed.byteCount == Blockwise4Bit.packedBytes(n) else {
            throw .invalidTensor(name: name, reason: "\(packed.byteCount) bytes of packed codes for \(n) elements (expected \(Blockwise4Bit.packedBytes(n)))")
        }
        let table = code ?? type.code
        guard table.count == 16 else { throw .invalidTensor(name: name, reason: "a 4-bit code has 16 entries, found \(table.count)") }
        switch absmax {
        case .plain(let a):
            guard a.dtype == .f32, a.elementCount == blocks else {
                throw .invalidTensor(name: name + ".absmax", reason: "expected F32 [\(blocks)], found \(a.dtype.rawValue) \(a.shape)")
            }
        case .double(let codes, let nested, _, let dynamic, let nestedBlock):
            let nestedBlocks = nestedBlock > 0 ? (blocks + nestedBlock - 1) / nestedBlock : -1
            guard codes.dtype == .u8, codes.elementCount == blocks else {
                throw .invalidTensor(name: name + ".absmax", reason: "expected U8 [\(blocks)], found \(codes.dtype.rawValue) \(codes.shape)")
            }
            guard nested.dtype == .f32, nested.elementCount == nestedBlocks else {
                throw .invalidTensor(name: name + ".nested_absmax",
                                     reason: "expected F32 [\(nestedBlocks)], found \(nested.dtype.rawValue) \(nested.shape)")
            }
            guard dynamic.count == 256 else {
                throw .invalidTensor(name: name + ".nested_quant_map", reason: "an 8-bit code has 256 entries, found \(dynamic.count)")
            }
        }
        self.type = type
        self.code = table
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        self.blockSize = blockSize
        self.packed = packed
        self.absmax = absmax
    }

    /// Quantizes a float weight exactly as bitsandbytes' `quantize_4bit` (± `compress_statistics`).
    public init(quantizing src: FloatMatrixSource, type: FourBitType, blockSize: Int, doubleQuant: Bool) throws(QuantError) {
        try QuantSpec.validate(blockSize: blockSize)
        let (packed, data) = try QuantStorage.make(.u8, shape: [Blockwise4Bit.packedBytes(src.count)])
        let am = Blockwise4Bit.quantize(src, type: type, blockSize: blockSize, into: data.assumingMemoryBound(to: UInt8.self))
        let absmax: Absmax
        if doubleQuant {
            let dq = DoubleQuant.quantize(am)
            absmax = .double(codes: try QuantStorage.make(dq.codes, dtype: .u8), nested: try QuantStorage.make(dq.nestedAbsmax, dtype: .f32),
                             offset: dq.offset, code: CodeBooks.dynamic, blockSize: DoubleQuant.blockSize)
        } else {
            absmax = .plain(try QuantStorage.make(am, dtype: .f32))
        }
        try self.init(type: type, outFeatures: src.rows, inFeatures: src.cols, blockSize: blockSize, packed: packed, absmax: absmax,
                      name: "(quantized)")
    }

    public var storageBytes: Int {
        switch absmax {
        case .plain(let a): packed.byteCount + a.byteCount
        case .double(let codes, let nested, _, _, _): packed.byteCount + codes.byteCount + nested.byteCount + 4
        }
    }

    public var formatName: String { type.rawValue + (isDoubleQuantized ? "-dq" : "") }
    public var bitsPerWeight: Double { Double(storageBytes * 8) / Double(max(1, elementCount)) }

    public func multiply(_ x: UnsafePointer<Float>, tokens: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                         context: ComputeContext)
    {
        QuantReference.multiply(self, x, tokens: tokens, bias: bias, into: y, context: context)
    }

    /// The absmax of block `b`, float32, as bitsandbytes dequantizes it.
    @inline(__always)
    public func scale(ofBlock b: Int) -> Float {
        switch absmax {
        case .plain(let a): a.float(at: b)
        case .double(let codes, let nested, let offset, let dynamic, let nestedBlock):
            dynamic[Int(codes.bytePointer[b])] * nested.float(at: b / nestedBlock) + offset
        }
    }

    /// All block absmax values, dequantized.
    public func scales() -> [Float] { (0..<blocks).map { scale(ofBlock: $0) } }

    /// Elements `start ..< start + count` of the flattened weight, dequantized (`code[q] · absmax`, float32).
    public func dequantize(_ start: Int, _ count: Int, into out: UnsafeMutablePointer<Float>) {
        let p = packed.bytePointer
        var e = start
        let end = start + count
        code.withUnsafeBufferPointer { table in
            let c = table.baseAddress!
            while e < end {
                let b = e / blockSize
                let s = scale(ofBlock: b)
                let blockEnd = min(end, (b + 1) * blockSize)
                // An odd start, then whole bytes (two codes each), then an odd end.
                if e & 1 == 1, e < blockEnd {
                    out[e - start] = c[Int(p[e >> 1] & 0x0F)] * s
                    e += 1
                }
                while e + 1 < blockEnd {
                    let byte = p[e >> 1]
                    out[e - start] = c[Int(byte >> 4)] * s
                    out[e - start + 1] = c[Int(byte & 0x0F)] * s
                    e += 2
                }
                if e < blockEnd {
                    out[e - start] = c[Int(p[e >> 1] >> 4)] * s
                    e += 1
                }
            }
        }
    }

    /// Rows `rows` (`[rows.count, in]`) dequantized.
    public func dequantizeRows(_ rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        dequantize(rows.lowerBound * inFeatures, rows.count * inFeatures, into: out)
    }
}
