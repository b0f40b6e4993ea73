import LLMModel
import Testing

@Suite("Tokenizer, streaming decoding, chat template")
struct TokenizerTests {
    var tok: Tokenizer { TestModel.shared.tokenizer }

    @Test("SmolLM pre-tokenizer splits digits one by one, then GPT-2 style")
    func preTokenizer() {
        let pieces = PreTokenizer.smollm.split("Hello world 12345 don't  \n x").map { String(String.UnicodeScalarView($0)) }
        #expect(pieces == ["Hello", " world", " ", "1", "2", "3", "4", "5", " don", "'t", "  \n", " x"])
    }

    @Test("special tokens are recognised inside text, and only when asked")
    func specials() {
        #expect(tok.encode("<|im_start|>user", addBOS: false) == [1, 4093])
        #expect(tok.encode("<|im_start|>", addBOS: false, parseSpecial: false).count > 1)
        #expect(tok.endOfGenerationIDs.contains(2))
    }

    @Test("encode then decode gives the text back", arguments: ["Hello, world!", "日本の首都は", "tabs\tand\nnewlines  ", "½ Äpfel 🍎"])
    func roundTrip(_ text: String) {
        #expect(tok.decode(tok.encode(text, addBOS: false)) == text)
    }

    @Test("streaming never emits half a UTF-8 character")
    func streaming() {
        let text = "Ä🍎日本"
        var d = StreamingDecoder()
        var out = ""
        for byte in Array(text.utf8) {
            let piece = d.append([byte])
            #expect(!piece.contains("\u{FFFD}"))
            out += piece
        }
        out += d.flush()
        #expect(out == text)
        // Token by token on the real vocabulary too.
        var d2 = StreamingDecoder()
        var out2 = ""
        for id in tok.encode("日本の首都は東京です", addBOS: false) {
            let piece = d2.append(tok.bytes(of: id))
            #expect(!piece.contains("\u{FFFD}"))
            out2 += piece
        }
        #expect(out2 + d2.flush() == "日本の首都は東京です")
    }

    @Test("ChatML template with the model's default system prompt")
    func chatTemplate() {
        let t = TestModel.shared.chatTemplate
        #expect(t.family == .chatML)
        #expect(t.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        let rendered = t.render([ChatMessage(role: "user", content: "Hi")])
        #expect(rendered == "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let withSystem = t.render([ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi")])
        #expect(withSystem == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }
}
