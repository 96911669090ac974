/// Pair of token ids → (merge rank, merged token id), as an open-addressing hash table. BPE looks a pair up for
/// every adjacent symbol pair of every word, so this replaces `Dictionary`'s SipHash with one multiply.
struct MergeTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private var mask: Int
    private(set) var count = 0

    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private func slot(for key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// Inserts or overwrites (a later duplicate merge wins, as in `tokenizers`).
    mutating func insert(left: Int32, right: Int32, rank: Int32, merged: Int32) {
        if (count + 1) * 2 > keys.count { grow() }
        let key = Self.key(left, right)
        var index = slot(for: key)
        while keys[index] != Self.empty && keys[index] != key { index = (index + 1) & mask }
        if keys[index] == Self.empty { count += 1 }
        keys[index] = key
        values[index] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: merged))
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        keys = [UInt64](repeating: Self.empty, count: oldKeys.count * 2)
        values = [UInt64](repeating: 0, count: oldKeys.count * 2)
        mask = keys.count - 1
        for (key, value) in zip(oldKeys, oldValues) where key != Self.empty {
            var index = slot(for: key)
            while keys[index] != Self.empty { index = (index + 1) & mask }
            keys[index] = key
            values[index] = value
        }
    }

    /// The rank and merged id for the pair, or nil when the pair never merges.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
        let key = Self.key(left, right)
        var index = slot(for: key)
        while true {
            let stored = keys[index]
            if stored == key {
                let value = values[index]
                return (Int32(truncatingIfNeeded: value >> 32), Int32(truncatingIfNeeded: value))
            }
            if stored == Self.empty { return nil }
            index = (index + 1) & mask
        }
    }
}
