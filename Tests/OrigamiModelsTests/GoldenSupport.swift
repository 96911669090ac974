import Foundation
import OrigamiFormats
import OrigamiModels
import OrigamiNN

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

/// One golden model directory written by Scripts/make_model_goldens.py with transformers.
struct GoldenModel {
    let name: String
    let directory: URL
    let golden: [String: Any]

    init(_ name: String) throws {
        self.name = name
        directory = fixtures.appendingPathComponent("models/\(name)")
        let data = try Data(contentsOf: directory.appendingPathComponent("golden.json"))
        golden = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func load() throws -> any CausalLM {
        let config = try ModelConfig(contentsOf: directory.path)
        let checkpoint = try SafeTensorsCheckpoint(path: directory.path)
        return try ModelRegistry.load(config: config, weights: WeightScope(checkpoint: checkpoint))
    }

    var promptIds: [Int] { golden["prompt_ids"] as! [Int] }
    var logitsLast: [Float] { (golden["logits_last"] as! [Double]).map(Float.init) }
    var logitsFirst: [[Float]] { (golden["logits_first_positions"] as! [[Double]]).map { $0.map(Float.init) } }
    var greedy: (ids: [Int], margins: [Double]) {
        let g = golden["greedy"] as! [String: Any]
        return (g["new_ids"] as! [Int], g["margins"] as! [Double])
    }
    var ppl: (value: Double, meanNLL: Double, scored: Int, context: Int, ids: [Int]) {
        let p = golden["ppl"] as! [String: Any]
        return (p["ppl"] as! Double, p["mean_nll"] as! Double, p["scored_tokens"] as! Int, p["context"] as! Int, p["eval_ids"] as! [Int])
    }
}

/// Largest |a − b| relative to the range of `b`.
func relativeError(_ a: ArraySlice<Float>, _ b: [Float]) -> Float {
    let range = (b.max()! - b.min()!)
    var worst: Float = 0
    for (x, y) in zip(a, b) { worst = max(worst, abs(x - y)) }
    return worst / range
}
