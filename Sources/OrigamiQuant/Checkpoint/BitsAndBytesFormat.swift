import OrigamiFormats
public import OrigamiTensor

/// The transformers + bitsandbytes serialization of a 4-bit linear layer (`save_pretrained` of a model loaded with
/// `BitsAndBytesConfig(load_in_4bit=True)`), for a layer `<l>`:
///
/// | tensor | dtype, shape | |
/// |---|---|---|
/// | `<l>.weight` | U8 `[(n + 1) / 2, 1]` | packed codes of the flattened `[out, in]` weight, first element high |
/// | `<l>.weight.absmax` | F32 `[blocks]`, or U8 `[blocks]` with double quantization | |
/// | `<l>.weight.quant_map` | F32 `[16]` | the 4-bit code |
/// | `<l>.weight.nested_absmax` | F32 `[ceil(blocks / 256)]` | double quantization only |
/// | `<l>.weight.nested_quant_map` | F32 `[256]` | double quantization only: the dynamic map |
/// | `<l>.weight.quant_state.bitsandbytes__<nf4\|fp4>` | U8 `[len]` | `json.dumps` of quant_type, blocksize, dtype, shape (+ nested_blocksize, nested_dtype, nested_offset) |
///
/// and in config.json a `quantization_config` with `quant_method: "bitsandbytes"`.
public enum BitsAndBytesFormat {
    /// The fields of a `quant_state.bitsandbytes__*` JSON.
    public struct QuantState: Sendable, Equatable {
        public var quantType: FourBitType
        public var blockSize: Int
        /// The float dtype of the weight before quantization ("float32", "bfloat16", "float16").
        public var dtype: String
        /// `[out, in]`
        public var shape: [Int]
        public var nestedBlockSize: Int?
        public var nestedDType: String?
        public var nestedOffset: Float?

        public init(quantType: FourBitType, blockSize: Int, dtype: String, shape: [Int], nestedBlockSize: Int? = nil,
                    nestedDType: String? = nil, nestedOffset: Float? = nil)
        {
            self.quantType = quantType
            self.blockSize = blockSize
            self.dtype = dtype
            self.shape = shape
            self.nestedBlockSize = nestedBlockSize
            self.nestedDType = nestedDType
            self.nestedOffset = nestedOffset
        }

        /// What Python's `json.dumps` writes for this dict (key order as bitsandbytes builds it), byte for byte.
        public var json: String {
            var s = "{\"quant_type\": \"\(quantType.bnbName)\", \"blocksize\": \(blockSize), \"dtype\": \"\(dtype)\", "
                + "\"shape\": [\(shape.map(String.init).joined(separator: ", "))]"
            if let nestedBlockSize, let nestedDType, let nestedOffset {
                s += ", \"nested_blocksize\": \(nestedBlockSize), \"nested_dtype\": \"\(nestedDType)\", "
                    + "\"nested_offset\": \(pythonFloatRepr(nestedOffset))"
            }
            return s + "}"
        }
    }

    public static let quantStatePrefix = "quant_state.bitsandbytes__"

    /// `<weight>.quant_state.bitsandbytes__<type>`.
    public static func quantStateName(weight: String, type: FourBitType) -> String {
        "\(weight).\(quantStatePrefix)\(type.bnbName)"
    }

    /// bitsandbytes' names for a weight's dtype (`str(torch.float32).strip("torch.")`).
    public static func dtypeName(_ d: DType) -> String {
        switch d {
        case .bf16: "bfloat16"
        case .f16: "float16"
        default: "float32"
        }
    }

