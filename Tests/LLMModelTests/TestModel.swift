import Foundation
import LLMModel

/// The default model for tests, obtained exactly as README.md's set-up does (ModelStore.pull),
/// loaded once per test process.
enum TestModel {
    static let shared: LoadedModel = {
        do {
            let path = try ModelStore().pull(log: { _ in })
            return try LoadedModel(path: path)
        } catch {
            fatalError("cannot obtain the default model: \(error)")
        }
    }()

    /// Repository root (for fixtures), from this file's path.
    static let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func fixture(_ path: String) -> URL { repoRoot.appendingPathComponent("Tests/Fixtures/" + path) }
}

/// One case of Tests/Fixtures/smollm2-135m/cases.json (copied from the project's reference data).
struct ReferenceCase: Decodable, Sendable, CustomStringConvertible {
    let prompt: String
    let ids: [Int]
    let reference_logits_file: String
    let reference_greedy_ids: [Int]
    let reference_greedy_text: String
    var description: String { String(prompt.prefix(40)) }

    static let all: [ReferenceCase] = {
        struct File: Decodable { let cases: [ReferenceCase] }
        let data = try! Data(contentsOf: TestModel.fixture("smollm2-135m/cases.json"))
        return try! JSONDecoder().decode(File.self, from: data).cases
    }()

    var referenceLogits: [Float] {
        let data = try! Data(contentsOf: TestModel.fixture("smollm2-135m/" + reference_logits_file))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
