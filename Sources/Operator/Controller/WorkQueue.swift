import Synchronization

/// Keys waiting to be reconciled. A key queued twice before it is taken is reconciled once; keys
/// are handed out in arrival order.
final class WorkQueue: Sendable {
    private let queued = Mutex<Set<String>>([])
    private let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    init() {
        (stream, continuation) = AsyncStream<String>.makeStream()
    }

    func add(_ key: String) {
        let fresh = queued.withLock { $0.insert(key).inserted }
        if fresh { continuation.yield(key) }
    }

    /// Calls `body` for every key until the task is cancelled. A key added again while `body` runs
    /// for it is queued again.
    func process(_ body: (String) async -> Void) async {
        for await key in stream {
            if Task.isCancelled { return }
            _ = queued.withLock { $0.remove(key) }
            await body(key)
        }
    }
}
