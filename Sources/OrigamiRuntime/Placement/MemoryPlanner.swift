import Foundation
public import OrigamiFormats
import OrigamiModels

/// Which linear layers LoRA adapts, and at what rank.
public struct LoRASettings: Sendable, Equatable {
    public enum Targets: String, Sendable, CaseIterable {
        /// Every linear layer but the LM head (peft's "all-linear", the QLoRA paper's setting).
        case all
        /// q, k, v (or the fused qkv) and the attention output.
        case attention
        /// q and v, or the fused qkv where the architecture fuses them: peft's default targets for these families.
        case qv
    }

    public var rank: Int
    public var targets: Targets

    /// Rank 64 on every linear layer: the QLoRA paper's and seed 003's (fsdp_qlora) defaults.
    public init(rank: Int = 64, targets: Targets = .all) {
        self.rank = rank
        self.targets = targets
    }

    func adapts(_ role: TensorSpec.Role) -> Bool {
        switch targets {
        case .all: role != .lmHead
        case .attention: [.query, .key, .value, .fusedQKV, .attentionOutput].contains(role)
        case .qv: [.query, .value, .fusedQKV].contains(role)
        }
    }
}

/// What `origami plan` is asked about.
public struct PlanOptions: Sendable, Equatable {
    public var precision: WeightPrecision
    /// Tokens per sequence for the KV cache and activations (nil: the model's max_position_embeddings).
    public var context: Int?
    public var batch: Int
    /// Device capacities in bytes (nil: no GPU / unlimited RAM / unlimited disk).
    public var gpu: Int?
    public var ram: Int?
    public var disk: Int?
    /// Held back on the GPU and in RAM for what the plan does not itemise (CUDA context, the OS, allocator slack).
    /// 2 GB is seed 001's margin (a 24 GB card, a 22 GB target).
    public var overhead: Int
    public var lora: LoRASettings
    /// Eager attention keeps the softmax `[heads, s, s]` for backward; memory-efficient (SDPA / flash) attention
    /// keeps only a log-sum-exp per row.
    public var eagerAttention: Bool

    public init(precision: WeightPrecision = .bf16, context: Int? = nil, batch: Int = 1, gpu: Int? = nil, ram: Int? = nil,
                disk: Int? = nil, overhead: Int = 2_000_000_000, lora: LoRASettings = LoRASettings(), eagerAttention: Bool = false)
    {
        self.precision = precision
        self.context = context
        self.batch = batch
        self.gpu = gpu
        self.ram = ram
        self.disk = disk
        self.overhead = overhead
        self.lora = lora
        self.eagerAttention = eagerAttention
    }
}

/// Weight bytes per part at one precision.
public struct WeightBytes: Sendable, Equatable {
    public var precision: WeightPrecision
    public var embeddings: Int
    public var perBlock: Int
    public var blocks: Int
    public var head: Int
    public var total: Int { embeddings + blocks + head }

    public init(_ inventory: ModelInventory, _ precision: WeightPrecision) {
        self.precision = precision
        embeddings = precision.bytes(inventory.embeddings)
        perBlock = precision.bytes(inventory.block)
        blocks = perBlock * inventory.layers
        head = precision.bytes(inventory.head)
    }
}

/// The KV cache at a context and batch: keys and values of every layer, `[batch, context, kvHeads, headDim]` each.
public struct KVCacheEstimate: Sendable, Equatable {
    public var context: Int
    public var batch: Int
    /// F32, as Origami's `KVCache` stores it today.
    public var perLayerF32: Int
    /// F16, as most GPU engines (and llama.cpp by default) store it.
    public var perLayerF16: Int
    public var layers: Int
    public var totalF32: Int { perLayerF32 * layers }
    public var totalF16: Int { perLayerF16 * layers }
}

/// Memory one fine-tuning method needs, by component.
public struct FineTuneEstimate: Sendable, Equatable {
    public var method: String
    public var trainableParameters: Int
    /// The model's weights as held during training (frozen base for LoRA/QLoRA).
    public var weights: Int
    public var gradients: Int
    /// The fp32 copy of the weights mixed precision updates (0 when the weights are already fp32).
    public var masterWeights: Int
    /// AdamW's two fp32 moments: 8 bytes per trainable parameter.
    public var optimizer: Int
    /// Activations kept for backward without and with gradient checkpointing (the logits included in both).
    public var activations: Int
    public var activationsCheckpointed: Int

