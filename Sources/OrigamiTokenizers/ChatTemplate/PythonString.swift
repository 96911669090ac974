extension Jinja {
    /// Python's `str` semantics over Swift strings.
    ///
    /// Python indexes, slices, compares and searches strings by code point, and Swift by extended grapheme
    /// cluster with canonical equivalence; templates count on the former (`content[:2]`, `'é' == 'é'` only when
    /// the code points match), so every operation here works on `unicodeScalars`.
    enum PythonString {
        /// The characters `str.isspace()` and the `\s` of Python's `re` accept: `strip()`, `split()`,
        /// `lstrip_blocks` and the `-` whitespace control all use this set.
        static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
                true
            default:
                false
            }
        }

        /// Line boundaries of `str.splitlines()`.
        static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029: true
            default: false
            }
        }

        static func make<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            return String(view)
        }

        static func length(_ string: String) -> Int { string.unicodeScalars.count }

        /// Code-point equality (Swift's `==` would also equate canonically equivalent spellings).
        static func equal(_ lhs: String, _ rhs: String) -> Bool { lhs.utf8.elementsEqual(rhs.utf8) }

        /// Code-point ordering, which is what Python's `<` on strings compares (UTF-8 byte order agrees with it).
        static func less(_ lhs: String, _ rhs: String) -> Bool { lhs.utf8.lexicographicallyPrecedes(rhs.utf8) }

        // MARK: Searching

        /// Code-point index of the first (or, with `reverse`, last) occurrence of `needle` in `haystack` at or
        /// after `start`.
        static func find(_ needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], from start: Int = 0, reverse: Bool = false) -> Int? {
            let n = haystack.count
            let m = needle.count
            guard m <= n - start else { return nil }
            if m == 0 { return reverse ? n : start }
            func matches(at i: Int) -> Bool {
                for j in 0..<m where haystack[i + j] != needle[j] { return false }
                return true
            }
            if reverse {
                var i = n - m
                while i >= start {
                    if matches(at: i) { return i }
                    i -= 1
                }
            } else {
                for i in start...(n - m) where matches(at: i) { return i }
            }
            return nil
        }

        static func count(_ needle: String, in haystack: String) -> Int {
            let hay = Array(haystack.unicodeScalars)
            let sub = Array(needle.unicodeScalars)
            if sub.isEmpty { return hay.count + 1 }
            var total = 0
            var position = 0
            while let found = find(sub, in: hay, from: position) {
                total += 1
                position = found + sub.count
            }
            return total
        }

        static func contains(_ needle: String, in haystack: String) -> Bool {
            find(Array(needle.unicodeScalars), in: Array(haystack.unicodeScalars)) != nil
        }

        static func hasPrefix(_ string: String, _ prefix: String) -> Bool {
            string.utf8.starts(with: prefix.utf8)
        }

        static func hasSuffix(_ string: String, _ suffix: String) -> Bool {
            string.utf8.reversed().starts(with: suffix.utf8.reversed())
        }

        // MARK: Transforming

        static func replace(_ string: String, _ old: String, _ new: String, count limit: Int = -1) -> String {
            let hay = Array(string.unicodeScalars)
            let sub = Array(old.unicodeScalars)
            let replacement = Array(new.unicodeScalars)
            var result: [Unicode.Scalar] = []
            var done = 0
            if sub.isEmpty {
                // Python inserts the replacement before every code point and once at the end.
                for scalar in hay {
                    if limit < 0 || done < limit {
                        result += replacement
                        done += 1
                    }
                    result.append(scalar)
                }
                if limit < 0 || done < limit { result += replacement }
                return make(result)
            }
            var position = 0
            while limit < 0 || done < limit, let found = find(sub, in: hay, from: position) {
                result += hay[position..<found]
                result += replacement
                position = found + sub.count
                done += 1
            }
            result += hay[position...]
            return make(result)
        }

        static func strip(_ string: String, characters: String?, leading: Bool = true, trailing: Bool = true) -> String {
            let scalars = Array(string.unicodeScalars)
            let set = characters.map { Set($0.unicodeScalars) }
            func removable(_ scalar: Unicode.Scalar) -> Bool {
                if let set { return set.contains(scalar) }
                return isSpace(scalar)
            }
            var start = 0
            var end = scalars.count
            if leading { while start < end, removable(scalars[start]) { start += 1 } }
            if trailing { while end > start, removable(scalars[end - 1]) { end -= 1 } }
            return make(scalars[start..<end])
        }

        /// `str.split(sep, maxsplit)`; `nil` splits on runs of whitespace and drops empty pieces.
        static func split(_ string: String, separator: String?, maxSplit: Int = -1) -> [String] {
            let scalars = Array(string.unicodeScalars)
            guard let separator else {
                var pieces: [String] = []
                var i = 0
                while i < scalars.count {
                    while i < scalars.count, isSpace(scalars[i]) { i += 1 }
                    if i == scalars.count { break }
                    if maxSplit >= 0, pieces.count == maxSplit {
                        var end = scalars.count
                        while end > i, isSpace(scalars[end - 1]) { end -= 1 }
                        pieces.append(make(scalars[i..<end]))
                        return pieces
                    }
                    let start = i
                    while i < scalars.count, !isSpace(scalars[i]) { i += 1 }
                    pieces.append(make(scalars[start..<i]))
                }
                return pieces
            }
            let sub = Array(separator.unicodeScalars)
            var pieces: [String] = []
            var position = 0
            while maxSplit < 0 || pieces.count < maxSplit, let found = find(sub, in: scalars, from: position) {
                pieces.append(make(scalars[position..<found]))
                position = found + sub.count
            }
            pieces.append(make(scalars[position...]))
            return pieces
        }

        /// `str.rsplit(sep, maxsplit)`.
        static func rsplit(_ string: String, separator: String?, maxSplit: Int = -1) -> [String] {
            if maxSplit < 0 { return split(string, separator: separator) }
            let scalars = Array(string.unicodeScalars)
            guard let separator else {
                var pieces: [String] = []
                var i = scalars.count
                while i > 0 {
                    while i > 0, isSpace(scalars[i - 1]) { i -= 1 }
                    if i == 0 { break }
                    if pieces.count == maxSplit {
                        var start = 0
                        while start < i, isSpace(scalars[start]) { start += 1 }
                        pieces.append(make(scalars[start..<i]))
                        return pieces.reversed()
                    }
                    let end = i
                    while i > 0, !isSpace(scalars[i - 1]) { i -= 1 }
                    pieces.append(make(scalars[i..<end]))
                }
                return pieces.reversed()
            }
            let sub = Array(separator.unicodeScalars)
            var pieces: [String] = []
            var end = scalars.count
            while pieces.count < maxSplit, end >= sub.count, !sub.isEmpty,
                let found = find(sub, in: Array(scalars[0..<end]), reverse: true)
            {
                pieces.append(make(scalars[(found + sub.count)..<end]))
                end = found
            }
            pieces.append(make(scalars[0..<end]))
            return pieces.reversed()
        }

        static func splitLines(_ string: String, keepEnds: Bool = false) -> [String] {
            let scalars = Array(string.unicodeScalars)
            var lines: [String] = []
            var start = 0
            var i = 0
            while i < scalars.count {
                if isLineBreak(scalars[i]) {
                    var end = i + 1
                    if scalars[i] == "\r", end < scalars.count, scalars[end] == "\n" { end += 1 }
                    lines.append(make(scalars[start..<(keepEnds ? end : i)]))
                    start = end
                    i = end
                } else {
                    i += 1
                }
            }
            if start < scalars.count { lines.append(make(scalars[start...])) }
            return lines
        }

        // MARK: Case

        static func isCased(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.isLowercase || scalar.properties.isUppercase
                || scalar.properties.generalCategory == .titlecaseLetter
        }

        static func upper(_ string: String) -> String {
            var result = ""
            for scalar in string.unicodeScalars { result += scalar.properties.uppercaseMapping }
            return result
        }

        static func lower(_ string: String) -> String {
            let scalars = Array(string.unicodeScalars)
            var result = ""
            for i in scalars.indices { result += lowerScalar(scalars, i) }
            return result
        }

        /// Python lowercases a capital sigma to the final form at the end of a word.
        private static func lowerScalar(_ scalars: [Unicode.Scalar], _ i: Int) -> String {
            guard scalars[i] == "\u{03A3}" else { return scalars[i].properties.lowercaseMapping }
            func skipIgnorable(_ start: Int, _ step: Int) -> Int {
                var j = start
                while j >= 0, j < scalars.count, scalars[j].properties.isCaseIgnorable { j += step }
                return j
            }
            let before = skipIgnorable(i - 1, -1)
            let after = skipIgnorable(i + 1, 1)
            let casedBefore = before >= 0 && isCased(scalars[before])
            let casedAfter = after < scalars.count && isCased(scalars[after])
            return casedBefore && !casedAfter ? "\u{03C2}" : "\u{03C3}"
        }

        /// `str.title()`: each cased run starts in title case; everything after a cased character is lowered.
        static func title(_ string: String) -> String {
            let scalars = Array(string.unicodeScalars)
            var result = ""
            var previousCased = false
            for i in scalars.indices {
                result += previousCased ? lowerScalar(scalars, i) : scalars[i].properties.titlecaseMapping
                previousCased = isCased(scalars[i])
            }
            return result
        }

        /// `str.capitalize()` (Python 3.8+): the first character in title case, the rest lowered.
        static func capitalize(_ string: String) -> String {
            let scalars = Array(string.unicodeScalars)
            guard let first = scalars.first else { return "" }
            var result = first.properties.titlecaseMapping
            for i in scalars.indices.dropFirst() { result += lowerScalar(scalars, i) }
            return result
        }

        static func swapCase(_ string: String) -> String {
            let scalars = Array(string.unicodeScalars)
            var result = ""
            for i in scalars.indices {
                let scalar = scalars[i]
                if scalar.properties.isUppercase {
                    result += lowerScalar(scalars, i)
                } else if scalar.properties.isLowercase {
                    result += scalar.properties.uppercaseMapping
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
            return result
        }

        // MARK: Predicates

        static func isAlpha(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
            default: false
            }
        }

        static func isDecimal(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.numericType == .decimal }

        static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.numericType == .decimal || scalar.properties.numericType == .digit
        }

        static func isNumeric(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.numericType != nil }

        static func isAlnum(_ scalar: Unicode.Scalar) -> Bool { isAlpha(scalar) || isNumeric(scalar) }

        /// The `\w` of Python's `re` for str patterns.
        static func isWord(_ scalar: Unicode.Scalar) -> Bool { isAlnum(scalar) || scalar == "_" }

        /// `str.isprintable()` for one code point, which decides what `repr` escapes.
        static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
            if scalar == " " { return true }
            switch scalar.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
                .spaceSeparator:
                return false
            default:
                return true
            }
        }

        static func all(_ string: String, _ predicate: (Unicode.Scalar) -> Bool) -> Bool {
            !string.unicodeScalars.isEmpty && string.unicodeScalars.allSatisfy(predicate)
        }

        static func isLowerString(_ string: String) -> Bool {
            var sawCased = false
            for scalar in string.unicodeScalars {
                if scalar.properties.isUppercase || scalar.properties.generalCategory == .titlecaseLetter { return false }
                if scalar.properties.isLowercase { sawCased = true }
            }
            return sawCased
        }

        static func isUpperString(_ string: String) -> Bool {
            var sawCased = false
            for scalar in string.unicodeScalars {
                if scalar.properties.isLowercase || scalar.properties.generalCategory == .titlecaseLetter { return false }
                if scalar.properties.isUppercase { sawCased = true }
            }
            return sawCased
        }

        static func isTitleString(_ string: String) -> Bool {
            var sawCased = false
            var previousCased = false
            for scalar in string.unicodeScalars {
                if scalar.properties.isUppercase || scalar.properties.generalCategory == .titlecaseLetter {
                    if previousCased { return false }
                    previousCased = true
                    sawCased = true
                } else if scalar.properties.isLowercase {
                    if !previousCased { return false }
                    previousCased = true
                    sawCased = true
                } else {
                    previousCased = false
                }
            }
            return sawCased
        }

        static func isIdentifier(_ string: String) -> Bool {
            guard let first = string.unicodeScalars.first, first == "_" || first.properties.isXIDStart else { return false }
            return string.unicodeScalars.dropFirst().allSatisfy { $0.properties.isXIDContinue }
        }

        // MARK: Layout

        static func center(_ string: String, width: Int, fill: Unicode.Scalar = " ") -> String {
            let length = length(string)
            guard width > length else { return string }
            let margin = width - length
            let left = margin / 2 + (margin & width & 1)
            return make(repeatElement(fill, count: left)) + string + make(repeatElement(fill, count: margin - left))
        }

        static func justify(_ string: String, width: Int, fill: Unicode.Scalar, left: Bool) -> String {
            let padding = max(0, width - length(string))
            let pad = make(repeatElement(fill, count: padding))
            return left ? string + pad : pad + string
        }

        static func zeroFill(_ string: String, width: Int) -> String {
            var scalars = Array(string.unicodeScalars)
            let padding = width - scalars.count
            guard padding > 0 else { return string }
            let signed = scalars.first == "+" || scalars.first == "-"
            scalars.insert(contentsOf: repeatElement("0", count: padding), at: signed ? 1 : 0)
            return make(scalars)
        }

        // MARK: Escaping

        /// `repr()` of a str: single quotes unless the text has a single quote and no double quote, with the
        /// escapes Python uses for backslashes, quotes, line controls and unprintable code points.
        static func repr(_ string: String) -> String {
            let hasSingle = string.unicodeScalars.contains("'")
            let hasDouble = string.unicodeScalars.contains("\"")
            let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
            var result = String.UnicodeScalarView()
            result.append(quote)
            for scalar in string.unicodeScalars {
                switch scalar {
                case quote, "\\":
                    result.append("\\")
                    result.append(scalar)
                case "\t": result.append(contentsOf: "\\t".unicodeScalars)
                case "\n": result.append(contentsOf: "\\n".unicodeScalars)
                case "\r": result.append(contentsOf: "\\r".unicodeScalars)
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        result.append(contentsOf: hexEscape(scalar.value, prefix: "x", digits: 2).unicodeScalars)
                    } else if scalar.value < 0x7F || isPrintable(scalar) {
                        result.append(scalar)
                    } else if scalar.value <= 0xFF {
                        result.append(contentsOf: hexEscape(scalar.value, prefix: "x", digits: 2).unicodeScalars)
                    } else if scalar.value <= 0xFFFF {
                        result.append(contentsOf: hexEscape(scalar.value, prefix: "u", digits: 4).unicodeScalars)
                    } else {
                        result.append(contentsOf: hexEscape(scalar.value, prefix: "U", digits: 8).unicodeScalars)
                    }
                }
            }
            result.append(quote)
            return String(result)
        }

        static func hexEscape(_ value: UInt32, prefix: String, digits: Int) -> String {
            let hex = String(value, radix: 16)
            return "\\" + prefix + String(repeating: "0", count: max(0, digits - hex.count)) + hex
        }

        /// markupsafe's `escape`, which the `escape` filter and `Markup` concatenation apply.
        static func htmlEscape(_ string: String) -> String {
            var result = ""
            for scalar in string.unicodeScalars {
                switch scalar {
                case "&": result += "&amp;"
                case "<": result += "&lt;"
                case ">": result += "&gt;"
                case "'": result += "&#39;"
                case "\"": result += "&#34;"
                default: result.unicodeScalars.append(scalar)
                }
            }
            return result
        }
    }
}
