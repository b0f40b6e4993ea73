import Synchronization

/// Picks a replica for a request under a policy. Holds the round-robin cursor and the prefix
/// table; everything else comes from the replicas (in-flight counts, engine queues).
public final class RequestRouter: Sendable {
    public let configuration: RoutingConfiguration
    private let cursor = Atomic<Int>(0)
    private let prefixes: Mutex<PrefixTable>

    public init(configuration: RoutingConfiguration, prefixCapacity: Int = 200_000) {
        self.configuration = configuration
        prefixes = Mutex(PrefixTable(capacity: prefixCapacity))
    }

    /// What a request brings to routing.
    public struct Key: Sendable {
        public var prefixHashes: [UInt64] = []
        public var session: String?
        public init(prefixHashes: [UInt64] = [], session: String? = nil) {
            self.prefixHashes = prefixHashes
            self.session = session
        }
    }

    /// A routing decision: the replica, the policy that chose it and why (a metric label).
    public struct Decision: Sendable {
        public let replica: Replica
        public let policy: RoutingPolicy
        public let reason: String
    }

    /// Picks among `candidates` (non-empty). Session affinity applies whenever the request has a
    /// session header and the sticky replica is not past the imbalance guard.
    public func pick(_ policy: RoutingPolicy, among candidates: [Replica], key: Key) -> Decision {
        precondition(!candidates.isEmpty)
        if candidates.count == 1 { return Decision(replica: candidates[0], policy: policy, reason: "only_candidate") }
        if let session = key.session, !session.isEmpty {
            let r = rendezvous(session, candidates)
            if r.inflight <= minInflight(candidates) + configuration.imbalanceGuard {
                return Decision(replica: r, policy: .sessionAffinity, reason: "session")
            }
            return Decision(replica: leastOutstanding(candidates), policy: .sessionAffinity, reason: "session_imbalance")
        }
        switch policy {
        case .roundRobin:
            let i = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
            return Decision(replica: candidates[abs(i % candidates.count)], policy: policy, reason: "rotation")
        case .random:
            var g = FastRandom()
            return Decision(replica: candidates.randomElement(using: &g)!, policy: policy, reason: "random")
        case .leastOutstanding:
            return Decision(replica: leastOutstanding(candidates), policy: policy, reason: "least_outstanding")
        case .powerOfTwo:
            var g = FastRandom()
            let a = Int.random(in: 0..<candidates.count, using: &g)
            var b = Int.random(in: 0..<(candidates.count - 1), using: &g)
            if b >= a { b += 1 }
            let ra = candidates[a], rb = candidates[b]
            let la = ra.inflight + ra.engineWaiting, lb = rb.inflight + rb.engineWaiting
            return Decision(replica: la <= lb ? ra : rb, policy: policy, reason: "two_choices")
        case .prefixAffinity:
            return prefixAffinity(candidates, key.prefixHashes)
        case .sessionAffinity:
            return Decision(replica: leastOutstanding(candidates), policy: policy, reason: "no_session")
        }
    }

    private func prefixAffinity(_ candidates: [Replica], _ hashes: [UInt64]) -> Decision {
        guard !hashes.isEmpty else {
            return Decision(replica: leastOutstanding(candidates), policy: .prefixAffinity, reason: "no_prompt")
        }
        return prefixes.withLock { table in
            let least = leastOutstanding(candidates)
            var decision = Decision(replica: least, policy: .prefixAffinity, reason: "miss")
            if let match = table.longestMatch(hashes), let owner = candidates.first(where: { $0.url == match.url }) {
                if owner.inflight <= least.inflight + configuration.imbalanceGuard {
                    decision = Decision(replica: owner, policy: .prefixAffinity, reason: "hit")
                } else {
                    decision = Decision(replica: least, policy: .prefixAffinity, reason: "imbalance")
                }
            }
            table.record(hashes, url: decision.replica.url)
            return decision
        }
    }

    /// Forgets prefix ownership of a removed replica.
    public func forget(_ url: String) {
        prefixes.withLock { $0.forget(url) }
    }

    private func minInflight(_ candidates: [Replica]) -> Int {
        candidates.reduce(Int.max) { min($0, $1.inflight) }
    }

    /// Fewest in flight; ties go round the candidates so equal replicas share the load.
    private func leastOutstanding(_ candidates: [Replica]) -> Replica {
        let start = abs(cursor.wrappingAdd(1, ordering: .relaxed).oldValue % candidates.count)
        var best = candidates[start]
        var bestLoad = best.inflight
        for j in 1..<candidates.count {
            let r = candidates[(start + j) % candidates.count]
            let l = r.inflight
            if l < bestLoad { best = r; bestLoad = l }
        }
        return best
    }

    /// Highest-random-weight hashing: a session keeps its replica while the set of replicas changes
    /// only as much as needed.
    private func rendezvous(_ session: String, _ candidates: [Replica]) -> Replica {
        var best = candidates[0]
        var bestScore: UInt64 = 0
        for r in candidates {
            var h = FNV1a.hash(r.url.utf8, seed: FNV1a.hash(session.utf8))
            h ^= h >> 33; h &*= 0xff51_afd7_ed55_8ccd; h ^= h >> 33
            if h >= bestScore { best = r; bestScore = h }
        }
        return best
    }
}
