/// GPT-2's reversible byte ↔ character table. Byte-level BPE works on UTF-8 bytes, but its vocabulary is
/// stored as text, so each byte is shown as a printable character: printable Latin-1 bytes stand for
/// themselves, and the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) map to U+0100 onwards in byte
/// order (space becomes `Ġ`, newline `Ċ`).
enum ByteLevelTable {
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte a table character stands for; -1 for characters outside the table. Indexed by scalar value,
    /// which never exceeds U+0143.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    @inline(__always)
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        guard scalar.value < 0x144 else { return nil }
        let byte = byteForScalar[Int(scalar.value)]
        return byte < 0 ? nil : UInt8(byte)
    }

    /// Each scalar's UTF-8 bytes, each shown as its table character.
    static func encode(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(scalars.count + scalars.count / 2)
        for scalar in scalars {
            let value = scalar.value
            if value < 0x80 {
                output.append(scalarForByte[Int(value)])
            } else {
                for byte in UTF8.encode(scalar)! { output.append(scalarForByte[Int(byte)]) }
            }
        }
        return output
    }
}

/// `ByteLevel`: optional leading space, GPT-2 regex split, then the byte table.
struct ByteLevelPreTokenizer: PreTokenizer {
    let addPrefixSpace: Bool
    let useRegex: Bool
    private let pattern = GPT2Pattern()

    init(addPrefixSpace: Bool, useRegex: Bool) {
        self.addPrefixSpace = addPrefixSpace
        self.useRegex = useRegex
    }

    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        var split: [Piece] = []
        split.reserveCapacity(pieces.count * 4)
        for var piece in pieces {
            // Every piece gets its own space: text after an added token is a fresh "first word".
            if addPrefixSpace && !piece.scalars.isEmpty && piece.scalars[0] != " " {
                piece.scalars.insert(" ", at: 0)
            }
            if useRegex {
                piece.split(on: pattern, behavior: .isolated, into: &split)
            } else if !piece.scalars.isEmpty {
                split.append(piece)
            }
        }
        for index in split.indices {
            split[index].scalars = ByteLevelTable.encode(split[index].scalars)
        }
        return split
    }
}