    public var total: Int { weights + gradients + masterWeights + optimizer + activations }
    public var totalCheckpointed: Int { weights + gradients + masterWeights + optimizer + activationsCheckpointed }
}

/// The largest bits per weight that fits a budget.
public struct BitsPerWeightFit: Sendable, Equatable {
    public var budgetName: String
    public var budget: Int
    /// Overhead plus KV cache held back from the budget.
    public var reserved: Int
    /// Rounded down to hundredths, so that it still fits.
    public var bitsPerWeight: Double
}

/// Everything `origami plan` reports, computed from config.json alone.
public struct MemoryPlan: Sendable {
    public var config: ModelConfig
    public var inventory: ModelInventory
    public var options: PlanOptions
    public var parameters: ParameterCount
    public var weights: WeightBytes
    /// The chosen precision first, then `WeightPrecision.common`.
    public var byPrecision: [WeightBytes]
    /// transformers without safetensors: an empty model is built (weights allocated), then the state dict is loaded
    /// beside it and copied in: 2 × the weights at their peak (seed 000: 180B × 2 bytes × 2 = 720 GB).
    public var naiveLoadBytes: Int
    /// Origami: the checkpoint mapped in place (the page cache is the only copy) plus the F32 copies of norm weights
    /// and biases made at load.
    public var zeroCopyBytes: Int
    public var kvCache: KVCacheEstimate
    /// Activations one layer keeps for backward at the context and batch, in bf16.
    public var activationsPerLayer: Int
    public var fineTuning: [FineTuneEstimate]
    public var fits: [BitsPerWeightFit]
    public var placement: DevicePlacement
}

/// Memory arithmetic from a config: parameters, weight bytes per precision, load pipelines, KV cache, fine-tuning and
/// the largest bits per weight that fits a budget, and the placement of every layer on GPU, RAM and disk.
public enum MemoryPlanner {
    /// Bytes of `parameters` weights at `bitsPerWeight` (the seeds' flat convention: 4-bit = 0.5 bytes each).
    public static func weightBytes(parameters: Double, bitsPerWeight: Double) -> Double { parameters * bitsPerWeight / 8 }

    /// AdamW keeps two fp32 moments per trainable parameter: 8 bytes each (seed 002: 560 GB extra for 70B).
    public static func adamWStateBytes(parameters: Double) -> Double { 8 * parameters }

    /// The largest bits per weight such that `parameters` weights fit in `budget − reserved` bytes, rounded down to
    /// hundredths. Seed 001's convention: decimal GB, the nominal parameter count, overhead as the only reserve
    /// (24 GB − 2 GB = 22 GB = 1.76e11 bits over 70e9 parameters = 2.51 bpw).
    public static func maxBitsPerWeight(budget: Int, reserved: Int, parameters: Double) -> Double {
        let bits = Double(max(0, budget - reserved)) * 8 / parameters
        return (bits * 100).rounded(.down) / 100
    }

    /// KV cache bytes of one layer: keys and values, `batch × context × kvHeads × headDim` elements each.
    public static func kvCacheBytesPerLayer(_ c: ModelConfig, context: Int, batch: Int, elementBytes: Int) -> Int {
        2 * batch * context * c.numKVHeads * c.headDim * elementBytes
    }

