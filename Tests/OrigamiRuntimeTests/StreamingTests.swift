#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OrigamiFormats
import OrigamiModels
import OrigamiNN
import OrigamiRuntime
import OrigamiTensor
import Testing

/// A model opened straight from a directory (no tokenizer needed).
func openModel(_ directory: String) throws -> DecoderModel {
    let config = try ModelConfig(contentsOf: directory)
    let checkpoint = try SafeTensorsCheckpoint(path: directory)
    return try ModelRegistry.load(config: config, weights: WeightScope(checkpoint: checkpoint)) as! DecoderModel
}

/// Logits of a prompt (every row) and of `steps` greedy decode steps after it, as bit patterns.
func runBits(_ model: any CausalLM, prompt: [Int], steps: Int) -> [[UInt32]] {
    let context = ComputeContext(threads: 2)
    let cache = model.makeCache(capacity: prompt.count + steps + 1)
    var out: [[UInt32]] = []
    var logits = model.forward(prompt, cache: cache, logits: .all, context: context)
    out.append(logits.map(\.bitPattern))
    let vocab = model.config.vocabSize
    for _ in 0..<steps {
        let last = Array(logits.suffix(vocab))
        logits = model.forward([Sampler.argmax(last)], cache: cache, logits: .last, context: context)
        out.append(logits.map(\.bitPattern))
    }
    return out
}

/// A decoder model run with the given hooks.
final class Hooked: CausalLM {
    let base: DecoderModel
    let hooks: any ForwardHooks
    init(_ base: DecoderModel, _ hooks: any ForwardHooks) {
        self.base = base
        self.hooks = hooks
    }
    var config: ModelConfig { base.config }
    var weightBytesPerToken: Int { base.weightBytesPerToken }
    func makeCache(capacity: Int) -> KVCache { base.makeCache(capacity: capacity) }
    func forward(_ tokens: [Int], cache: KVCache, logits: LogitsSelection, context: ComputeContext) -> [Float] {
        base.forward(tokens, cache: cache, logits: logits, context: context, hooks: hooks)
    }
    func forward(batch: [SequenceChunk], context: ComputeContext) -> [Float] {
        base.forward(batch: batch, context: context, hooks: hooks)
    }
}

/// A reserve of nothing, so that a test budget is exactly weights plus the streaming window.
let noReserve = MemoryReserve(baseline: 0, kvCache: 0, activations: 0, margin: 0)

/// The smallest budget that streams every unit: the window alone (the largest unit read whole, once or twice).
func streamEverything(_ units: [ModelUnit], prefetch: Bool) -> Int {
    (prefetch ? 2 : 1) * (units.filter { !$0.sparse }.map(\.mappedBytes).max() ?? 0)
}

