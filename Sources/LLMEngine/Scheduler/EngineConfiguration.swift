/// Knobs of one engine replica.
public struct EngineConfiguration: Sendable {
    /// Compute threads (the engine's step thread included).
    public var threads: Int
    /// Longest sequence (prompt + completion) served; also the KV cache size per sequence.
    public var contextLength: Int
    /// Sequences generating at once (each with its own KV cache); others wait in the queue.
    public var maxRunning: Int
    /// Prompt tokens processed in one forward pass (longer prompts are split into chunks).
    public var prefillChunk: Int
    /// Requests allowed to wait; more are rejected so memory stays bounded.
    public var maxWaiting: Int

    public init(threads: Int = EngineConfiguration.defaultThreads, contextLength: Int = 2048, maxRunning: Int = 4,
                prefillChunk: Int = 256, maxWaiting: Int = 256) {
        self.threads = threads
        self.contextLength = contextLength
        self.maxRunning = maxRunning
        self.prefillChunk = prefillChunk
        self.maxWaiting = maxWaiting
    }

    /// All cores of the machine.
    public static var defaultThreads: Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 4
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
