import ArgumentParser
import Foundation
import LLMModel
import LLMTensor

/// `scalellm quantize IN OUT --type T`: rewrites a GGUF model's weights as Q8_0, Q4_0, F16, BF16 or F32.
public struct QuantizeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write a GGUF model with its weights in another format (q8_0, q4_0, f16, bf16, f32).",
        discussion: "2-D weights are converted; norm weights stay F32. Measure the cost with `scalellm perplexity`.")

    @Argument(help: "Input GGUF file.") public var input: String
    @Argument(help: "Output GGUF file.") public var output: String
    @Option(help: "Weight format: q8_0, q4_0, f16, bf16 or f32.") public var type: String

    public init() {}

    static func parse(_ name: String) -> TensorType? {
        Quantizer.targets.first { $0.description.lowercased() == name.lowercased() }
    }

    public func validate() throws {
        guard Self.parse(type) != nil else {
            throw ValidationError("--type '\(type)' is not one of \(Quantizer.targets.map { $0.description.lowercased() }.joined(separator: ", "))")
        }
        guard FileManager.default.isReadableFile(atPath: input) else { throw ValidationError("cannot read '\(input)'") }
        guard URL(fileURLWithPath: input).standardized.path != URL(fileURLWithPath: output).standardized.path else {
            throw ValidationError("the output must be another file than the input")
        }
    }

    public func run() throws {
        let target = Self.parse(type)!
        do {
            let file = try GGUFFile(path: input)
            let start = ContinuousClock.now
            try Quantizer.write(file, to: target, path: output)
            let size = ((try? FileManager.default.attributesOfItem(atPath: output))?[.size] as? Int) ?? 0
            print(String(format: "wrote %@ (%@, %.1f MiB) in %.1f s", output, target.description,
                         Double(size) / 1_048_576, (ContinuousClock.now - start) / .seconds(1)))
        } catch {
            throw ValidationError("cannot quantize '\(input)': \(error)")
        }
    }
}
