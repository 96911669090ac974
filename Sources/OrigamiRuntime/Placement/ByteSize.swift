import Foundation

/// Sizes as people write them on a command line: "24GB", "6GiB", "1TB", "1.5GB", "512MiB", "4096".
///
/// SI suffixes are decimal (KB = 10³, MB = 10⁶, GB = 10⁹, TB = 10¹²), as disk and GPU makers and the seed articles
/// use them ("24 GB of VRAM", "22 GB = 2.2e10 bytes"); IEC suffixes are binary (KiB = 2¹⁰ … TiB = 2⁴⁰). A bare
/// number is bytes. Bare letters ("24G") are rejected rather than guessed, since tools disagree on them.
public enum ByteSize {
    static let units: [(suffix: String, factor: Double)] = [
        ("kib", 1024), ("mib", 1_048_576), ("gib", 1_073_741_824), ("tib", 1_099_511_627_776),
        ("kb", 1e3), ("mb", 1e6), ("gb", 1e9), ("tb", 1e12), ("b", 1),
    ]

    public static func parse(_ text: String) throws(PlanError) -> Int {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: " ", with: "")
        guard !s.isEmpty else { throw .invalidSize(text, reason: "empty") }
        var number = Substring(s)
        var factor = 1.0
        if let unit = units.first(where: { s.hasSuffix($0.suffix) }) {
            number = s.dropLast(unit.suffix.count)
            factor = unit.factor
        } else if let last = s.last, last.isLetter {
            throw .invalidSize(text, reason: "unknown unit; use B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)")
        }
        guard let value = Double(number), value.isFinite, value >= 0 else {
            throw .invalidSize(text, reason: "expected a non-negative number before the unit")
        }
        let bytes = (value * factor).rounded()
        guard bytes < Double(Int.max / 2) else { throw .invalidSize(text, reason: "too large") }
        return Int(bytes)
    }
}

/// Bytes in decimal units, as `origami plan` prints them ("140.00 GB"): the seed articles' and vendors' GB.
public func formatDecimalBytes(_ n: Int) -> String {
    let units = ["B", "KB", "MB", "GB", "TB", "PB"]
    var v = Double(n)
    var u = 0
    while abs(v) >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
    return u == 0 ? "\(n) B" : String(format: "%.2f %@", v, units[u])
}
