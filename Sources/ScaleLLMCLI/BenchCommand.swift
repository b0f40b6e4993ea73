import ArgumentParser
import Foundation
import LLMEngine
import LLMTensor

/// `scalellm bench`: single-stream prefill and decode speed of a model.
public struct BenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure single-stream prefill (tokens/s) and decode (tokens/s).")

    @OptionGroup public var modelOptions: ModelOptions
    @Option(help: "Prompt length for the prefill figure.") public var promptTokens: Int = 512
    @Option(help: "Tokens decoded for the decode figure.") public var decodeTokens: Int = 128
    @Option(help: "Rounds; the best is reported.") public var repetitions: Int = 3

    public init() {}

    public func validate() throws {
        guard promptTokens >= 1, decodeTokens >= 1, repetitions >= 1 else {
            throw ValidationError("--prompt-tokens, --decode-tokens and --repetitions must be at least 1")
        }
    }

    public func run() async throws {
        let loaded = try modelOptions.load()
        guard promptTokens + decodeTokens < loaded.model.config.contextLength else {
            throw ValidationError("--prompt-tokens + --decode-tokens must be below the context length \(loaded.model.config.contextLength)")
        }
        let r = Benchmark.run(model: loaded, promptTokens: promptTokens, decodeTokens: decodeTokens,
                              threads: modelOptions.threads, repetitions: repetitions)
        print("model: \(loaded.name)  threads: \(r.threads)  isa: \(InstructionSet.active)")
        print(String(format: "prefill: %d tokens in %.3f s = %.1f tokens/s", r.promptTokens, r.prefillSeconds, r.prefillTokensPerSecond))
        print(String(format: "decode:  %d tokens in %.3f s = %.1f tokens/s (after the %d-token prompt)", r.decodeTokens,
                     r.decodeSeconds, r.decodeTokensPerSecond, r.promptTokens))
        print(String(format: "decode:  %d tokens in %.3f s = %.1f tokens/s (from an empty context, like llama-bench tg%d)",
                     r.decodeTokens, r.emptyContextDecodeSeconds, r.emptyContextDecodeTokensPerSecond, r.decodeTokens))
    }
}
