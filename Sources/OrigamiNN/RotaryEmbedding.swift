public import OrigamiFormats
import Foundation

/// Rotary position embedding frequencies for a head dimension, with transformers' scaling variants
/// (`modeling_rope_utils.py`): linear, dynamic NTK, Llama 3, YaRN. Computed in Float like torch does.
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    public let config: RopeConfig
    /// `[headDim / 2]` inverse frequencies at the model's trained length.
    public let inverseFrequencies: [Float]
    /// Multiplies cos and sin (YaRN's attention temperature; 1 otherwise).
    public let attentionScaling: Float

    public init(headDim: Int, config: RopeConfig) {
        self.headDim = headDim
        self.config = config
        let base = Self.defaultFrequencies(headDim: headDim, theta: config.theta)
        switch config.scaling {
        case .none, .dynamic:
            inverseFrequencies = base
            attentionScaling = 1
        case .linear(let factor):
            inverseFrequencies = base.map { $0 / Float(factor) }
            attentionScaling = 1
        case .llama3(let factor, let low, let high, let original):
            let lowWavelength = Float(Double(original) / low)
            let highWavelength = Float(Double(original) / high)
            inverseFrequencies = base.map { f in
                let wavelength = 2 * Float.pi / f
                if wavelength < highWavelength { return f }
                if wavelength > lowWavelength { return f / Float(factor) }
                let smooth = (Float(original) / wavelength - Float(low)) / Float(high - low)
                return (1 - smooth) * f / Float(factor) + smooth * f
            }
            attentionScaling = 1
        case .yarn(let factor, let original, let betaFast, let betaSlow, let attentionFactor, let mscale, let mscaleAllDim, let truncate):
            func correctionDim(_ rotations: Double) -> Double {
                Double(headDim) * Foundation.log(Double(original) / (rotations * 2 * Double.pi)) / (2 * Foundation.log(config.theta))
            }
            var low = correctionDim(betaFast)
            var high = correctionDim(betaSlow)
            if truncate { low = low.rounded(.down); high = high.rounded(.up) }
            low = max(low, 0)
            high = min(high, Double(headDim - 1))
            if low == high { high += 0.001 }
            inverseFrequencies = base.enumerated().map { i, f in
                let ramp = Float(min(1, max(0, (Double(i) - low) / (high - low))))
                let extrapolationFactor = 1 - ramp
                return (f / Float(factor)) * (1 - extrapolationFactor) + f * extrapolationFactor
            }
            func getMscale(_ scale: Double, _ m: Double = 1) -> Double { scale <= 1 ? 1 : 0.1 * m * Foundation.log(scale) + 1 }
            if let attentionFactor {
                attentionScaling = Float(attentionFactor)
            } else if let mscale, let mscaleAllDim {
                attentionScaling = Float(getMscale(factor, mscale) / getMscale(factor, mscaleAllDim))
            } else {
                attentionScaling = Float(getMscale(factor))
            }
        }
    }

    static func defaultFrequencies(headDim: Int, theta: Double) -> [Float] {
        (0..<(headDim / 2)).map { i in 1 / Float(Foundation.pow(theta, Double(Float(2 * i) / Float(headDim)))) }
    }

    /// Frequencies for a sequence reaching `sequenceLength` tokens (dynamic NTK grows the base past the trained length).
    public func frequencies(sequenceLength: Int) -> [Float] {
        guard case .dynamic(let factor, let original) = config.scaling, sequenceLength > original else {
            return inverseFrequencies
        }
        let d = Double(headDim)
        let base = config.theta * Foundation.pow(factor * Double(sequenceLength) / Double(original) - (factor - 1), d / (d - 2))
        return Self.defaultFrequencies(headDim: headDim, theta: base)
    }

    /// cos and sin tables `[positions.count, headDim / 2]` for the given positions.
    public func tables(positions: Range<Int>) -> (cos: FloatBuffer, sin: FloatBuffer) {
        let half = headDim / 2
        let freqs = frequencies(sequenceLength: positions.upperBound)
        let cos = FloatBuffer(count: positions.count * half)
        let sin = FloatBuffer(count: positions.count * half)
        for (t, p) in positions.enumerated() {
            for i in 0..<half {
                let angle = Float(p) * freqs[i]
                cos[t * half + i] = Float(Foundation.cos(Double(angle))) * attentionScaling
                sin[t * half + i] = Float(Foundation.sin(Double(angle))) * attentionScaling
            }
        }
        return (cos, sin)
    }

    /// cos and sin tables `[batch.rows, headDim / 2]`, row by row at each row's position (dynamic NTK scales each
    /// sequence by its own length, as a run of that sequence alone would).
    public func tables(for batch: TokenBatch) -> (cos: FloatBuffer, sin: FloatBuffer) {
        if batch.segments.count == 1, let s = batch.segments.first { return tables(positions: s.start..<(s.start + s.count)) }
        let half = headDim / 2
        let cos = FloatBuffer(count: batch.rows * half)
        let sin = FloatBuffer(count: batch.rows * half)
        for s in batch.segments {
            let part = tables(positions: s.start..<(s.start + s.count))
            (cos.pointer + s.row * half).update(from: part.cos.pointer, count: s.count * half)
            (sin.pointer + s.row * half).update(from: part.sin.pointer, count: s.count * half)
        }
        return (cos, sin)
    }
}