    /// Bytes of activations one decoder layer keeps for its backward pass, for `batch` sequences of `sequence`
    /// tokens (N = batch × sequence) stored at `elementBytes` each:
    ///
    ///     N · e · (norms + 2·Hq + 2·Hkv + mlp + Σ lora ranks) + softmax
    ///
    /// - norms: the inputs and outputs of the block's norms and residual adds: 4H sequential or post-norm
    ///   (x, norm₁(x), x + attn, norm₂(·)), 2H parallel with one norm, 3H with two.
    /// - attention: q (Hq = heads·headDim), k and v (Hkv = kvHeads·headDim each), and the attention output that
    ///   feeds o_proj (Hq).
    /// - mlp: gated 3I (gate pre-activation, up, their product feeding down); plain 2I (pre- and post-activation).
    /// - LoRA: each adapted layer keeps x·A, `rank` values per token.
    /// - softmax: eager attention keeps the probabilities, batch · heads · s² · e; memory-efficient attention a
    ///   log-sum-exp per row, batch · heads · s · 4.
    ///
    /// For GPT-2's shape (Hq = Hkv = H, I = 4H, plain MLP) and 16-bit values this is 32·sbh + 2·a·s²·b, which is
    /// Korthikanti et al.'s 34·sbh + 5·a·s²·b (Reducing Activation Recomputation, 2022) without the dropout masks
    /// and dropout outputs (every model here trains with dropout 0).
    public static func activationBytesPerLayer(_ inventory: ModelInventory, sequence s: Int, batch b: Int, elementBytes e: Int,
                                               eagerAttention: Bool, loraRankSum: Int = 0) -> Int
    {
        let c = inventory.config
        let h = c.hiddenSize
        let hq = c.numHeads * c.headDim, hkv = c.numKVHeads * c.headDim
        let norms = switch inventory.wiring {
        case .sequential, .postNorm: 4 * h
        case .parallel(let n): (1 + n) * h
        }
        let mlp = (inventory.gatedMLP ? 3 : 2) * c.intermediateSize
        let perToken = norms + 2 * hq + 2 * hkv + mlp + loraRankSum
        let softmax = eagerAttention ? b * c.numHeads * s * s * e : b * c.numHeads * s * 4
        return s * b * e * perToken + softmax
    }

    /// Trainable parameters LoRA adds: `rank · (in + out)` for each adapted linear layer.
    public static func loraParameters(_ inventory: ModelInventory, _ lora: LoRASettings) -> (total: Int, rankSumPerBlock: Int) {
        func adapters(_ specs: [TensorSpec]) -> (params: Int, ranks: Int) {
            var params = 0, ranks = 0
            for t in specs where lora.adapts(t.role) {
                guard case .linear(let o, let i) = t.shape else { continue }
                params += lora.rank * (o + i)
                ranks += lora.rank
            }
            return (params, ranks)
        }
        let block = adapters(inventory.block)
        let total = adapters(inventory.embeddings).params + block.params * inventory.layers + adapters(inventory.head).params
        return (total, block.ranks)
    }

    public static func plan(config c: ModelConfig, options o: PlanOptions) -> MemoryPlan {
        let inventory = ModelInventory(config: c)
        let params = ParameterCount(inventory)
        let weights = WeightBytes(inventory, o.precision)
        var precisions = [o.precision]
        for p in WeightPrecision.common where p != o.precision { precisions.append(p) }
        let context = o.context ?? c.maxPositionEmbeddings
        let kv = KVCacheEstimate(
            context: context, batch: o.batch,
            perLayerF32: kvCacheBytesPerLayer(c, context: context, batch: o.batch, elementBytes: 4),
            perLayerF16: kvCacheBytesPerLayer(c, context: context, batch: o.batch, elementBytes: 2), layers: c.numLayers)
        let vectors = inventory.allTensors.filter { if case .vector = $0.shape { true } else { false } }
        let zeroCopy = weights.total + 4 * vectors.reduce(0) { $0 + $1.elements }

        let fineTuning = fineTuneEstimates(inventory, params: params.total, context: context, options: o)
        var fits: [BitsPerWeightFit] = []
        // The KV cache held back is the one the runtime would use on that device: F16 on a GPU, F32 in Origami's RAM.
        if let gpu = o.gpu {
            fits.append(BitsPerWeightFit(budgetName: "GPU", budget: gpu, reserved: o.overhead + kv.totalF16,
                                         bitsPerWeight: maxBitsPerWeight(budget: gpu, reserved: o.overhead + kv.totalF16,
                                                                         parameters: Double(params.total))))
        }
        if let ram = o.ram {
            let reserved = o.overhead + kv.totalF32
            fits.append(BitsPerWeightFit(budgetName: "RAM", budget: ram, reserved: reserved,
                                         bitsPerWeight: maxBitsPerWeight(budget: ram, reserved: reserved, parameters: Double(params.total))))
            if let gpu = o.gpu {
                let both = gpu + ram, reservedBoth = 2 * o.overhead + kv.totalF32
                fits.append(BitsPerWeightFit(budgetName: "GPU + RAM", budget: both, reserved: reservedBoth,
                                             bitsPerWeight: maxBitsPerWeight(budget: both, reserved: reservedBoth,
                                                                             parameters: Double(params.total))))
            }
        }

        var units = [PlacementUnit(stage: .embeddings, weightBytes: weights.embeddings)]
        for l in 0..<c.numLayers {
            units.append(PlacementUnit(stage: .block(l), weightBytes: weights.perBlock, kvBytes: kv.perLayerF16))
        }
        units.append(PlacementUnit(stage: .head, weightBytes: weights.head))
        let placement = DevicePlacement.fill(units, gpu: o.gpu.map { max(0, $0 - o.overhead) },
                                             ram: o.ram.map { max(0, $0 - o.overhead) }, disk: o.disk)

        return MemoryPlan(
            config: c, inventory: inventory, options: o, parameters: params, weights: weights,
            byPrecision: precisions.map { WeightBytes(inventory, $0) }, naiveLoadBytes: 2 * weights.total,
            zeroCopyBytes: zeroCopy, kvCache: kv,
            activationsPerLayer: activationBytesPerLayer(inventory, sequence: context, batch: o.batch, elementBytes: 2,
                                                         eagerAttention: o.eagerAttention),
            fineTuning: fineTuning, fits: fits, placement: placement)
    }

