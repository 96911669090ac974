import OrigamiFormats

/// Building JSON responses as `JSONValue`s (written by `JSONValue.serialized`): keys stay in the order written, nulls are explicit.
extension JSONValue {
    static func int(_ n: Int) -> JSONValue { .number(Double(n), text: String(n)) }

    /// A finite float as JSON (non-finite values, which JSON cannot carry, become the most negative finite one).
    static func float(_ x: Float) -> JSONValue {
        let v = x.isFinite ? x : (x > 0 ? Float.greatestFiniteMagnitude : -Float.greatestFiniteMagnitude)
        return .number(Double(v), text: "\(v)")
    }
}
