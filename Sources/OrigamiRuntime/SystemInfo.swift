import Foundation

/// What the process and the machine look like, for benchmark reports.
public enum SystemInfo {
    /// Peak resident set size (VmHWM) in bytes, from /proc/self/status; 0 where unavailable.
    public static func peakResidentBytes() -> Int { statusField("VmHWM") }

    /// Resets the peak resident set size to the current one (writes 5 to /proc/self/clear_refs, Linux 4.0+), so that
    /// one process can measure the peaks of several runs in turn. Returns false where that is not possible.
    @discardableResult
    public static func resetPeakResident() -> Bool {
        guard let h = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? h.close() }
        do { try h.write(contentsOf: Data("5".utf8)) } catch { return false }
        return true
    }

    /// Current resident set size (VmRSS) in bytes.
    public static func residentBytes() -> Int { statusField("VmRSS") }

    static func statusField(_ name: String) -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix(name + ":") {
            // "VmHWM:\t   1234 kB": a tab, then spaces padding to 8 digits, so from 10 GB on there are no spaces.
            let digits = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int($0) }
            return (digits.first ?? 0) * 1024
        }
        return 0
    }

    /// The CPU model name from /proc/cpuinfo.
    public static func cpuName() -> String {
        guard let s = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in s.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        }
        return "unknown"
    }
}

/// Mean and sample standard deviation.
public func meanAndSpread(_ xs: [Double]) -> (mean: Double, std: Double) {
    guard !xs.isEmpty else { return (0, 0) }
    let m = xs.reduce(0, +) / Double(xs.count)
    guard xs.count > 1 else { return (m, 0) }
    let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
    return (m, v.squareRoot())
}