    /// Full fine-tuning in fp32 and in mixed precision, LoRA on a bf16 base and QLoRA on an NF4 (double-quantized)
    /// base, each with AdamW. Activations are fp32 for the fp32 run and bf16 otherwise; the logits are fp32 (the loss
    /// upcasts them), `N × vocab × 4` bytes. Gradient checkpointing keeps each layer's input (N × H) and recomputes
    /// one layer at a time during backward.
    static func fineTuneEstimates(_ inventory: ModelInventory, params p: Int, context: Int, options o: PlanOptions) -> [FineTuneEstimate] {
        let c = inventory.config
        let tokens = context * o.batch
        let logits = tokens * c.vocabSize * 4
        func activations(elementBytes e: Int, loraRanks: Int) -> (full: Int, checkpointed: Int) {
            let layer = activationBytesPerLayer(inventory, sequence: context, batch: o.batch, elementBytes: e,
                                                eagerAttention: o.eagerAttention, loraRankSum: loraRanks)
            return (c.numLayers * layer + logits, c.numLayers * tokens * c.hiddenSize * e + layer + logits)
        }
        let fp32 = activations(elementBytes: 4, loraRanks: 0)
        let bf16 = activations(elementBytes: 2, loraRanks: 0)
        let lora = loraParameters(inventory, o.lora)
        let loraActs = activations(elementBytes: 2, loraRanks: lora.rankSumPerBlock)
        let bf16Weights = WeightPrecision.bf16.bytes(inventory.allTensors)
        let nf4Weights = WeightPrecision.nf4DoubleQuant.bytes(inventory.allTensors)
        // Adapters are trained in fp32 (peft's default): weights, gradients and both moments at 4 bytes each.
        let adapters = 4 * lora.total
        return [
            FineTuneEstimate(method: "full, fp32 AdamW", trainableParameters: p, weights: 4 * p, gradients: 4 * p, masterWeights: 0,
                             optimizer: 8 * p, activations: fp32.full, activationsCheckpointed: fp32.checkpointed),
            FineTuneEstimate(method: "full, mixed precision (bf16 + fp32 master) AdamW", trainableParameters: p, weights: bf16Weights,
                             gradients: 2 * p, masterWeights: 4 * p, optimizer: 8 * p, activations: bf16.full,
                             activationsCheckpointed: bf16.checkpointed),
            FineTuneEstimate(method: "LoRA r=\(o.lora.rank) (\(o.lora.targets.rawValue)) on a bf16 base", trainableParameters: lora.total,
                             weights: bf16Weights + adapters, gradients: adapters, masterWeights: 0, optimizer: 2 * adapters,
                             activations: loraActs.full, activationsCheckpointed: loraActs.checkpointed),
            FineTuneEstimate(method: "QLoRA r=\(o.lora.rank) (\(o.lora.targets.rawValue)) on an nf4-dq base", trainableParameters: lora.total,
                             weights: nf4Weights + adapters, gradients: adapters, masterWeights: 0, optimizer: 2 * adapters,
                             activations: loraActs.full, activationsCheckpointed: loraActs.checkpointed),
        ]
    }
}
