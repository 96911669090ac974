public import OrigamiModels
public import OrigamiNN

/// The linear weights of a loaded model by format, and their bits per weight counted with scales and zero points
/// (what `origami bench` reports next to its speeds).
public struct WeightSummary: Sendable {
    /// Logical weights (`out · in`) of every linear layer.
    public var parameters: Int
    /// Their storage: codes + scales + zero points, or the float bytes.
    public var bytes: Int
    /// Format name → layer count, e.g. ["nf4": 14, "F32": 1].
    public var formats: [String: Int]

    public var bitsPerWeight: Double { Double(bytes * 8) / Double(max(1, parameters)) }

    /// "nf4 ×14, F32 ×1".
    public var formatList: String { formats.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ") }

    /// nil for a model that is not a `DecoderModel`.
    public static func of(_ model: any CausalLM) -> WeightSummary? {
        guard let m = model as? DecoderModel else { return nil }
        var s = WeightSummary(parameters: 0, bytes: 0, formats: [:])
        for w in linearWeights(m) {
            s.parameters += w.inFeatures * w.outFeatures
            s.bytes += w.storageBytes
            s.formats[w.formatName, default: 0] += 1
        }
        return s
    }

    /// Every linear weight of the model, head included.
    public static func linearWeights(_ m: DecoderModel) -> [any LinearWeight] {
        var out: [any LinearWeight] = [m.lmHead.weight]
        if let p = m.projectIn { out.append(p.weight) }
        if let p = m.projectOut { out.append(p.weight) }
        for b in m.blocks {
            switch b.attention.projection {
            case .separate(let q, let k, let v): out += [q.weight, k.weight, v.weight]
            case .fused(let qkv, _): out.append(qkv.weight)
            }
            out.append(b.attention.output.weight)
            switch b.mlp {
            case .gated(let g, let u, let d, _): out += [g.weight, u.weight, d.weight]
            case .plain(let u, let d, _): out += [u.weight, d.weight]
            }
        }
        return out
    }
}
