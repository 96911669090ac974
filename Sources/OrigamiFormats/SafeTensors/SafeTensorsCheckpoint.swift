import Foundation
public import OrigamiTensor

/// All the safetensors of a model: one file, or the shards listed by `model.safetensors.index.json`.
///
/// Every file is memory-mapped once; `tensor(named:)` returns a view into a mapping, never a copy.
public final class SafeTensorsCheckpoint: Sendable {
    /// The directory (or single file) the checkpoint was opened from.
    public let location: String
    public let files: [SafeTensorsFile]
    /// All tensors, in file order then data order.
    public let entries: [TensorEntry]
    private let byName: [String: (file: Int, entry: TensorEntry)]

    /// Opens a directory (preferring `model.safetensors.index.json`, then `model.safetensors`, then the only
    /// `*.safetensors` files present) or a single `.safetensors` file.
    public convenience init(path: String) throws(SafeTensorsError) {
        var isDir: ObjCBool = false
        let fm = FileManager.default
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
            throw .storage(.cannotOpen(path: path, errno: ENOENT))
        }
        if !isDir.boolValue {
            if path.hasSuffix(".json") { try self.init(indexPath: path) } else { try self.init(files: [path], location: path) }
            return
        }
        let dir = URL(fileURLWithPath: path)
        let index = dir.appendingPathComponent("model.safetensors.index.json").path
        let single = dir.appendingPathComponent("model.safetensors").path
        if fm.fileExists(atPath: index) {
            try self.init(indexPath: index)
        } else if fm.fileExists(atPath: single) {
            try self.init(files: [single], location: path)
        } else {
            let found = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted()
            guard !found.isEmpty else { throw .noCheckpoint(directory: path) }
            try self.init(files: found.map { dir.appendingPathComponent($0).path }, location: path)
        }
    }

    /// Opens the shards named by an index file and checks that the index and the shards agree.
    public convenience init(indexPath: String) throws(SafeTensorsError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: indexPath)) } catch {
            throw .storage(.cannotOpen(path: indexPath, errno: ENOENT))
        }
        let json: JSONValue
        do { json = try JSONParser.parse(data) } catch {
            throw .invalidIndex(file: indexPath, jsonPath: "$", reason: "not valid JSON: \(error)")
        }
        guard json.objectValue != nil else { throw .invalidIndex(file: indexPath, jsonPath: "$", reason: "not an object") }
        guard let map = json["weight_map"]?.objectValue else {
            throw .invalidIndex(file: indexPath, jsonPath: "$.weight_map", reason: "missing, or not an object")
        }
        let dir = URL(fileURLWithPath: indexPath).deletingLastPathComponent()
        var shardNames: [String] = []
        var expected: [(tensor: String, shard: String)] = []
        for (tensor, value) in map {
            guard let shard = value.stringValue else {
                throw .invalidIndex(file: indexPath, jsonPath: "$.weight_map[\(JSONWriter.quote(tensor))]",
                                    reason: "expected a file name, found \(value.kindName)")
            }
            guard !shard.contains("/") || !shard.contains("..") else {
                throw .invalidIndex(file: indexPath, jsonPath: "$.weight_map[\(JSONWriter.quote(tensor))]",
                                    reason: "shard path '\(shard)' leaves the checkpoint directory")
            }
            if !shardNames.contains(shard) {
                guard FileManager.default.fileExists(atPath: dir.appendingPathComponent(shard).path) else {
                    throw .missingShard(index: indexPath, shard: shard, tensor: tensor)
                }
                shardNames.append(shard)
            }
            expected.append((tensor, shard))
        }
        try self.init(files: shardNames.sorted().map { dir.appendingPathComponent($0).path }, location: indexPath)
        for (tensor, shard) in expected {
            guard let found = byName[tensor], URL(fileURLWithPath: files[found.file].path).lastPathComponent
                == URL(fileURLWithPath: shard).lastPathComponent
            else { throw .tensorMissingFromShard(index: indexPath, tensor: tensor, shard: shard) }
        }
    }

    /// Opens the given files as one checkpoint; a tensor name may appear in only one of them.
    public init(files paths: [String], location: String) throws(SafeTensorsError) {
        self.location = location
        var files: [SafeTensorsFile] = []
        var byName: [String: (file: Int, entry: TensorEntry)] = [:]
        var entries: [TensorEntry] = []
        for (i, p) in paths.enumerated() {
            let f = try SafeTensorsFile(path: p)
            for e in f.entries {
                if let other = byName[e.name] {
                    throw .duplicateTensor(tensor: e.name, file: p, otherFile: files[other.file].path)
                }
                byName[e.name] = (i, e)
                entries.append(e)
            }
            files.append(f)
        }
        self.files = files
        self.entries = entries
        self.byName = byName
    }

    public var tensorNames: [String] { entries.map(\.name) }

    /// `__metadata__` of the first file (shards written together carry the same metadata).
    public var metadata: [String: String]? { files.first?.metadata }

    /// Total bytes of all files on disk.
    public var fileBytes: Int { files.reduce(0) { $0 + $1.mapping.size } }

    public func entry(named name: String) -> TensorEntry? { byName[name]?.entry }

    public func contains(_ name: String) -> Bool { byName[name] != nil }

    /// A zero-copy view of the named tensor.
    public func tensor(named name: String) throws(SafeTensorsError) -> TensorView {
        guard let found = byName[name] else { throw .tensorNotFound(name: name, checkpoint: location) }
        return files[found.file].view(of: found.entry)
    }

    /// The mapping a tensor lives in (for read-ahead and release hints).
    public func mapping(of name: String) -> MappedFile? { byName[name].map { files[$0.file].mapping } }
}
