import Foundation

/// A fresh temporary directory per test.
func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("origami-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The repository's Tests/Fixtures folder.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

/// Builds a safetensors file by hand (header text as given), so tests can make every kind of broken file.
func rawSafetensors(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    var n = (declaredLength ?? UInt64(h.count)).littleEndian
    return withUnsafeBytes(of: &n) { Array($0) } + h + data
}

func write(_ bytes: [UInt8], name: String = "model.safetensors", in dir: URL) -> String {
    let path = dir.appendingPathComponent(name).path
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}
