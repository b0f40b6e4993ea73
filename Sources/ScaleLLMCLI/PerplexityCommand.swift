import ArgumentParser
import Foundation
import LLMEngine

/// `scalellm perplexity`: a model's perplexity on a text file (llama.cpp's method, comparable with
/// `llama-perplexity -c N`).
public struct PerplexityCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Measure a model's perplexity on a text file (chunks of --context tokens, second halves scored).")

    @OptionGroup public var modelOptions: ModelOptions
    @Option(help: "Text file to score.") public var file: String
    @Option(help: "Tokens per chunk.") public var context: Int = 512
    @Option(help: "Score at most this many chunks (0: all).") public var chunks: Int = 0

    public init() {}

    public func validate() throws {
        guard (16...8192).contains(context), context % 2 == 0 else {
            throw ValidationError("--context must be an even number between 16 and 8192")
        }
        guard chunks >= 0 else { throw ValidationError("--chunks must be 0 or more") }
        guard FileManager.default.isReadableFile(atPath: file) else { throw ValidationError("cannot read --file '\(file)'") }
    }

    public func run() throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("--file '\(file)' is not UTF-8 text")
        }
        let loaded = try modelOptions.load()
        guard context <= loaded.model.config.contextLength else {
            throw ValidationError("--context \(context) exceeds the model's context length \(loaded.model.config.contextLength)")
        }
        do {
            let r = try Perplexity.measure(model: loaded, text: text, context: context, maxChunks: chunks,
                                           threads: modelOptions.threads) { i, running in
                printError(String(format: "chunk %d: running perplexity %.4f", i, running))
            }
            print(String(format: "perplexity: %.4f (%d chunks of %d tokens, %d tokens scored, %.1f s)",
                         r.perplexity, r.chunks, context, r.scoredTokens, r.seconds))
        } catch let e as Perplexity.Failure {
            throw ValidationError(e.description)
        }
    }
}
