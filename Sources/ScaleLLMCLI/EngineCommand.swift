import ArgumentParser
import EngineServer
import LLMEngine
import LLMModel
import Logging

/// `scalellm engine`: serve one model over the OpenAI API.
public struct EngineCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "engine", abstract: "Serve a GGUF model over the OpenAI API (one replica).")

    @OptionGroup public var modelOptions: ModelOptions
    @Option(help: "Address to listen on.") public var host: String = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") public var port: Int = 8000
    @Option(help: "Name the model is served as (repeatable; default: the file name).") public var servedModelName: [String] = []
    @Option(help: "Context length per sequence (capped by the model's).") public var contextLength: Int = 2048
    @Option(help: "Sequences in the running batch (continuous batching).") public var maxRunning: Int = 32
    @Option(help: "Requests allowed to wait before 429.") public var maxWaiting: Int = 256
    @Option(help: "Prompt tokens per step, shared by prefilling sequences.") public var prefillChunk: Int = 256
    @Option(help: "KV cache memory in MiB; requests wait when their cache does not fit.") public var kvCacheMemory: Int = 1024
    @Option(help: "Positions per KV cache block.") public var kvBlockSize: Int = 16
    @Flag(inversion: .prefixedEnableDisable, help: "Reuse the KV cache of identical prompt prefixes.")
    public var prefixCaching = true
    @Option(help: "Largest request body in bytes.") public var maxBodyBytes: Int = 4 << 20
    @Option(help: "Log level (trace, debug, info, notice, warning, error).") public var logLevel: String = "info"

    public init() {}

    public func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard contextLength >= 16 else { throw ValidationError("--context-length must be at least 16") }
        guard maxRunning >= 1, maxWaiting >= 0, prefillChunk >= 1 else {
            throw ValidationError("--max-running and --prefill-chunk must be at least 1, --max-waiting at least 0")
        }
        guard (1...1024).contains(kvBlockSize) else { throw ValidationError("--kv-block-size must be between 1 and 1024") }
        guard kvCacheMemory >= 1 else { throw ValidationError("--kv-cache-memory must be at least 1 (MiB)") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level '\(logLevel)' is not a log level") }
    }

    public func run() async throws {
        var logger = Logger(label: "scalellm.engine")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        modelOptions.applyKernelSettings()
        let path = try modelOptions.resolvePath()
        // Fail before binding the port when the file is not a readable GGUF (the full load,
        // weights and tokenizer, runs in the background while /ready says 503).
        do {
            let file = try GGUFFile(path: path)
            // A degree the model cannot be split into is named before serving.
            if modelOptions.tensorParallel > 1 { _ = try ModelRegistry.load(file, tensorParallel: modelOptions.tensorParallel) }
        } catch {
            throw ValidationError("cannot load model '\(path)': \(error)")
        }
        let config = EngineServerConfiguration(
            host: host, port: port, modelPath: path, servedModelNames: servedModelName,
            engine: EngineConfiguration(threads: modelOptions.threads, contextLength: contextLength, maxRunning: maxRunning,
                                        prefillChunk: prefillChunk, maxWaiting: maxWaiting,
                                        kvCacheBytes: kvCacheMemory << 20, kvBlockSize: kvBlockSize,
                                        prefixCaching: prefixCaching),
            maxBodyBytes: maxBodyBytes, tensorParallel: modelOptions.tensorParallel)
        try await naming(host: host, port: port) { try await EngineServer.run(config, logger: logger) }
    }
}
