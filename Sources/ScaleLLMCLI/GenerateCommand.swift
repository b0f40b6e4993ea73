import ArgumentParser
import LLMEngine
import LLMModel

/// `scalellm generate`: one completion on the command line, with speed figures.
public struct GenerateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate text for one prompt and print prefill/decode tokens per second.")

    @OptionGroup public var modelOptions: ModelOptions
    @Option(help: "The prompt.") public var prompt: String
    @Option(help: "Tokens to generate at most.") public var maxTokens: Int = 64
    @Option(help: "Sampling temperature (0 = greedy).") public var temperature: Float = 0
    @Option(help: "Nucleus sampling mass.") public var topP: Float = 1
    @Option(help: "Top-k sampling (0 = off).") public var topK: Int = 0
    @Option(help: "Random seed.") public var seed: UInt64?
    @Flag(help: "Wrap the prompt as a user message in the model's chat template.") public var chat = false
    @Flag(help: "Keep generating past the end-of-sequence token (for measurements).") public var ignoreEos = false

    public init() {}

    public func validate() throws {
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        guard temperature >= 0 && temperature <= 2 else { throw ValidationError("--temperature must be between 0 and 2") }
        guard topP > 0 && topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard topK >= 0 else { throw ValidationError("--top-k must be 0 or more") }
    }

    public func run() async throws {
        let loaded = try modelOptions.load()
        let text = chat ? loaded.chatTemplate.render([ChatMessage(role: "user", content: prompt)]) : prompt
        let tokens = loaded.tokenizer.encode(text)
        let sampling = SamplingParameters(temperature: temperature, topP: topP, topK: topK, seed: seed)
        let config = EngineConfiguration(threads: modelOptions.threads, contextLength: loaded.model.config.contextLength,
                                         maxRunning: 1, prefillChunk: 512)
        let stats = try await OneShot.generate(model: loaded, promptTokens: tokens, maxTokens: maxTokens,
                                               sampling: sampling, ignoreEOS: ignoreEos, configuration: config) { piece in
            printNow(piece)
        }
        print("")
        printError(String(format: "prompt: %d tokens, %.1f tok/s | generated: %d tokens, %.1f tok/s | finish: %@",
                          stats.promptTokens, stats.prefillTokensPerSecond, stats.completionTokens,
                          stats.decodeTokensPerSecond, stats.finishReason.rawValue))
    }
}

import Foundation
