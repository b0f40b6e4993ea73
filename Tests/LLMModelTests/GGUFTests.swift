import Foundation
import LLMModel
import LLMTensor
import Testing

/// The GGUF reader on small files written by GGUFWriter, including broken ones.
@Suite("GGUF reader")
struct GGUFTests {
    /// One folder for the files these tests write, emptied when a test run starts (files stay
    /// mapped while tests run, so they are not deleted one by one).
    static let folder: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scalellm-gguf-tests")
        try? FileManager.default.removeItem(at: dir)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }()

    static func write(_ w: GGUFWriter, _ name: String = UUID().uuidString) throws -> String {
        let path = folder.appendingPathComponent("\(name).gguf").path
        try Data(w.bytes()).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func sample() -> GGUFWriter {
        var w = GGUFWriter()
        w.metadata = [
            ("general.architecture", .string("llama")),
            ("u8", .uint8(7)), ("i8", .int8(-7)), ("u16", .uint16(700)), ("i16", .int16(-700)),
            ("u32", .uint32(70000)), ("i32", .int32(-70000)), ("f32", .float32(1.5)), ("b", .bool(true)),
            ("s", .string("héllo")), ("u64", .uint64(1 << 40)), ("i64", .int64(-(1 << 40))), ("f64", .float64(2.25)),
            ("arr", .array([.string("a"), .string("b")])), ("nested", .array([.array([.int32(1), .int32(2)])])),
        ]
        w.tensors = [
            .init(name: "a", dims: [32, 2], type: .q8_0, data: QuantReference.quantize(.q8_0, (0..<64).map { Float($0) / 64 })),
            .init(name: "b", dims: [3], type: .f32, data: QuantReference.quantize(.f32, [1, 2, 3])),
        ]
        return w
    }

    @Test("reads metadata of every value type, tensor infos and aligned data", arguments: [UInt32(2), 3])
    func roundTrip(version: UInt32) throws {
        var w = Self.sample()
        w.version = version
        let f = try GGUFFile(path: try Self.write(w))
        #expect(f.version == version)
        for (k, v) in w.metadata { #expect(f.metadata[k] == v, "\(k)") }
        #expect(f.tensorNames == ["a", "b"])
        let b = try f.tensor("b")
        #expect(b.dims == [3] && b.type == .f32 && b.fileOffset % 32 == 0)
        let values = f.data(b).assumingMemoryBound(to: Float.self)
        #expect([values[0], values[1], values[2]] == [1, 2, 3])
        #expect(throws: ModelError.missingTensor("zz")) { try f.tensor("zz") }
    }

    @Test("a file cut anywhere is a thrown error, never a crash")
    func truncated() throws {
        let bytes = Self.sample().bytes()
        // The last tensor holds 12 bytes followed by 20 bytes of alignment padding.
        for cut in stride(from: 0, to: bytes.count - 20, by: 7) {
            let path = try Self.write(GGUFWriter(), "cut")
            try Data(bytes[0..<cut]).write(to: URL(fileURLWithPath: path))
            #expect(throws: ModelError.self, "cut at \(cut)") { try GGUFFile(path: path) }
        }
    }

    @Test("bad magic, unsupported version, unknown tensor type name the problem")
    func corrupt() throws {
        var bytes = Self.sample().bytes()
        bytes[0] = UInt8(ascii: "X")
        let p1 = try Self.write(GGUFWriter(), "magic")
        try Data(bytes).write(to: URL(fileURLWithPath: p1))
        #expect(throws: ModelError.format("bad magic number (expected 'GGUF')")) { try GGUFFile(path: p1) }

        var w = Self.sample()
        w.version = 1
        let p2 = try Self.write(w)
        #expect(throws: ModelError.unsupportedVersion(1)) { try GGUFFile(path: p2) }

        w = Self.sample()
        w.tensors[1].typeID = 13
        let p3 = try Self.write(w)
        #expect(throws: ModelError.unsupportedTensorType(tensor: "b", type: "Q5_K")) { try GGUFFile(path: p3) }
        do {
            _ = try GGUFFile(path: p3)
        } catch {
            #expect(error.description.contains("'b'") && error.description.contains("Q5_K"))
        }
    }

    @Test("a model file without a required tensor fails loading and names it")
    func missingTensor() throws {
        let real = TestModel.shared.gguf
        var w = GGUFWriter()
        for (k, v) in real.metadata where !k.hasPrefix("tokenizer.") { w.metadata.append((k, v)) }
        for name in real.tensorNames where name != "blk.7.ffn_up.weight" {
            let t = real.tensors[name]!
            w.tensors.append(.init(name: name, dims: t.dims, type: t.type,
                                   data: Array(UnsafeRawBufferPointer(start: real.data(t), count: t.byteCount))))
        }
        let f = try GGUFFile(path: try Self.write(w, "missing"))
        #expect(throws: ModelError.missingTensor("blk.7.ffn_up.weight")) { try ModelRegistry.load(f) }
    }

    @Test("an unknown architecture is refused by name")
    func unknownArchitecture() throws {
        var w = Self.sample()
        w.metadata[0] = ("general.architecture", .string("mamba"))
        let f = try GGUFFile(path: try Self.write(w))
        #expect(throws: ModelError.unsupportedArchitecture("mamba")) { try ModelRegistry.load(f) }
    }

    @Test("a missing file is an I/O error naming it")
    func missingFile() {
        #expect(throws: ModelError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
    }
}