    /// Parses a `quant_state.bitsandbytes__*` tensor's bytes (UTF-8 JSON).
    /// - Throws: `QuantError.invalidQuantState` naming the tensor and the JSON path.
    public static func parseQuantState(_ bytes: UnsafeRawBufferPointer, tensor: String) throws(QuantError) -> QuantState {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw .invalidQuantState(tensor: tensor, path: "$", reason: "not valid JSON: \(error)")
        }
        guard value.objectValue != nil else { throw .invalidQuantState(tensor: tensor, path: "$", reason: "expected an object, found \(value.kindName)") }
        func field(_ key: String) throws(QuantError) -> JSONValue {
            guard let v = value[key], v != .null else { throw .invalidQuantState(tensor: tensor, path: "$.\(key)", reason: "missing") }
            return v
        }
        func string(_ key: String) throws(QuantError) -> String {
            let v = try field(key)
            guard let s = v.stringValue else { throw .invalidQuantState(tensor: tensor, path: "$.\(key)", reason: "expected a string, found \(v.kindName)") }
            return s
        }
        func int(_ key: String) throws(QuantError) -> Int {
            let v = try field(key)
            guard let i = v.intValue, i > 0 else {
                throw .invalidQuantState(tensor: tensor, path: "$.\(key)", reason: "expected a positive integer, found \(v.kindName)")
            }
            return i
        }
        let typeName = try string("quant_type")
        guard let type = FourBitType(rawValue: typeName) else {
            throw .invalidQuantState(tensor: tensor, path: "$.quant_type", reason: "'\(typeName)' is not nf4 or fp4")
        }
        let blockSize = try int("blocksize")
        do { try QuantSpec.validate(blockSize: blockSize) } catch {
            throw .invalidQuantState(tensor: tensor, path: "$.blocksize", reason: error.description)
        }
        let shapeValue = try field("shape")
        guard let dims = shapeValue.arrayValue else {
            throw .invalidQuantState(tensor: tensor, path: "$.shape", reason: "expected an array, found \(shapeValue.kindName)")
        }
        var shape: [Int] = []
        for (i, d) in dims.enumerated() {
            guard let n = d.intValue, n > 0 else { throw .invalidQuantState(tensor: tensor, path: "$.shape[\(i)]", reason: "expected a positive integer") }
            shape.append(n)
        }
        guard shape.count == 2 else { throw .invalidQuantState(tensor: tensor, path: "$.shape", reason: "a linear weight is 2-D, found \(shape)") }
        var state = QuantState(quantType: type, blockSize: blockSize, dtype: try string("dtype"), shape: shape)
        if value["nested_blocksize"] != nil || value["nested_offset"] != nil {
            state.nestedBlockSize = try int("nested_blocksize")
            state.nestedDType = try string("nested_dtype")
            let o = try field("nested_offset")
            guard let d = o.doubleValue else {
                throw .invalidQuantState(tensor: tensor, path: "$.nested_offset", reason: "expected a number, found \(o.kindName)")
            }
            state.nestedOffset = Float(d)
        }
        return state
    }

    /// How Python prints `float(x)` (`repr`): the shortest decimal that reads back as the same double, positional
    /// for decimal exponents -4 … 15, scientific (`1e-05`, `1.5e+16`) otherwise.
    public static func pythonFloatRepr(_ x: Float) -> String {
        let d = Double(x)
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        // Swift's description is also the shortest round-trip form; only its layout differs.
        var s = d.magnitude.description
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(s[s.index(after: e)...])!
            s = String(s[..<e])
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(parts[0]), fracPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = intPart + fracPart
        var point = intPart.count + exponent   // position of the decimal point in `digits`
        while digits.count > 1 && digits.hasPrefix("0") {
            digits.removeFirst()
            point -= 1
        }
        while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
        let decimalExponent = point - 1
        let sign = d < 0 ? "-" : ""
        if decimalExponent < -4 || decimalExponent >= 16 {
            let mantissa = digits.count > 1 ? "\(digits.first!).\(digits.dropFirst())" : String(digits)
            let e = abs(decimalExponent)
            return "\(sign)\(mantissa)e\(decimalExponent < 0 ? "-" : "+")\(e < 10 ? "0" : "")\(e)"
        }
        if point <= 0 { return "\(sign)0.\(String(repeating: "0", count: -point))\(digits)" }
        if point >= digits.count { return "\(sign)\(digits)\(String(repeating: "0", count: point - digits.count)).0" }
        let i = digits.index(digits.startIndex, offsetBy: point)
        return "\(sign)\(digits[..<i]).\(digits[i...])"
    }
}
