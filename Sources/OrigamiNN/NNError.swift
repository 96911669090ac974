public import OrigamiFormats
public import OrigamiTensor

/// Errors binding a checkpoint's tensors to a model's layers: each names the full tensor name.
public enum NNError: Error, CustomStringConvertible, Equatable {
    case missingTensor(name: String, checkpoint: String)
    case wrongShape(name: String, expected: [Int], found: [Int])
    case unsupportedDType(name: String, dtype: DType, supported: [DType])
    case checkpoint(SafeTensorsError)
    case unsupported(String)

    public var description: String {
        switch self {
        case .missingTensor(let n, let c): "\(c): tensor '\(n)' is missing"
        case .wrongShape(let n, let e, let f): "tensor '\(n)': expected shape \(e), found \(f)"
        case .unsupportedDType(let n, let d, let s):
            "tensor '\(n)': dtype \(d.rawValue) is not supported here (supported: \(s.map(\.rawValue).joined(separator: ", ")))"
        case .checkpoint(let e): e.description
        case .unsupported(let s): s
        }
    }
}
