import Synchronization

/// The replicas behind the gateway; changed at run time by the admin API and config reloads.
/// Readers take a snapshot (an array of references) under a short lock.
public final class ReplicaPool: Sendable {
    private let replicas: Mutex<[Replica]>
    /// Where the backends come from: the config file and service discovery; each replaces its own.
    private let sources = Mutex<(configured: [BackendConfiguration], discovered: [BackendConfiguration])>(([], []))

    public init(_ backends: [BackendConfiguration] = []) throws {
        var list: [Replica] = []
        for b in backends {
            let r = try Replica(b)
            guard !list.contains(where: { $0.endpoint == r.endpoint }) else {
                throw ConfigurationError("backend \(r.url) is listed twice")
            }
            list.append(r)
        }
        replicas = Mutex(list)
        sources.withLock { $0.configured = backends }
    }

    /// Replaces the backends that came from the config file (a reload), keeping discovered ones.
    public func replaceConfigured(with backends: [BackendConfiguration]) throws -> (added: [String], removed: [String]) {
        let all = sources.withLock { s in
            s.configured = backends
            return Self.union(s.configured, s.discovered)
        }
        return try replace(with: all)
    }

    /// Replaces the backends found by service discovery, keeping configured ones.
    public func replaceDiscovered(with backends: [BackendConfiguration]) throws -> (added: [String], removed: [String]) {
        let all = sources.withLock { s in
            s.discovered = backends
            return Self.union(s.configured, s.discovered)
        }
        return try replace(with: all)
    }

    private static func union(_ a: [BackendConfiguration], _ b: [BackendConfiguration]) -> [BackendConfiguration] {
        var seen = Set<Endpoint>()
        return (a + b).filter { (try? $0.endpoint()).map { seen.insert($0).inserted } ?? true }
    }

    public var all: [Replica] { replicas.withLock { $0 } }

    /// Replicas that may take a new request.
    public var routable: [Replica] { replicas.withLock { $0 }.filter(\.isRoutable) }

    public func find(_ url: String) -> Replica? {
        guard let e = try? Endpoint(url: url) else { return nil }
        return replicas.withLock { $0.first { $0.endpoint == e } }
    }

    /// Adds a replica (down until its first check passes); an error when it is already there.
    @discardableResult
    public func add(_ backend: BackendConfiguration) throws -> Replica {
        let r = try Replica(backend)
        return try replicas.withLock { list in
            guard !list.contains(where: { $0.endpoint == r.endpoint }) else {
                throw ConfigurationError("backend \(r.url) is already in the pool")
            }
            list.append(r)
            return r
        }
    }

    /// Removes a replica; requests in flight to it finish. False when it was not there.
    @discardableResult
    public func remove(_ url: String) -> Bool {
        guard let e = try? Endpoint(url: url) else { return false }
        return replicas.withLock { list in
            guard let i = list.firstIndex(where: { $0.endpoint == e }) else { return false }
            list.remove(at: i)
            return true
        }
    }

    /// Makes the pool hold exactly `backends` (a config reload): new ones are added, missing ones
    /// removed, kept ones keep their state. Returns (added, removed) URLs.
    public func replace(with backends: [BackendConfiguration]) throws -> (added: [String], removed: [String]) {
        let wanted = try backends.map { try Replica($0) }
        return replicas.withLock { list in
            let keep = Set(wanted.map(\.endpoint))
            let removed = list.filter { !keep.contains($0.endpoint) }.map(\.url)
            list.removeAll { !keep.contains($0.endpoint) }
            var added: [String] = []
            for r in wanted where !list.contains(where: { $0.endpoint == r.endpoint }) {
                list.append(r)
                added.append(r.url)
            }
            return (added, removed)
        }
    }
}