func temporaryModelDirectory() -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("origami-streaming-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

@Suite struct StreamingEqualsResidentTests {
    static let models = ["llama", "llama-f16", "llama-bf16", "mistral", "qwen2", "falcon-7b", "falcon-40b", "bloom", "opt-proj", "gpt2"]
    static let modes: [(LayerStreamer.Mode, Bool)] = [(.direct, true), (.direct, false), (.pageCache, true), (.pageCache, false)]

    /// Every unit streamed, and a mixed placement (embeddings and block 0 resident), in both modes with and without
    /// read-ahead: the logits of a prompt and of 6 greedy steps equal the resident run's bit for bit.
    @Test(arguments: models)
    func logitsEqualBitForBit(_ name: String) throws {
        let directory = fixtures.appendingPathComponent("models/\(name)").path
        let prompt = [1, 5, 9, 42, 7, 3, 11]
        let resident = runBits(try openModel(directory), prompt: prompt, steps: 6)
        for (mode, prefetch) in Self.modes {
            let model = try openModel(directory)
            let units = ModelUnit.of(model)
            let placement = try RuntimePlacement.plan(units: units, budget: streamEverything(units, prefetch: prefetch), reserve: noReserve,
                                                      prefetch: prefetch, mode: mode)
            #expect(placement.executed.units(on: .ram).isEmpty)
            let placed = PlacedModel(base: model, placement: placement)
            #expect(runBits(placed, prompt: prompt, steps: 6) == resident, "\(name) \(mode) read-ahead \(prefetch)")
            let stats = try #require(placed.streamer?.statistics)
            // Direct mode streams every block and the head through slots (the weights relocate); page-cache mode none.
            #expect(stats.slotUnits == (mode == .direct ? units.count - 1 : 0))
            #expect(stats.releasedUnits == 7 * units.count)
            #expect(stats.bufferedReads == 0)
            // Mixed: the table and block 0 resident, block 1 and the head streamed.
            let streamer = LayerStreamer(model: model, units: Array(units.suffix(2)), prefetch: prefetch, mode: mode)
            #expect(runBits(Hooked(model, streamer), prompt: prompt, steps: 6) == resident, "\(name) \(mode) read-ahead \(prefetch) mixed")
        }
    }

    /// Greedy generation through `Generator` with every layer streamed equals the golden continuation.
    @Test func greedyGenerationEqualsTheGolden() throws {
        let loaded = try LoadedModel(directory: fixtures.appendingPathComponent("models/llama").path)
        let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("models/llama/golden.json"))) as! [String: Any]
        let units = ModelUnit.of(loaded.model as! DecoderModel)
        for prefetch in [true, false] {
            let placement = try RuntimePlacement.plan(units: units, budget: streamEverything(units, prefetch: prefetch),
                                                      reserve: noReserve, prefetch: prefetch)
            let model = PlacedModel(base: loaded.model as! DecoderModel, placement: placement)
            let g = Generator(model: model, tokenizer: loaded.tokenizer, context: ComputeContext(threads: 2), capacity: 64)
            let r = g.generate(promptIds: golden["prompt_ids"] as! [Int],
                               options: GenerationOptions(maxNewTokens: 16, sampling: .greedy, stopTokenIds: [], stopStrings: []))
            #expect(r.generatedIds == (golden["greedy"] as! [String: Any])["new_ids"] as! [Int])
        }
    }

    /// Layers larger than one 8 MiB read, shards ending mid-page (a short O_DIRECT read at the end of a file), and
    /// tensors at offsets that are not page-aligned: a synthetic F16 Llama of 2 layers with 9.4 MB MLP weights,
    /// one layer per shard.
    @Test func largeLayersAcrossShardsEqualResident() throws {
        let dir = temporaryModelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (hidden, ffn, vocab, layers) = (1024, 4608, 1000, 2)
        let config = """
            {"model_type": "llama", "hidden_size": \(hidden), "intermediate_size": \(ffn), "num_attention_heads": 8,
             "num_key_value_heads": 4, "num_hidden_layers": \(layers), "vocab_size": \(vocab), "max_position_embeddings": 64,
             "rms_norm_eps": 1e-5, "tie_word_embeddings": false}
            """
        try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
        var random = SeededRandom(seed: 7)
        func tensor(_ name: String, _ shape: [Int], scale: Float = 0.05) -> TensorToWrite {
            let n = shape.reduce(1, *)
            var bytes = [UInt8](repeating: 0, count: 2 * n)
            for i in 0..<n {
                let u = Float(random.next() % 2001) / 1000 - 1
                let bits = Float16(u * scale).bitPattern
                bytes[2 * i] = UInt8(bits & 0xFF)
                bytes[2 * i + 1] = UInt8(bits >> 8)
            }
            return TensorToWrite(name: name, dtype: .f16, shape: shape, bytes: bytes)
        }
        var tensors = [tensor("model.embed_tokens.weight", [vocab, hidden], scale: 1), tensor("lm_head.weight", [vocab, hidden]),
                       tensor("model.norm.weight", [hidden], scale: 1)]
        let kv = 4 * (hidden / 8)
        for l in 0..<layers {
            let p = "model.layers.\(l)."
            tensors += [
                tensor(p + "input_layernorm.weight", [hidden], scale: 1), tensor(p + "post_attention_layernorm.weight", [hidden], scale: 1),
                tensor(p + "self_attn.q_proj.weight", [hidden, hidden]), tensor(p + "self_attn.k_proj.weight", [kv, hidden]),
                tensor(p + "self_attn.v_proj.weight", [kv, hidden]), tensor(p + "self_attn.o_proj.weight", [hidden, hidden]),
                tensor(p + "mlp.gate_proj.weight", [ffn, hidden]), tensor(p + "mlp.up_proj.weight", [ffn, hidden]),
                tensor(p + "mlp.down_proj.weight", [hidden, ffn]),
            ]
        }
        try SafeTensorsWriter.writeSharded(tensors, metadata: ["format": "pt"], directory: dir.path, maxShardBytes: 32_000_000)
        let prompt = [3, 14, 15, 92, 65]
        let resident = runBits(try openModel(dir.path), prompt: prompt, steps: 3)
        for (mode, prefetch) in Self.modes {
            let model = try openModel(dir.path)
            let units = ModelUnit.of(model)
            #expect(units[1].mappedBytes > 3 * (8 << 20))
            let placement = try RuntimePlacement.plan(units: units, budget: streamEverything(units, prefetch: prefetch), reserve: noReserve,
                                                      prefetch: prefetch, mode: mode)
            let placed = PlacedModel(base: model, placement: placement)
            #expect(runBits(placed, prompt: prompt, steps: 3) == resident, "\(mode) read-ahead \(prefetch)")
            #expect(placed.streamer?.statistics.bufferedReads == 0)
            // Block 0 resident next to streamed block 1 and head.
            let streamer = LayerStreamer(model: model, units: Array(units.suffix(2)), prefetch: prefetch, mode: mode)
            #expect(runBits(Hooked(model, streamer), prompt: prompt, steps: 3) == resident, "\(mode) read-ahead \(prefetch) mixed")
        }
    }

    /// After a streamed forward pass, the streamed layers' pages are neither mapped nor cached: page-cache mode drops
    /// them after use, direct mode never caches them. Checked with mincore on a private copy of the checkpoint
    /// (nobody else maps it), written back to disk first so that every page is clean.
    @Test(arguments: [LayerStreamer.Mode.direct, .pageCache])
    func streamedLayersLeaveNothingInThePageCache(_ mode: LayerStreamer.Mode) throws {
        let dir = temporaryModelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = fixtures.appendingPathComponent("models/llama")
        for f in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        let file = dir.appendingPathComponent("model.safetensors").path
        let fd = open(file, O_RDONLY)
        fsync(fd)
        close(fd)
        let model = try openModel(dir.path)
        let units = ModelUnit.of(model)
        for u in units { for r in u.ranges { Pages.dropCache(r.file) } }
        let placement = try RuntimePlacement.plan(units: units, budget: streamEverything(units, prefetch: true), reserve: noReserve, mode: mode)
        var placed: PlacedModel? = PlacedModel(base: model, placement: placement)
        _ = runBits(placed!, prompt: [1, 2, 3], steps: 2)
        #expect(placed?.streamer?.statistics.bufferedReads == 0)
        // Read-ahead is cyclic: the first streamed units of a next pass are in memory until the model goes away.
        placed = nil
        for u in placement.streamedUnits where !u.sparse {
            for r in u.ranges { #expect(cachedWholePages(r) == 0, "\(mode): \(u.stage)") }
        }
    }

    /// Pages wholly inside `r` that are in the page cache.
    func cachedWholePages(_ r: MappedRange) -> Int {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (r.offset + page - 1) / page * page
        let end = (r.offset + r.count) / page * page
        guard end > start, let base = r.file.base else { return 0 }
        var vec = [UInt8](repeating: 0, count: (end - start) / page)
        let rc = vec.withUnsafeMutableBufferPointer {
            mincore(UnsafeMutableRawPointer(mutating: base + start), end - start, $0.baseAddress!)
        }
        guard rc == 0 else { return -1 }
        return vec.filter { $0 & 1 != 0 }.count
    }
}

