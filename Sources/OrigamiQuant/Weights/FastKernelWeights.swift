public import OrigamiKernels
public import OrigamiNN
import OrigamiTensor

/// The weight types the engine runs: each repacks a reference quantized weight (`Int8Weight`, `Int8ZeroPointWeight`,
/// `FourBitWeight`, whose plain multiplies the kernels are tested against) at load into the layout the SIMD kernels
/// stream best, and keeps only that. The reference weight's own storage (a mapped file's pages, or the buffer a
/// quantize-at-load produced) is released with it.
public struct FastInt8Weight: QuantizedLinearWeight {
    public let weights: Int8Weights
    public let activations: Int8ActivationQuantization
    public let formatName: String
    public let bitsPerWeight: Double
    public let storageBytes: Int
    public var inFeatures: Int { weights.cols }
    public var outFeatures: Int { weights.rows }

    public init(_ w: Int8Weight, pool: ThreadPool) throws(QuantizedWeightError) {
        weights = try Int8Weights(codes: w.codes.raw.assumingMemoryBound(to: Int8.self), scales: w.scales.pointer,
                                  rows: w.outFeatures, cols: w.inFeatures, pool: pool)
        // bitsandbytes' MatMul8bitLt: activations through float16, its rescale constant, LLM.int8()'s outliers.
        activations = .bitsandbytes(threshold: w.threshold ?? 0)
        formatName = w.formatName
        bitsPerWeight = w.bitsPerWeight
        storageBytes = w.storageBytes
        w.codes.releasePages()
    }

    public init(_ w: Int8ZeroPointWeight, pool: ThreadPool) throws(QuantizedWeightError) {
        let zeros = w.zeros.map(Float.init)
        weights = try zeros.withUnsafeBufferPointer { z throws(QuantizedWeightError) in
            try Int8Weights(codes: w.codes.raw.assumingMemoryBound(to: UInt8.self), scales: w.scales.pointer,
                            zeroPoints: z.baseAddress!, rows: w.outFeatures, cols: w.inFeatures, pool: pool)
        }
        activations = Int8ActivationQuantization()
        formatName = w.formatName
        bitsPerWeight = w.bitsPerWeight
        storageBytes = w.storageBytes
        w.codes.releasePages()
    }

    public func multiply(_ x: UnsafePointer<Float>, tokens: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                         context: ComputeContext)
    {
        _ = int8Linear(x: x, tokens: tokens, weight: weights, bias: bias, y: y, activations: activations, pool: context.pool)
    }
}

public struct FastFourBitWeight: QuantizedLinearWeight {
    public let weights: Packed4BitWeights
    public let formatName: String
    public let bitsPerWeight: Double
    public let storageBytes: Int
    public var inFeatures: Int { weights.cols }
    public var outFeatures: Int { weights.rows }

    public init(_ w: FourBitWeight, pool: ThreadPool) throws(QuantizedWeightError) {
        // Double-quantized absmax is expanded to float32 once, exactly as bitsandbytes dequantizes it.
        let absmax = (0..<w.blocks).map { w.scale(ofBlock: $0) }
        weights = try absmax.withUnsafeBufferPointer { a throws(QuantizedWeightError) in
            try Packed4BitWeights.repack(codes: w.packed.raw.assumingMemoryBound(to: UInt8.self), absmax: a.baseAddress!,
                                         codebook: w.code, rows: w.outFeatures, cols: w.inFeatures, blockSize: w.blockSize,
                                         pool: pool)
        }
        formatName = w.formatName
        bitsPerWeight = w.bitsPerWeight
        storageBytes = w.storageBytes
        w.packed.releasePages()
    }

    public func multiply(_ x: UnsafePointer<Float>, tokens: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                         context: ComputeContext)
    {
        fourBitLinear(x: x, tokens: tokens, weight: weights, bias: bias, y: y,
                      precision: context.prefillPrecision == .bf16 ? .bf16 : .f32, pool: context.pool)
    }
}

/// Wraps a binder so that the quantized weights it binds run on the fast kernels; dense weights pass through.
public struct FastKernelBinder: LinearBinder {
    public let inner: any LinearBinder

    public init(_ inner: any LinearBinder) { self.inner = inner }

    public func bindLinear(_ layer: WeightScope, inFeatures: Int, outFeatures: Int, transposed: Bool) throws(NNError) -> any LinearWeight {
        let w = try inner.bindLinear(layer, inFeatures: inFeatures, outFeatures: outFeatures, transposed: transposed)
        do {
            switch w {
            case let q as Int8Weight: return try FastInt8Weight(q, pool: .shared)
            case let q as Int8ZeroPointWeight: return try FastInt8Weight(q, pool: .shared)
            case let q as FourBitWeight: return try FastFourBitWeight(q, pool: .shared)
            default: return w
            }
        } catch {
            throw .unsupported("\(layer.fullName("weight")): cannot repack for the quantized kernels: \(error)")
        }
    }
}

extension TensorView {
    /// Drops this view's pages from the process when it lives in a file mapping (they are re-read on demand).
    func releasePages() {
        guard let file = owner as? MappedFile, let base = file.base else { return }
        file.advise(offset: raw - base, count: byteCount, willNeed: false)
    }
}
