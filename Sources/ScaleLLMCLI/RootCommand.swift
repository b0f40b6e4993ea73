import ArgumentParser

/// `scalellm`: one executable for every part of the stack.
public struct RootCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "scalellm",
        abstract: "ScaleLLM-Swift: a resource-frugal LLM serving stack (engine, gateway, operator).",
        subcommands: [UpCommand.self, EngineCommand.self, GatewayCommand.self, OperatorCommand.self, GenerateCommand.self, BenchCommand.self, PerplexityCommand.self, QuantizeCommand.self, ModelCommand.self])

    public init() {}
}
