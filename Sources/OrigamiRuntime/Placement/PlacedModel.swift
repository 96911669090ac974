public import OrigamiModels
public import OrigamiNN
public import OrigamiFormats

/// A decoder model run under a placement: resident units as they are, streamed units through a `LayerStreamer`.
/// Generation, perplexity and benchmarks take it as any other `CausalLM`.
public final class PlacedModel: CausalLM {
    public let base: DecoderModel
    public let placement: RuntimePlacement
    /// nil when every unit is resident.
    public let streamer: LayerStreamer?

    public init(base: DecoderModel, placement: RuntimePlacement) {
        self.base = base
        self.placement = placement
        let streamed = placement.streamedUnits
        streamer = streamed.isEmpty ? nil : LayerStreamer(model: base, units: streamed, prefetch: placement.prefetch, mode: placement.mode)
    }

    /// Places `model` under `budget` bytes of resident set.
    ///
    /// - Parameters:
    ///   - kvCacheBytes: the KV cache the run will allocate.
    ///   - activationBytes: its largest forward pass's scratch (`RuntimePlacement.activationBytes`).
    ///   - baseline: the process's resident set now (`SystemInfo.residentBytes()` by default).
    /// - Throws: `PlanError.unsupportedModel` for a model that is not a `DecoderModel`, `.budgetTooSmall`.
    public static func place(_ model: any CausalLM, budget: Int, gpu: Int? = nil, prefetch: Bool = true,
                             mode: LayerStreamer.Mode = .direct, kvCacheBytes: Int, activationBytes: Int,
                             baseline: Int = SystemInfo.residentBytes()) throws(PlanError) -> PlacedModel
    {
        guard let decoder = model as? DecoderModel else {
            throw .unsupportedModel("placement needs a decoder model, found \(type(of: model))")
        }
        let reserve = MemoryReserve(baseline: baseline, kvCache: kvCacheBytes, activations: activationBytes)
        let placement = try RuntimePlacement.plan(units: ModelUnit.of(decoder), budget: budget, gpu: gpu, reserve: reserve,
                                                  prefetch: prefetch, mode: mode)
        return PlacedModel(base: decoder, placement: placement)
    }

    public var config: ModelConfig { base.config }

    public func makeCache(capacity: Int) -> KVCache { base.makeCache(capacity: capacity) }

    public var weightBytesPerToken: Int { base.weightBytesPerToken }

    public func forward(_ tokens: [Int], cache: KVCache, logits: LogitsSelection, context: ComputeContext) -> [Float] {
        base.forward(tokens, cache: cache, logits: logits, context: context, hooks: streamer)
    }

    public func forward(batch: [SequenceChunk], context: ComputeContext) -> [Float] {
        base.forward(batch: batch, context: context, hooks: streamer)
    }
}
