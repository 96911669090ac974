public import OrigamiModels

/// Where a unit of the model lives.
public enum DeviceKind: String, Sendable, Equatable, CaseIterable {
    /// Planned only: Origami has no GPU backend yet.
    case gpu
    /// Resident in RAM (for a memory-mapped checkpoint: its pages stay mapped).
    case ram
    /// Left in the checkpoint on disk and streamed through RAM each forward pass.
    case disk
}

/// The units placement moves: the embeddings, each decoder block, the head, in forward order.
public struct PlacementUnit: Sendable, Equatable {
    public var stage: ForwardStage
    /// Bytes of weights the unit reads.
    public var weightBytes: Int
    /// Bytes of KV cache the unit owns (a block's keys and values); it lives with the unit on GPU or in RAM, and in
    /// RAM when the unit is on disk.
    public var kvBytes: Int
    /// Bytes the unit holds in RAM while it streams: its weights, or nothing for a table read by row lookups.
    public var streamedBytes: Int

    public init(stage: ForwardStage, weightBytes: Int, kvBytes: Int = 0, streamedBytes: Int? = nil) {
        self.stage = stage
        self.weightBytes = weightBytes
        self.kvBytes = kvBytes
        self.streamedBytes = streamedBytes ?? weightBytes
    }
}

/// Units assigned to devices, filled in forward order: a prefix on the GPU, the next units in RAM, the rest on disk.
public struct DevicePlacement: Sendable, Equatable {
    public var units: [PlacementUnit]
    public var devices: [DeviceKind]
    /// Usable capacity per device after reserves (nil: no limit given).
    public var capacity: [DeviceKind: Int]
    /// RAM held for streaming: the unit being computed and the next one being read ahead.
    public var streamingWindow: Int
    /// Disk can hold what is assigned to it (the checkpoint lies there in full).
    public var fits: Bool
    /// Why it does not fit, when it does not.
    public var problem: String?

    public func units(on device: DeviceKind) -> [PlacementUnit] {
        zip(units, devices).filter { $0.1 == device }.map(\.0)
    }

    public func device(of stage: ForwardStage) -> DeviceKind? {
        units.firstIndex { $0.stage == stage }.map { devices[$0] }
    }

    /// Bytes a device holds: its units' weights and KV (RAM also holds the disk units' KV and the streaming window).
    public func used(_ device: DeviceKind) -> Int {
        var total = 0
        for (u, d) in zip(units, devices) {
            switch (device, d) {
            case (.disk, .disk): total += u.weightBytes
            case (.ram, .disk): total += u.kvBytes
            case (_, _) where d == device: total += u.weightBytes + u.kvBytes
            default: break
            }
        }
        return device == .ram ? total + streamingWindow : total
    }

    /// Weight bytes read from disk in one forward pass.
    public var streamedBytesPerPass: Int { units(on: .disk).reduce(0) { $0 + $1.weightBytes } }

    /// Fills the GPU with the longest prefix of `units` that fits, then RAM with the longest next run that fits
    /// together with what streaming the remainder needs there (its KV cache and two units' weights: the one being
    /// computed and the one being read ahead), then disk with the rest.
    ///
    /// - Parameters:
    ///   - gpu: usable GPU bytes (nil or 0: no GPU).
    ///   - ram: usable RAM bytes (nil: unlimited).
    ///   - disk: usable disk bytes (nil: unlimited).
    ///   - windowUnits: units held in RAM at once while streaming (2 with read-ahead, 1 without).
    public static func fill(_ units: [PlacementUnit], gpu: Int?, ram: Int?, disk: Int?, windowUnits: Int = 2) -> DevicePlacement {
        var devices = [DeviceKind](repeating: .disk, count: units.count)
        var capacity: [DeviceKind: Int] = [:]
        capacity[.gpu] = gpu
        capacity[.ram] = ram
        capacity[.disk] = disk
        var next = 0
        if let gpu, gpu > 0 {
            var used = 0
            while next < units.count, used + units[next].weightBytes + units[next].kvBytes <= gpu {
                used += units[next].weightBytes + units[next].kvBytes
                devices[next] = .gpu
                next += 1
            }
        }
        let rest = Array(units[next...])
        func ramNeed(_ k: Int) -> (need: Int, window: Int) {
            let inRAM = rest.prefix(k), onDisk = rest.dropFirst(k)
            let window = onDisk.isEmpty ? 0 : windowUnits * (onDisk.map(\.streamedBytes).max() ?? 0)
            let need = inRAM.reduce(0) { $0 + $1.weightBytes + $1.kvBytes } + onDisk.reduce(0) { $0 + $1.kvBytes } + window
            return (need, window)
        }
        var chosen: Int?
        for k in stride(from: rest.count, through: 0, by: -1) where ram.map({ ramNeed(k).need <= $0 }) ?? true {
            chosen = k
            break
        }
        var problem: String?
        let k = chosen ?? 0
        if chosen == nil {
            problem = "RAM cannot hold what streaming needs: \(formatDecimalBytes(ramNeed(0).need)) (the KV cache and \(windowUnits) units being streamed)"
        }
        for i in 0..<k { devices[next + i] = .ram }
        var placement = DevicePlacement(units: units, devices: devices, capacity: capacity, streamingWindow: ramNeed(k).window,
                                        fits: problem == nil, problem: problem)
        if let disk, placement.used(.disk) > disk {
            placement.fits = false
            placement.problem = placement.problem
                ?? "disk holds \(formatDecimalBytes(disk)), the layers left on it need \(formatDecimalBytes(placement.used(.disk)))"
        }
        return placement
    }
}

extension ForwardStage {
    /// "embeddings", "block 3", "head".
    public var name: String {
        switch self {
        case .embeddings: "embeddings"
        case .block(let i): "block \(i)"
        case .head: "head"
        }
    }
}

/// "embeddings, blocks 0–8, head": runs of consecutive blocks collapsed.
public func describeStages(_ stages: [ForwardStage]) -> String {
    var parts: [String] = []
    var run: (Int, Int)?
    func flush() {
        if let (a, b) = run { parts.append(a == b ? "block \(a)" : "blocks \(a)–\(b)") }
        run = nil
    }
    for s in stages {
        if case .block(let i) = s {
            if let (a, b) = run, b == i - 1 { run = (a, i) } else { flush(); run = (i, i) }
        } else {
            flush()
            parts.append(s.name)
        }
    }
    flush()
    return parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
}
