import ArgumentParser
import Foundation
import OrigamiFormats
import OrigamiModels
import OrigamiRuntime

/// `origami plan MODEL_DIR|config.json`: the memory arithmetic of a model from its config alone.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Memory a model needs, from config.json alone: parameters, weights per precision, loading, KV cache, fine-tuning, the bits per weight that fit, and a GPU/RAM/disk placement.",
        discussion: """
            Sizes: GB = 10^9 bytes (as the seed articles, disk and GPU makers use them); GiB = 2^30 is accepted on input. \
            int8 is LLM.int8() (1 byte per weight + an fp32 scale per row); nf4 is bitsandbytes' 4-bit NormalFloat \
            with an fp32 absmax per 64 weights (4.5 bits), nf4-dq with double quantization (≈4.127 bits); both keep \
            embeddings, norms and the LM head at 16 bits. bpw=B counts every parameter at B bits (the seeds' "4-bit = \
            0.5 bytes"). The KV cache is given in f32 (how Origami stores it today) and f16 (most engines).
            """)

    @Argument(help: "A model directory or its config.json (no weights needed).")
    var model: String

    @Option(help: "f32, bf16, f16, int8, nf4, nf4-dq or bpw=<bits> (default: the config's torch_dtype, else bf16).")
    var precision: String?

    @Option(help: "Tokens per sequence for the KV cache and activations (default: max_position_embeddings).")
    var context: Int?

    @Option(help: "Sequences per batch.")
    var batch = 1

    @Option(help: ArgumentHelp("GPU memory, e.g. 24GB.", valueName: "size"))
    var gpu: String?

    @Option(help: ArgumentHelp("RAM, e.g. 64GB.", valueName: "size"))
    var ram: String?

    @Option(help: ArgumentHelp("Disk, e.g. 1TB.", valueName: "size"))
    var disk: String?

    @Option(help: ArgumentHelp("Held back on the GPU and in RAM for what is not itemised (seed 001: 24 GB card, 22 GB target).", valueName: "size"))
    var overhead = "2GB"

    @Option(help: "LoRA rank for the fine-tuning estimates.")
    var loraRank = 64

    @Option(help: "LoRA target modules: all (every linear layer but the head), attention, or qv.")
    var loraTargets = "all"

    @Flag(help: "Estimate activations for eager attention (keeps the [heads, s, s] softmax) instead of memory-efficient attention.")
    var eagerAttention = false

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
        if let context, context < 0 { throw ValidationError("--context must not be negative") }
        guard loraRank > 0 else { throw ValidationError("--lora-rank must be at least 1") }
        guard LoRASettings.Targets(rawValue: loraTargets) != nil else {
            throw ValidationError("--lora-targets must be all, attention or qv, not '\(loraTargets)'")
        }
    }

    func run() throws {
        let config = try ModelConfig(contentsOf: model)
        let chosen = try precision.map { try WeightPrecision(parsing: $0) } ?? Self.checkpointPrecision(config)
        let options = PlanOptions(
            precision: chosen, context: context, batch: batch, gpu: try gpu.map(ByteSize.parse), ram: try ram.map(ByteSize.parse),
            disk: try disk.map(ByteSize.parse), overhead: try ByteSize.parse(overhead),
            lora: LoRASettings(rank: loraRank, targets: LoRASettings.Targets(rawValue: loraTargets) ?? .all),
            eagerAttention: eagerAttention)
        let plan = MemoryPlanner.plan(config: config, options: options)
        if json {
            print(try jsonString(Self.json(plan, source: model)))
        } else {
            for line in Self.text(plan, source: model) { print(line) }
        }
    }

    /// The checkpoint's own precision, from `torch_dtype`.
    static func checkpointPrecision(_ c: ModelConfig) -> WeightPrecision {
        switch c.torchDType {
        case "float32": .f32
        case "float16": .f16
        default: .bf16
        }
    }

    static func gb(_ n: Int) -> String { formatDecimalBytes(n) }

    static func text(_ p: MemoryPlan, source: String) -> [String] {
        let c = p.config
        var out: [String] = []
        let kvHeads = c.numKVHeads == c.numHeads ? "" : " (\(c.numKVHeads) KV)"
        out.append("model        \(source): \(c.family.rawValue), \(c.numLayers) layers, hidden \(c.hiddenSize), \(c.numHeads) heads\(kvHeads), "
                   + "FFN \(c.intermediateSize), vocab \(c.vocabSize)\(c.tieWordEmbeddings ? ", tied head" : "")")
        out.append("units        GB = 10^9 bytes")
        let n = p.parameters
        out.append("parameters   \(grouped(n.total)) (\(String(format: "%.2f", Double(n.total) / 1e9)) B): embeddings \(grouped(n.embeddings)), "
                   + "blocks \(grouped(n.blocks)) (\(c.numLayers) × \(grouped(n.perBlock))), head \(grouped(n.head))")
        out.append("weights      \(p.weights.precision): \(gb(p.weights.total)) (embeddings \(gb(p.weights.embeddings)), blocks \(gb(p.weights.blocks)), "
                   + "\(gb(p.weights.perBlock)) each, head \(gb(p.weights.head)))")
        for w in p.byPrecision {
            let bits = Double(w.total) * 8 / Double(n.total)
            out.append("  " + w.precision.description.padding(toLength: 8, withPad: " ", startingAt: 0) + gb(w.total).leftPad(12)
                       + String(format: "   %6.3f bits/parameter", bits))
        }
        out.append("loading      naive (empty model + state dict, 2×): \(gb(p.naiveLoadBytes)); Origami zero-copy mmap: \(gb(p.zeroCopyBytes))")
        let kv = p.kvCache
        out.append("KV cache     \(kv.context) tokens × batch \(kv.batch): f32 (Origami today) \(gb(kv.perLayerF32))/layer, \(gb(kv.totalF32)) total; "
                   + "f16 \(gb(kv.perLayerF16))/layer, \(gb(kv.totalF16)) total")
        out.append("fine-tuning  \(kv.context) tokens × batch \(kv.batch), AdamW; activations per layer \(gb(p.activationsPerLayer)) in bf16 "
                   + "(\(p.options.eagerAttention ? "eager" : "memory-efficient") attention)")
        out.append("  method" + "".padding(toLength: 48, withPad: " ", startingAt: 0) + "   weights  gradients     master  optimizer | activations      total | checkpointed: act.      total")
        for f in p.fineTuning {
            out.append("  " + f.method.padding(toLength: 54, withPad: " ", startingAt: 0)
                       + [f.weights, f.gradients, f.masterWeights, f.optimizer].map { gb($0).leftPad(10) }.joined(separator: " ")
                       + " | " + gb(f.activations).leftPad(11) + " " + gb(f.total).leftPad(10)
                       + " | " + gb(f.activationsCheckpointed).leftPad(18) + " " + gb(f.totalCheckpointed).leftPad(10))
        }
        if let lora = p.fineTuning.last {
            out.append("  LoRA trains \(grouped(lora.trainableParameters)) parameters (rank \(p.options.lora.rank), \(p.options.lora.targets.rawValue))")
        }
        for f in p.fits {
            out.append("fits         \(f.budgetName) \(gb(f.budget)) − \(gb(f.reserved)) (overhead + KV cache) ⇒ "
                       + "\(formatBitsPerWeight(f.bitsPerWeight)) bits per weight at most")
        }
        let pl = p.placement
        out.append("placement    in forward order, GPU first, then RAM, then disk\(pl.fits ? "" : " — DOES NOT FIT: \(pl.problem ?? "")")")
        for d in DeviceKind.allCases {
            let on = pl.units(on: d)
            guard !on.isEmpty else { continue }
            let cap = pl.capacity[d].map { " of \(gb($0))" } ?? ""
            let name = d == .gpu ? "GPU " : d == .ram ? "RAM " : "disk"
            out.append("  \(name)  \(describeStages(on.map(\.stage))): \(gb(pl.used(d)))\(cap)"
                       + (d == .ram && pl.streamingWindow > 0 ? " (incl. \(gb(pl.streamingWindow)) streaming window)" : ""))
        }
        if pl.streamedBytesPerPass > 0 {
            out.append("  \(gb(pl.streamedBytesPerPass)) read from disk per token")
        }
        return out
    }

    static func json(_ p: MemoryPlan, source: String) -> [String: Any] {
        func weights(_ w: WeightBytes) -> [String: Any] {
            ["precision": w.precision.description, "total": w.total, "embeddings": w.embeddings, "blocks": w.blocks,
             "per_block": w.perBlock, "head": w.head, "bits_per_parameter": Double(w.total) * 8 / Double(p.parameters.total)]
        }
        let pl = p.placement
        return [
            "model": source, "architecture": p.config.family.rawValue, "layers": p.config.numLayers,
            "parameters": ["total": p.parameters.total, "embeddings": p.parameters.embeddings, "blocks": p.parameters.blocks,
                           "per_block": p.parameters.perBlock, "head": p.parameters.head, "tied_head": p.config.tieWordEmbeddings],
            "weights": weights(p.weights), "by_precision": p.byPrecision.map(weights),
            "loading": ["naive_bytes": p.naiveLoadBytes, "zero_copy_bytes": p.zeroCopyBytes],
            "kv_cache": ["context": p.kvCache.context, "batch": p.kvCache.batch, "per_layer_f32": p.kvCache.perLayerF32,
                         "total_f32": p.kvCache.totalF32, "per_layer_f16": p.kvCache.perLayerF16, "total_f16": p.kvCache.totalF16],
            "activations_per_layer_bf16": p.activationsPerLayer,
            "fine_tuning": p.fineTuning.map {
                ["method": $0.method, "trainable_parameters": $0.trainableParameters, "weights": $0.weights, "gradients": $0.gradients,
                 "master_weights": $0.masterWeights, "optimizer": $0.optimizer, "activations": $0.activations, "total": $0.total,
                 "activations_checkpointed": $0.activationsCheckpointed, "total_checkpointed": $0.totalCheckpointed] as [String: Any]
            },
            "fits": p.fits.map { ["budget_name": $0.budgetName, "budget": $0.budget, "reserved": $0.reserved, "bits_per_weight": $0.bitsPerWeight] as [String: Any] },
            "placement": [
                "fits": pl.fits, "problem": pl.problem ?? "", "streaming_window": pl.streamingWindow,
                "streamed_bytes_per_token": pl.streamedBytesPerPass,
                "units": zip(pl.units, pl.devices).map { ["unit": $0.stage.name, "device": $1.rawValue, "weight_bytes": $0.weightBytes,
                                                          "kv_bytes": $0.kvBytes] as [String: Any] },
                "devices": Dictionary(uniqueKeysWithValues: DeviceKind.allCases.map { d in
                    (d.rawValue, ["used": pl.used(d), "capacity": pl.capacity[d] as Any? ?? NSNull()] as [String: Any])
                }),
            ] as [String: Any],
        ]
    }
}

/// "2.51": two decimals, as the bpw fit is rounded.
func formatBitsPerWeight(_ b: Double) -> String { String(format: "%.2f", b) }
