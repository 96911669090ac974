import OrigamiModels
public import OrigamiFormats

/// What a run holds in RAM besides the weights, and so takes from `--max-memory` before any layer is placed.
public struct MemoryReserve: Sendable, Equatable {
    /// Resident set of the process when placement is decided: code, tokenizer, the F32 norm vectors and biases
    /// made at load, allocator slack.
    public var baseline: Int
    public var kvCache: Int
    /// The largest forward pass's scratch buffers (see `RuntimePlacement.activationBytes`).
    public var activations: Int
    /// Bytes the weights hold outside the mapping (heap-quantized weights), resident wherever their unit is placed.
    public var heapWeights: Int
    /// Growth not itemised (thread stacks, malloc arenas, the sampler's copies of the logits).
    public var margin: Int

    public init(baseline: Int, kvCache: Int, activations: Int, heapWeights: Int = 0, margin: Int = 64 << 20) {
        self.baseline = baseline
        self.kvCache = kvCache
        self.activations = activations
        self.heapWeights = heapWeights
        self.margin = margin
    }

    public var total: Int { baseline + kvCache + activations + heapWeights + margin }
}

/// The placement of a loaded model's units under a RAM budget (`--max-memory`), and optionally over a planned GPU
/// (`--gpu-memory`, printed but not executed: there is no GPU backend).
///
/// Units that fit stay resident (their mapped pages stay in the process), layers first in forward order, the token
/// table last; the rest are streamed from the checkpoint by `LayerStreamer`. The budget is the process's resident set: the reserve, the resident units' bytes, and the
/// streaming window (the unit being computed plus the one being read ahead, or just the one without read-ahead).
public struct RuntimePlacement: Sendable {
    public let units: [ModelUnit]
    public let budget: Int
    public let reserve: MemoryReserve
    public let prefetch: Bool
    /// How streamed units are read: O_DIRECT into their own addresses, or through the page cache.
    public let mode: LayerStreamer.Mode
    /// What runs: units in RAM (resident) or on disk (streamed).
    public let executed: DevicePlacement
    /// With `--gpu-memory`: the same units over GPU, RAM and disk.
    public let planned: DevicePlacement?

    public var streamedUnits: [ModelUnit] {
        zip(units, executed.devices).filter { $0.1 == .disk }.map(\.0)
    }

    /// File bytes read per forward pass (token): the streamed units that are read whole. Sparse units (an untied
    /// token table) read a few rows, not counted.
    public var streamedBytesPerPass: Int {
        streamedUnits.filter { !$0.sparse }.reduce(0) { $0 + $1.mappedBytes }
    }

    public var residentBytes: Int {
        zip(units, executed.devices).filter { $0.1 != .disk }.reduce(0) { $0 + $1.0.mappedBytes }
    }

    /// - Parameters:
    ///   - budget: `--max-memory`, bytes of resident set.
    ///   - gpu: `--gpu-memory`, for the planned placement only.
    ///   - prefetch: streamed units are read ahead on a background thread (two units in RAM at once) or faulted in by
    ///     the computing thread (one).
    /// - Throws: `PlanError.budgetTooSmall` when even streaming every unit does not fit.
    public static func plan(units: [ModelUnit], budget: Int, gpu: Int? = nil, reserve: MemoryReserve,
                            prefetch: Bool = true, mode: LayerStreamer.Mode = .direct) throws(PlanError) -> RuntimePlacement
    {
        var reserve = reserve
        reserve.heapWeights = units.reduce(0) { $0 + $1.heapBytes }
        let window = prefetch ? 2 : 1
        let available = budget - reserve.total
        let executed = fill(units, gpu: nil, ram: max(0, available), window: window)
        guard executed.fits, available >= 0 else {
            let largest = units.filter { !$0.sparse }.map(\.mappedBytes).max() ?? 0
            let minimum = reserve.total + window * largest
            throw .budgetTooSmall(
                budget: budget, minimum: minimum,
                breakdown: "process \(formatDecimalBytes(reserve.baseline)), KV cache \(formatDecimalBytes(reserve.kvCache)), "
                    + "activations \(formatDecimalBytes(reserve.activations)), heap weights \(formatDecimalBytes(reserve.heapWeights)), "
                    + "margin \(formatDecimalBytes(reserve.margin)), \(window) × the largest layer \(formatDecimalBytes(largest))")
        }
        let planned = gpu.map { fill(units, gpu: $0, ram: max(0, available), window: window) }
        return RuntimePlacement(units: units, budget: budget, reserve: reserve, prefetch: prefetch, mode: mode, executed: executed,
                                planned: planned)
    }

