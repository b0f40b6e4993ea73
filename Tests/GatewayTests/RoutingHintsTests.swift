import Foundation
import Gateway
import NIOCore
import OpenAIAPI
import Testing

/// The gateway's single-pass JSON scan of request bodies, against Foundation's parser.
struct RoutingHintsTests {
    /// What the hints were when Foundation's JSONSerialization read the body (the previous implementation).
    private func reference(_ json: String) -> RoutingHints? {
        guard let dict = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        func text(_ value: Any) -> String {
            switch value {
            case let s as String: return s
            case let parts as [Any]:
                return parts.map { part -> String in
                    if let s = part as? String { return s }
                    if let d = part as? [String: Any], let t = d["text"] as? String { return t }
                    if let n = part as? NSNumber { return n.stringValue + " " }
                    if let inner = part as? [Any] { return text(inner) }
                    return ""
                }.joined()
            default: return ""
            }
        }
        var h = RoutingHints()
        h.model = dict["model"] as? String
        h.stream = (dict["stream"] as? Bool) ?? false
        h.maxTokens = (dict["max_completion_tokens"] as? Int) ?? (dict["max_tokens"] as? Int)
        if let p = dict["prompt"] {
            h.promptText = text(p)
        } else if let messages = dict["messages"] as? [[String: Any]] {
            h.promptText = messages.map { (($0["role"] as? String) ?? "") + "\n" + ($0["content"].map(text) ?? "") + "\n" }.joined()
        }
        return h
    }

    @Test func matchesFoundationOnVariedBodies() throws {
        let bodies = [
            #"{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi \"there\" \u00e9\ud83d\ude00\n"}],"max_tokens":16,"stream":true}"#,
            #"{"model":"m","prompt":"Once upon a time","max_completion_tokens":7,"max_tokens":3}"#,
            #"{"prompt":[1,2,3],"stream":false}"#,
            #"{"prompt":["a","b",["c",{"text":"d"}],{"x":1}], "max_tokens": 2.5}"#,
            #" { "messages" : [ { "content" : [ {"type":"text","text":"part one "}, {"type":"image_url","image_url":{"url":"u"}} ], "role" : "user" } ] } "#,
            #"{"messages":[{"role":"user"}],"model":null,"stream":"yes","extra":{"deep":[true,false,null,-1.5e3]}}"#,
            #"{"messages":"not an array","prompt":""}"#,
            #"{}"#,
        ]
        for json in bodies {
            let expected = try #require(reference(json), "\(json)")
            let got = try RoutingHints.parse(ByteBuffer(string: json))
            #expect(got.model == expected.model, "\(json)")
            #expect(got.stream == expected.stream, "\(json)")
            #expect(got.maxTokens == expected.maxTokens, "\(json)")
            #expect(got.promptText == expected.promptText, "\(json)")
        }
    }

    @Test func refusesWhatIsNotAJSONObject() {
        let cases: [(String, String)] = [
            ("", "empty"), ("{", "not valid JSON"), (#"{"a":1,}"#, "not valid JSON"), (#"{"a":01}"#, "not valid JSON"),
            (#"{"a":"\x"}"#, "not valid JSON"), ("{\"a\":\"\u{01}\"}", "not valid JSON"), (#"{"a":1} x"#, "not valid JSON"),
            (#"[1,2]"#, "must be a JSON object"), (#""text""#, "must be a JSON object"),
            (String(repeating: "[", count: 200) + String(repeating: "]", count: 200), "not valid JSON"),
        ]
        for (json, message) in cases {
            do {
                _ = try RoutingHints.parse(ByteBuffer(string: json))
                Issue.record("accepted \(json)")
            } catch let e as OpenAIError {
                #expect(e.status == 400 && e.error.message.contains(message), "\(json): \(e.error.message)")
            } catch {
                Issue.record("\(error)")
            }
        }
        var invalidUTF8 = ByteBuffer(string: #"{"prompt":""#)
        invalidUTF8.writeBytes([0xff, 0xfe])
        invalidUTF8.writeString(#""}"#)
        #expect(throws: OpenAIError.self) { _ = try RoutingHints.parse(invalidUTF8) }
    }
}
