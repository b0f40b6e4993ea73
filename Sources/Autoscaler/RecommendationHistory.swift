/// Recent replica recommendations, kept for the scale-down stabilization window.
struct RecommendationHistory: Sendable {
    private struct Entry: Sendable {
        var time: Double
        var replicas: Int
    }

    private var storage: [Entry] = []
    private var head = 0
    /// A hard cap on the number of entries, whatever the decision rate; the oldest go first.
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { storage.count - head }

    mutating func append(time: Double, replicas: Int) {
        storage.append(Entry(time: time, replicas: replicas))
        if count > capacity { head += count - capacity }
        compact()
    }

    /// Drops entries older than `cutoff` (entries arrive in decision order, so from the front).
    mutating func prune(before cutoff: Double) {
        while head < storage.count, storage[head].time < cutoff { head += 1 }
        compact()
    }

    /// The largest recommendation made at or after `cutoff`.
    func maximum(since cutoff: Double) -> Int? {
        var best: Int?
        for e in storage[head...] where e.time >= cutoff {
            best = max(best ?? e.replicas, e.replicas)
        }
        return best
    }

    private mutating func compact() {
        if head > 64, head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