@Suite struct PlacementDecisionTests {
    /// Units over a scratch file: a 100 kB token table (read by rows), four 200 kB blocks, a 150 kB head.
    let file: MappedFile
    let units: [ModelUnit]
    let directory = temporaryModelDirectory()

    init() throws {
        let path = directory.appendingPathComponent("weights").path
        try Data(count: 1_100_000).write(to: URL(fileURLWithPath: path))
        file = try MappedFile(path: path)
        var units = [ModelUnit(stage: .embeddings, ranges: [MappedRange(file: file, offset: 0, count: 100_000)], sparse: true)]
        for i in 0..<4 {
            units.append(ModelUnit(stage: .block(i), ranges: [MappedRange(file: file, offset: 100_000 + 200_000 * i, count: 200_000)]))
        }
        units.append(ModelUnit(stage: .head, ranges: [MappedRange(file: file, offset: 900_000, count: 150_000)]))
        self.units = units
    }

    /// Resident units fill the budget in forward order after the reserve and the window (two 200 kB blocks with
    /// read-ahead, one without); the rest stream.
    @Test func budgetsDecideWhatStaysResident() throws {
        let reserve = MemoryReserve(baseline: 1_000_000, kvCache: 50_000, activations: 20_000, margin: 30_000)
        func resident(_ budget: Int, prefetch: Bool = true) throws -> [ForwardStage] {
            try RuntimePlacement.plan(units: units, budget: reserve.total + budget, reserve: reserve, prefetch: prefetch)
                .executed.units(on: .ram).map(\.stage)
        }
        // Layers first, in forward order; the token table last (it streams a few rows per token).
        #expect(try resident(400_000) == [])
        #expect(try resident(599_999) == [])
        #expect(try resident(600_000) == [.block(0)])
        #expect(try resident(800_000) == [.block(0), .block(1)])
        #expect(try resident(800_000, prefetch: false) == [.block(0), .block(1), .block(2)])
        // Everything fits: no window is held back.
        #expect(try resident(1_050_000).count == 6)
        let placed = try RuntimePlacement.plan(units: units, budget: reserve.total + 600_000, reserve: reserve)
        #expect(placed.streamedBytesPerPass == 750_000)
        #expect(placed.executed.streamingWindow == 400_000)
        #expect(placed.residentBytes == 200_000)
        #expect(placed.describe().contains { $0.contains("streamed from disk: embeddings, blocks 1–3, head") })
    }

