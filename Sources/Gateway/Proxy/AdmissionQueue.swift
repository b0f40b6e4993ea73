import Synchronization

/// Bounded FIFO of requests waiting for capacity at the high load level. A waiter is woken when a
/// request finishes (`signal`), and gives up at its timeout or when its client goes away.
public final class AdmissionQueue: Sendable {
    public enum Outcome: Sendable, Equatable { case admitted, full, timedOut, cancelled }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Outcome, Never>
    }
    private struct State {
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public var depth: Int { state.withLock { $0.waiters.count } }

    /// Waits until signalled (admitted), the timeout passes, or the task is cancelled. Returns
    /// `.full` at once when `capacity` requests already wait.
    public func wait(timeout: Duration) async -> Outcome {
        let id: UInt64? = state.withLock { s in
            guard s.waiters.count < capacity else { return nil }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { return .full }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { self?.finish(id, .timedOut) }
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Outcome, Never>) in
                let cancelled = state.withLock { s -> Bool in
                    if Task.isCancelled { return true }
                    s.waiters.append(Waiter(id: id, continuation: c))
                    return false
                }
                if cancelled { c.resume(returning: .cancelled) }
            }
        } onCancel: {
            finish(id, .cancelled)
        }
    }

    /// Wakes the longest waiter, if any (a request finished and freed capacity).
    public func signal() {
        let w: Waiter? = state.withLock { s in s.waiters.isEmpty ? nil : s.waiters.removeFirst() }
        w?.continuation.resume(returning: .admitted)
    }

    private func finish(_ id: UInt64, _ outcome: Outcome) {
        let w: Waiter? = state.withLock { s in
            guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return s.waiters.remove(at: i)
        }
        w?.continuation.resume(returning: outcome)
    }
}
