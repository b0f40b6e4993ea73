import ArgumentParser
import LLMEngine
import LLMModel
import LLMTensor

/// Options shared by every command that loads a model.
public struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "GGUF model file, or a name from `scalellm model list` (pulled on first use; default: smollm2-135m).")
    public var model: String?

    @Option(name: .long, help: "Compute threads (default: all cores).")
    public var threads: Int = EngineConfiguration.defaultThreads

    @Option(help: "Activations of decode steps: q8 (8-bit, integer dot products: the integer panel GEMM for 4+ sequences over Q4_0/Q4_1 weights, row kernels otherwise; fastest) or f32 (exact float math). Prompt chunks are always exact.")
    public var decodeActivations: String = "q8"

    @Option(help: "Float GEMM for batches of 17+ tokens in float math (prompt chunks, and decode batches with f32 activations or weights without the integer panel; 8+ with f32): panel (the project's register-blocked kernel) or openblas (dequantize + sgemm).")
    public var batchGemm: String = Kernels.BatchGemm.panel.rawValue

    @Option(help: "Quantize F32/F16/BF16 weights at load time: q8_0 or q4_0.")
    public var quantize: String?

    @Option(help: "Split the model among N pinned tensor-parallel workers, one thread each (replaces --threads; Llama-architecture models).")
    public var tensorParallel: Int = 1

    public init() {}

    public func validate() throws {
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
        guard ["q8", "f32"].contains(decodeActivations) else {
            throw ValidationError("--decode-activations must be q8 or f32 (got '\(decodeActivations)')")
        }
        guard Kernels.BatchGemm(rawValue: batchGemm) != nil else {
            throw ValidationError("--batch-gemm must be panel or openblas (got '\(batchGemm)')")
        }
        guard tensorParallel >= 1 && tensorParallel <= 64 else {
            throw ValidationError("--tensor-parallel must be between 1 and 64 (got \(tensorParallel))")
        }
        if let quantize, !["q8_0", "q4_0"].contains(quantize.lowercased()) {
            throw ValidationError("--quantize must be q8_0 or q4_0 (got '\(quantize)')")
        }
    }

    /// The load-time quantization type, if any.
    var quantizeType: TensorType? {
        switch quantize?.lowercased() {
        case "q8_0": .q8_0
        case "q4_0": .q4_0
        default: nil
        }
    }

    /// Applies process-wide kernel settings from these options.
    public func applyKernelSettings() {
        Kernels.int8MaxTokens = decodeActivations == "q8" ? 16 : 0
        Kernels.batchGemm = Kernels.BatchGemm(rawValue: batchGemm) ?? .panel
    }

    /// The model path: --model (a file, or a catalog name pulled into the store when missing), or
    /// the default model.
    public func resolvePath() throws -> String {
        try ModelStore().resolve(model, log: { line in printError(line) })
    }

    /// Loads the model, turning load errors into a message that names the problem.
    public func load() throws -> LoadedModel {
        applyKernelSettings()
        let path = try resolvePath()
        do {
            return try LoadedModel(path: path, quantize: quantizeType, tensorParallel: tensorParallel)
        } catch {
            throw ValidationError("cannot load model '\(path)': \(error)")
        }
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Writes text to standard output at once (no buffering), for streamed tokens.
func printNow(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

import Foundation