    /// Table rows stream without a window: a model whose only streamed unit is the table needs none.
    @Test func aStreamedTableNeedsNoWindow() throws {
        let placed = try RuntimePlacement.plan(units: units, budget: 950_000, reserve: noReserve)
        #expect(placed.streamedUnits.map(\.stage) == [.embeddings])
        #expect(placed.executed.streamingWindow == 0)
        #expect(placed.streamedBytesPerPass == 0)
    }

    /// A tied table held by a resident head is resident with it, even when the table unit did not fit on its own.
    @Test func aTiedTableStaysWithAResidentHead() throws {
        let table = MappedRange(file: file, offset: 0, count: 100_000)
        let tied = [ModelUnit(stage: .embeddings, ranges: [table], sparse: true),
                    ModelUnit(stage: .block(0), ranges: [MappedRange(file: file, offset: 100_000, count: 200_000)]),
                    ModelUnit(stage: .head, ranges: [table])]
        let placed = try RuntimePlacement.plan(units: tied, budget: 300_000, reserve: noReserve)
        #expect(placed.streamedUnits.isEmpty)
    }

    @Test func aBudgetBelowTheWindowIsATypedError() throws {
        let reserve = MemoryReserve(baseline: 1_000_000, kvCache: 0, activations: 0, margin: 0)
        do {
            _ = try RuntimePlacement.plan(units: units, budget: 1_399_999, reserve: reserve)
            Issue.record("expected budgetTooSmall")
        } catch {
            guard case .budgetTooSmall(let budget, let minimum, let breakdown) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(budget == 1_399_999 && minimum == 1_400_000)
            #expect(breakdown.contains("KV cache") && breakdown.contains("2 × the largest layer"))
        }
        #expect(try RuntimePlacement.plan(units: units, budget: 1_400_000, reserve: reserve).executed.units(on: .ram).isEmpty)
        // The default reserve includes the margin.
        #expect(MemoryReserve(baseline: 0, kvCache: 0, activations: 0).total == 64 << 20)
    }