    /// `DevicePlacement.fill` with the units read whole first, in forward order, and the sparse ones (the token table)
    /// last: streaming a table costs a few rows per token, streaming a layer all of it, so the budget goes to layers
    /// first. A sparse unit whose bytes a resident unit already holds (a tied table) is resident with it, so that
    /// releasing it never takes pages from under the head.
    static func fill(_ units: [ModelUnit], gpu: Int?, ram: Int, window: Int) -> DevicePlacement {
        let order = units.indices.filter { !units[$0].sparse } + units.indices.filter { units[$0].sparse }
        let placementUnits = units.map { PlacementUnit(stage: $0.stage, weightBytes: $0.mappedBytes, streamedBytes: $0.sparse ? 0 : $0.mappedBytes) }
        let filled = DevicePlacement.fill(order.map { placementUnits[$0] }, gpu: gpu, ram: ram, disk: nil, windowUnits: window)
        var devices = [DeviceKind](repeating: .disk, count: units.count)
        for (k, i) in order.enumerated() { devices[i] = filled.devices[k] }
        let held = Set(units.indices.filter { devices[$0] != .disk }.flatMap { units[$0].tensorRanges })
        for i in units.indices where units[i].sparse && devices[i] == .disk && units[i].tensorRanges.allSatisfy(held.contains) {
            devices[i] = .ram
        }
        return DevicePlacement(units: placementUnits, devices: devices, capacity: filled.capacity, streamingWindow: filled.streamingWindow,
                               fits: filled.fits, problem: filled.problem)
    }

    /// Bytes of F32 scratch one forward pass of `tokens` tokens allocates at its peak, returning `logitsRows` rows of
    /// logits: within a block the three `[T, hidden]` buffers, q and the attention context `[T, heads·headDim]`, a
    /// fused qkv `[T, q + 2·kv]` and two `[T, ffn]` MLP buffers; and the logits twice (the head's output and the
    /// caller's copy).
    public static func activationBytes(_ c: ModelConfig, tokens: Int, logitsRows: Int) -> Int {
        let hq = c.numHeads * c.headDim, hkv = c.numKVHeads * c.headDim
        let perToken = 4 * c.hiddenSize + 2 * hq + (hq + 2 * hkv) + 2 * c.intermediateSize
        return 4 * tokens * perToken + 8 * logitsRows * c.vocabSize
    }

    /// The placement as text, one line per device: which units live where and how many bytes.
    public func describe() -> [String] {
        var lines: [String] = []
        lines.append("budget \(formatDecimalBytes(budget)): reserve \(formatDecimalBytes(reserve.total)) (process "
                     + "\(formatDecimalBytes(reserve.baseline)), KV cache \(formatDecimalBytes(reserve.kvCache)), activations "
                     + "\(formatDecimalBytes(reserve.activations)), margin \(formatDecimalBytes(reserve.margin)))")
        func line(_ label: String, _ p: DevicePlacement, _ d: DeviceKind) -> String? {
            let on = p.units(on: d)
            guard !on.isEmpty else { return nil }
            let bytes = on.reduce(0) { $0 + $1.weightBytes }
            return "\(label) \(describeStages(on.map(\.stage))) (\(formatDecimalBytes(bytes)))"
        }
        if let planned {
            lines.append("planned (--gpu-memory; not executed, there is no GPU backend):")
            for (label, d) in [("  GPU ", DeviceKind.gpu), ("  RAM ", .ram), ("  disk", .disk)] {
                if let l = line(label, planned, d) { lines.append(l) }
            }
        }
        if let l = line("resident in RAM:", executed, .ram) { lines.append(l) }
        if let l = line("streamed from disk:", executed, .disk) {
            lines.append(l + ", \(formatDecimalBytes(streamedBytesPerPass)) read per token (\(mode.rawValue), read-ahead "
                         + (prefetch ? "on" : "off") + ", window \(formatDecimalBytes(executed.streamingWindow)))")
        }
        return lines
    }

    /// The placement for `--json`.
    public var json: [String: Any] {
        func devices(_ p: DevicePlacement) -> [String: Any] {
            var out: [String: Any] = [:]
            for d in DeviceKind.allCases {
                let on = p.units(on: d)
                guard !on.isEmpty else { continue }
                out[d.rawValue] = ["units": on.map(\.stage.name), "bytes": on.reduce(0) { $0 + $1.weightBytes }]
            }
            return out
        }
        var out: [String: Any] = [
            "budget_bytes": budget, "prefetch": prefetch, "streaming_mode": mode.rawValue, "streamed_bytes_per_token": streamedBytesPerPass,
            "resident_bytes": residentBytes, "streaming_window_bytes": executed.streamingWindow,
            "reserve": ["baseline": reserve.baseline, "kv_cache": reserve.kvCache, "activations": reserve.activations,
                        "heap_weights": reserve.heapWeights, "margin": reserve.margin],
            "executed": devices(executed),
        ]
        if let planned { out["planned_with_gpu"] = devices(planned) }
        return out
    }
}
