public import OrigamiFormats
public import OrigamiNN

/// Everything that can be wrong with a quantization request or a quantized checkpoint. Each case names what it is
/// about: the option, the file and JSON path, or the tensor.
public enum QuantError: Error, CustomStringConvertible, Equatable {
    /// A method name that is not one of `QuantMethod`'s.
    case unknownMethod(String)
    /// A 4-bit block size that bitsandbytes does not define (a power of two in 32…4096).
    case invalidBlockSize(Int)
    /// An LLM.int8() outlier threshold that is not a positive finite number.
    case invalidThreshold(Float)
    /// An option combination that cannot be honoured, e.g. `--format bnb` with an 8-bit method.
    case unsupported(String)
    /// A `quantization_config` (or other JSON) value that is missing, mistyped or out of range.
    case invalidConfig(file: String, path: String, reason: String)
    /// A bitsandbytes `quant_state.bitsandbytes__*` tensor whose JSON is unreadable; `path` is inside that JSON.
    case invalidQuantState(tensor: String, path: String, reason: String)
    /// A quantized tensor of the wrong dtype, shape or size.
    case invalidTensor(name: String, reason: String)
    /// A weight that was asked to be quantized twice (`--quantize` on an already quantized checkpoint).
    case alreadyQuantized(file: String, method: String)
    case outputExists(String)
    case io(path: String, reason: String)
    case checkpoint(SafeTensorsError)
    case weights(NNError)

    public var description: String {
        switch self {
        case .unknownMethod(let m):
            "unknown quantization method '\(m)' (known: \(QuantMethod.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .invalidBlockSize(let n): "block size \(n) is not supported: it must be a power of two from 32 to 4096"
        case .invalidThreshold(let t): "LLM.int8() threshold \(t) must be a positive finite number"
        case .unsupported(let s): s
        case .invalidConfig(let f, let p, let r): "\(f): \(p): \(r)"
        case .invalidQuantState(let t, let p, let r): "tensor '\(t)': quant_state JSON \(p): \(r)"
        case .invalidTensor(let n, let r): "tensor '\(n)': \(r)"
        case .alreadyQuantized(let f, let m): "\(f): the checkpoint is already quantized (\(m)); drop --quantize"
        case .outputExists(let p): "\(p) already exists; choose another --output or remove it"
        case .io(let p, let r): "\(p): \(r)"
        case .checkpoint(let e): e.description
        case .weights(let e): e.description
        }
    }
}