    /// `--gpu-memory` plans a GPU prefix (not executed) next to the executed RAM/disk placement.
    @Test func gpuPlanIsPrintedNotExecuted() throws {
        let placement = try RuntimePlacement.plan(units: units, budget: 10_000_000, gpu: 300_000, reserve: noReserve)
        #expect(placement.planned?.units(on: .gpu).map(\.stage) == [.block(0)])
        #expect(placement.planned?.units(on: .ram).count == 5)
        #expect(placement.executed.units(on: .gpu).isEmpty)
        #expect(placement.describe().contains { $0.contains("GPU ") && $0.contains("block 0") })
    }
}

@Suite struct ModelUnitTests {
    @Test func unitsCoverEveryWeightOnce() throws {
        let model = try openModel(fixtures.appendingPathComponent("models/llama").path)
        let units = ModelUnit.of(model)
        #expect(units.map(\.stage) == [.embeddings, .block(0), .block(1), .head])
        #expect(units[0].sparse && !units[1].sparse && !units[3].sparse)
        // The blocks' linear weights and the head, plus the token table.
        let linear = model.weightBytesPerToken
        let table = model.tokenEmbedding.table.byteCount
        #expect(units.reduce(0) { $0 + $1.tensorRanges.reduce(0) { $0 + $1.count } } == linear + table)
    }

    /// A tied head reads the token table: the table is in both units.
    @Test func aTiedTableIsInTheEmbeddingsAndTheHead() throws {
        let model = try openModel(fixtures.appendingPathComponent("models/gpt2").path)
        let units = ModelUnit.of(model)
        let table = try #require(model.tokenEmbedding.table.mappedRange)
        #expect(units.first!.tensorRanges.contains(table) && units.last!.tensorRanges == [table])
    }
}

/// The hooks a forward pass calls, in order.
final class RecordingHooks: ForwardHooks, @unchecked Sendable {
    private let lock = NSLock()
    private var log: [String] = []
    var events: [String] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }
    func willRun(_ stage: ForwardStage) { record("+\(stage.name)") }
    func didRun(_ stage: ForwardStage) { record("-\(stage.name)") }
    private func record(_ s: String) {
        lock.lock()
        log.append(s)
        lock.unlock()
    }
}

@Suite struct ForwardHooksTests {
    @Test func hooksBracketEveryStageInOrder() throws {
        let model = try openModel(fixtures.appendingPathComponent("models/opt-proj").path)
        let hooks = RecordingHooks()
        let cache = model.makeCache(capacity: 8)
        let hooked = model.forward([1, 2], cache: cache, logits: .last, context: ComputeContext(threads: 1), hooks: hooks)
        let expected = ["+embeddings", "-embeddings"] + (0..<model.blocks.count).flatMap { ["+block \($0)", "-block \($0)"] } + ["+head", "-head"]
        #expect(hooks.events == expected)
        let plain = model.forward([1, 2], cache: model.makeCache(capacity: 8), logits: .last, context: ComputeContext(threads: 1))
        #expect(hooked.map(\.bitPattern) == plain.map(\.bitPattern))
    }
}

@Suite struct DiskProbeTests {
    @Test func measuresAFile() throws {
        let dir = temporaryModelDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("blob").path
        try Data(count: 6 << 20).write(to: URL(fileURLWithPath: path))
        let r = try #require(DiskProbe.measure(paths: [path], bytes: 4 << 20, chunk: 1 << 20))
        #expect(r.bytesRead == 4 << 20)
        #expect(r.bytesPerSecond > 0)
        #expect(DiskProbe.measure(paths: [dir.appendingPathComponent("missing").path]) == nil)
        let mean = try #require(DiskProbe.mean([r, r]))
        #expect(abs(mean.bytesPerSecond - r.bytesPerSecond) < 1e-6 * r.bytesPerSecond)
    }
}
