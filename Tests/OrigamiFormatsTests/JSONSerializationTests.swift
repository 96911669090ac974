import Foundation
import OrigamiFormats
import Testing

/// `JSONValue.serialized` (the server's response writer) against Foundation's parser, an independent reader.
@Suite struct JSONSerializationTests {
    @Test func serializedTextParsesBackToTheSameValues() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t cr \r bell \u{07} nul \u{00} del \u{7F} é 中 🦙 </script>"
        let value = JSONValue.object([
            ("z", .string(tricky)), ("a", .number(-1.5e-7, text: "-1.5e-07")), ("n", .null), ("t", .bool(true)),
            ("list", .array([.number(3, text: "3"), .array([]), .object([])])),
        ])
        let text = value.serialized
        #expect(!text.contains("\n") && !text.contains(": ") && !text.contains(", "))
        // Keys stay in the order written.
        #expect(text.hasPrefix("{\"z\":") && text.range(of: "\"a\":")!.lowerBound > text.range(of: "\"z\":")!.lowerBound)
        let parsed = try #require(JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? [String: Any])
        #expect(parsed["z"] as? String == tricky)
        #expect(parsed["a"] as? Double == -1.5e-7)
        #expect(parsed["n"] is NSNull)
        #expect(parsed["t"] as? Bool == true)
        let list = try #require(parsed["list"] as? [Any])
        #expect(list.count == 3 && list[0] as? Int == 3 && (list[1] as? [Any])?.isEmpty == true && (list[2] as? [String: Any])?.isEmpty == true)
        // And Origami's own parser reads it back to an equal value.
        #expect(try JSONParser.parse(Array(text.utf8)) == value)
    }
}
