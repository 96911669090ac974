/// Errors from building quantized weights out of a checkpoint's tensors.
public enum QuantizedWeightError: Error, Equatable, CustomStringConvertible {
    /// 4-bit block sizes are powers of two from 32 to 4096 (bitsandbytes' range).
    case invalidBlockSize(Int)
    /// A 4-bit code book has exactly 16 entries.
    case invalidCodebook(count: Int)
    /// The packed copy could not be allocated.
    case allocationFailed(bytes: Int)

    public var description: String {
        switch self {
        case .invalidBlockSize(let b): "4-bit block size \(b) is not a power of two between 32 and 4096"
        case .invalidCodebook(let n): "a 4-bit code book needs 16 values, got \(n)"
        case .allocationFailed(let b): "cannot allocate \(b) bytes for packed quantized weights"
        }
    }
}
