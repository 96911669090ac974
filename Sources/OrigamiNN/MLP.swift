public import OrigamiTensor

/// The feed-forward block: gated (`down(act(gate(x)) * up(x))`, Llama) or plain (`down(act(up(x)))`).
public enum MLP: Sendable {
    case gated(gate: Linear, up: Linear, down: Linear, activation: Activation)
    case plain(up: Linear, down: Linear, activation: Activation)

    /// Every linear layer, in the order they run.
    public var linears: [Linear] {
        switch self {
        case .gated(let g, let u, let d, _): [g, u, d]
        case .plain(let u, let d, _): [u, d]
        }
    }

    /// This MLP with every linear weight relocated (see `LinearWeight.relocated`), or nil if one cannot move.
    public func relocated(_ address: (MappedRange) -> UnsafeRawPointer?, owner: any StorageOwner) -> MLP? {
        switch self {
        case .gated(let g, let u, let d, let act):
            guard let g = g.relocated(address, owner: owner), let u = u.relocated(address, owner: owner),
                  let d = d.relocated(address, owner: owner) else { return nil }
            return .gated(gate: g, up: u, down: d, activation: act)
        case .plain(let u, let d, let act):
            guard let u = u.relocated(address, owner: owner), let d = d.relocated(address, owner: owner) else { return nil }
            return .plain(up: u, down: d, activation: act)
        }
    }

    /// x: `[T, hidden]` → out: `[T, hidden]`.
    public func callAsFunction(_ x: UnsafePointer<Float>, tokens t: Int, into out: UnsafeMutablePointer<Float>, context: ComputeContext) {
        switch self {
        case .gated(let gate, let up, let down, let act):
            let n = gate.outFeatures
            let g = FloatBuffer(count: t * n)   // [T, ffn]
            let u = FloatBuffer(count: t * n)   // [T, ffn]
            gate(x, tokens: t, into: g.pointer, context: context)
            up(x, tokens: t, into: u.pointer, context: context)
            Ops.gatedActivation(g.pointer, u.pointer, count: t * n, activation: act)
            down(g.pointer, tokens: t, into: out, context: context)
        case .plain(let up, let down, let act):
            let n = up.outFeatures
            let h = FloatBuffer(count: t * n)   // [T, ffn]
            up(x, tokens: t, into: h.pointer, context: context)
            Ops.activate(h.pointer, count: t * n, activation: act)
            down(h.pointer, tokens: t, into: out, context: context)
        }
    }
}
