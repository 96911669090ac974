/// Why a plan or a placement could not be made, naming the value or the budget at fault.
public enum PlanError: Error, CustomStringConvertible, Equatable {
    /// A size such as "24GB" that does not parse.
    case invalidSize(String, reason: String)
    case invalidPrecision(String, reason: String)
    case invalidOption(name: String, value: String, reason: String)
    /// `--max-memory` below what the run needs even when every layer streams.
    case budgetTooSmall(budget: Int, minimum: Int, breakdown: String)
    /// Placement needs a `DecoderModel` (every architecture Origami runs is one).
    case unsupportedModel(String)

    public var description: String {
        switch self {
        case .invalidSize(let s, let r): "invalid size '\(s)': \(r)"
        case .invalidPrecision(let s, let r): "invalid precision '\(s)': \(r)"
        case .invalidOption(let n, let v, let r): "invalid \(n) '\(v)': \(r)"
        case .budgetTooSmall(let b, let m, let d):
            "a memory budget of \(formatDecimalBytes(b)) is too small: streaming every layer still needs \(formatDecimalBytes(m)) (\(d))"
        case .unsupportedModel(let s): s
        }
    }
}
