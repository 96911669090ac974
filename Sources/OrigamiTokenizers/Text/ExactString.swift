/// A dictionary key that compares strings scalar by scalar. Swift's `String` equality is canonical equivalence,
/// so `"é"` (U+00E9) and `"e\u{301}"` would be one key; vocabularies may hold both as different tokens, and
/// `tokenizers` tells them apart. Hashing the UTF-8 bytes is also cheaper than hashing normalized text.
struct ExactString: Hashable, Sendable {
    let value: String

    init(_ value: String) {
        self.value = value
    }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.value.utf8.elementsEqual(rhs.value.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var value = value
        value.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// A dictionary key for a run of scalars, compared and hashed as raw memory: the per-call word cache looks one
/// up for every pre-tokenized word.
struct ScalarsKey: Hashable {
    let scalars: [Unicode.Scalar]

    static func == (lhs: ScalarsKey, rhs: ScalarsKey) -> Bool {
        lhs.scalars.withUnsafeBytes { left in
            rhs.scalars.withUnsafeBytes { right in left.elementsEqual(right) }
        }
    }

    func hash(into hasher: inout Hasher) {
        scalars.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension String {
    /// The string made of exactly these scalars.
    init(scalars: some Sequence<Unicode.Scalar>) {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        self.init(view)
    }
}
