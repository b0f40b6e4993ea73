/// Knobs of one engine replica.
public struct EngineConfiguration: Sendable {
    /// Compute threads (the engine's step thread included).
    public var threads: Int
    /// Longest sequence (prompt + completion) served; also the KV cache size per sequence.
    public var contextLength: Int
    /// Sequences in the running batch (each with its own KV cache); others wait in the queue.
    public var maxRunning: Int
    /// Prompt tokens processed per step, shared by the prefilling sequences (longer prompts are
    /// split into chunks so decode steps of running sequences are not held up).
    public var prefillChunk: Int
    /// Memory for KV caches. A request is admitted when its whole cache (prompt + max_tokens) fits
    /// beside the running ones; otherwise it waits (reserve-up-front: a running sequence never
    /// runs out of cache, so nothing is preempted).
    public var kvCacheBytes: Int
    /// Positions per KV block (the unit of allocation and of prefix sharing).
    public var kvBlockSize: Int
    /// Reuse KV blocks of identical prompt prefixes across requests.
    public var prefixCaching: Bool
    /// Requests allowed to wait; more are rejected so memory stays bounded.
    public var maxWaiting: Int

    public init(threads: Int = EngineConfiguration.defaultThreads, contextLength: Int = 2048, maxRunning: Int = 32,
                prefillChunk: Int = 256, maxWaiting: Int = 256, kvCacheBytes: Int = 1 << 30,
                kvBlockSize: Int = 16, prefixCaching: Bool = true) {
        self.kvCacheBytes = kvCacheBytes
        self.kvBlockSize = max(1, kvBlockSize)
        self.prefixCaching = prefixCaching
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
