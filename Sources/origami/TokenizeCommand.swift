import ArgumentParser
import Foundation
import OrigamiTokenizers

/// `origami tokenize --model DIR "text"`: the ids and vocabulary pieces a model's tokenizer gives a text, for
/// checking prompts and chat templates against what the model will see.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the token ids and pieces a model's tokenizer produces for a text.")

    @Option(name: .long, help: "Model directory containing tokenizer.json (and tokenizer_config.json).")
    var model: String

    @Flag(name: .customLong("no-special"), help: "Do not add the post-processor's special tokens (such as BOS).")
    var noSpecial = false

    @Flag(name: .long, help: "Print {\"ids\": [...], \"tokens\": [...]} instead of a table.")
    var json = false

    @Argument(help: "The text to tokenize.")
    var text: String

    func run() throws {
        let tokenizer = try Tokenizer(directory: URL(fileURLWithPath: model))
        let ids = tokenizer.encode(text, addSpecialTokens: !noSpecial)
        let tokens = tokenizer.tokens(for: ids)
        if json {
            print(try Self.json(ids: ids, tokens: tokens))
        } else {
            print(Self.table(ids: ids, tokens: tokens, texts: ids.map { tokenizer.decode([$0]) }))
        }
    }

    struct Output: Encodable {
        let ids: [Int]
        let tokens: [String]
    }

    static func json(ids: [Int], tokens: [String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(Output(ids: ids, tokens: tokens)), as: UTF8.self)
    }

    /// One row per token: position, id, the piece as stored in the vocabulary, and the text it decodes to
    /// alone (quoted, with control characters escaped, so spaces and newlines show).
    static func table(ids: [Int], tokens: [String], texts: [String]) -> String {
        let idWidth = max(2, ids.map { String($0).count }.max() ?? 0)
        let indexWidth = max(1, String(max(0, ids.count - 1)).count)
        let pieces = tokens.map(escaped)
        let pieceWidth = max(5, pieces.map(\.count).max() ?? 0)
        func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(0, width - text.count))
            return left ? padding + text : text + padding
        }
        var lines = [
            "\(pad("#", indexWidth, left: true))  \(pad("id", idWidth, left: true))  \(pad("piece", pieceWidth))  text"
        ]
        for (index, id) in ids.enumerated() {
            lines.append(
                "\(pad(String(index), indexWidth, left: true))  \(pad(String(id), idWidth, left: true))  "
                    + "\(pad(pieces[index], pieceWidth))  \"\(escaped(texts[index]))\"")
        }
        lines.append("\(ids.count) token\(ids.count == 1 ? "" : "s")")
        return lines.joined(separator: "\n")
    }

    private static func escaped(_ text: String) -> String {
        var output = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    output += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output
    }
}
