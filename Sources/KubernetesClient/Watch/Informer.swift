import Logging
import Synchronization

/// A change seen by an `Informer`, with the previous state for updates.
public enum InformerEvent<T: KubeResource>: Sendable {
    case added(T)
    case updated(old: T, new: T)
    case deleted(T)

    /// The object after the change (the last state for deletions).
    public var object: T {
        switch self {
        case .added(let o), .deleted(let o): return o
        case .updated(_, let o): return o
        }
    }
}

/// Keeps a local copy of a set of objects (a namespace or all, a label selector) current: lists,
/// then watches from the list's resourceVersion, following bookmarks. A watch that the server closes is
/// resumed where it stopped; a dropped connection is retried with back-off; when the resourceVersion
/// has expired (410 Gone) it lists again and reports the difference, so no change is missed.
public final class Informer<T: KubeResource>: Sendable {
    /// How a single watch ended.
    public enum WatchEnd: Sendable, Equatable {
        /// The server closed the stream (timeout): resume from `resourceVersion`.
        case closed
        /// The resourceVersion is too old: list again.
        case expired
    }

    struct State {
        var objects: [String: T] = [:]
        var resourceVersion = ""
        var synced = false
        var relists = 0
    }

    let client: KubeClient
    public let namespace: String?
    public let labelSelector: String?
    let logger: Logger
    private let state = Mutex(State())

    /// - Parameter namespace: nil watches every namespace.
    public init(client: KubeClient, namespace: String?, labelSelector: String? = nil,
                logger: Logger = Logger(label: "scalellm.informer")) {
        self.client = client
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.logger = logger
    }

    public static func key(namespace: String?, name: String) -> String { "\(namespace ?? "")/\(name)" }

    static func key(_ object: T) -> String { key(namespace: object.metadata.namespace, name: object.metadata.name ?? "") }

    /// Every cached object.
    public var items: [T] { state.withLock { Array($0.objects.values) } }

    public func get(name: String, namespace: String?) -> T? {
        state.withLock { $0.objects[Self.key(namespace: namespace, name: name)] }
    }

    /// The resourceVersion the next watch starts from.
    public var resourceVersion: String { state.withLock { $0.resourceVersion } }

    /// Continues from a stored resourceVersion (e.g. one kept across a restart); if the server has
    /// compacted it away, the next watch reports `.expired` and `run` lists again.
    public func resume(from resourceVersion: String) {
        state.withLock { $0.resourceVersion = resourceVersion }
    }

    /// True once the first list has filled the cache.
    public var hasSynced: Bool { state.withLock { $0.synced } }

    /// How many times the informer has listed (the first list included).
    public var listCount: Int { state.withLock { $0.relists } }

    /// Lists every object and replaces the cache; returns the difference from the previous cache as
    /// events (objects that appeared, changed or vanished while nobody was watching).
    @discardableResult
    public func relist() async throws -> [InformerEvent<T>] {
        let (items, version) = try await client.list(T.self, namespace: namespace, labelSelector: labelSelector)
        return state.withLock { s in
            var events: [InformerEvent<T>] = []
            var fresh: [String: T] = [:]
            for item in items {
                let k = Self.key(item)
                fresh[k] = item
                if let old = s.objects[k] {
                    if old.metadata.resourceVersion != item.metadata.resourceVersion { events.append(.updated(old: old, new: item)) }
                } else {
                    events.append(.added(item))
                }
            }
            for (k, old) in s.objects where fresh[k] == nil { events.append(.deleted(old)) }
            s.objects = fresh
            s.resourceVersion = version
            s.synced = true
            s.relists += 1
            return events
        }
    }

    /// Watches from the cached resourceVersion until the server closes the stream or reports 410,
    /// applying each change to the cache before passing it to `handler`.
    public func watchOnce(timeoutSeconds: Int = 300, _ handler: (InformerEvent<T>) async -> Void) async throws -> WatchEnd {
        let stream: WatchStream<T>
        do {
            stream = try await client.watch(T.self, namespace: namespace, labelSelector: labelSelector,
                                            resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds)
        } catch let e as KubeAPIError where e.isGone {
            return .expired
        }
        for try await event in stream {
            let change: InformerEvent<T>? = state.withLock { s in
                switch event {
                case .added(let o), .modified(let o):
                    let k = Self.key(o)
                    let old = s.objects[k]
                    s.objects[k] = o
                    s.resourceVersion = o.metadata.resourceVersion ?? s.resourceVersion
                    return old.map { .updated(old: $0, new: o) } ?? .added(o)
                case .deleted(let o):
                    s.objects[Self.key(o)] = nil
                    s.resourceVersion = o.metadata.resourceVersion ?? s.resourceVersion
                    return .deleted(o)
                case .bookmark(let version):
                    if !version.isEmpty { s.resourceVersion = version }
                    return nil
                case .error:
                    return nil
                }
            }
            if case .error(let e) = event {
                if e.isGone { return .expired }
                throw e
            }
            if let change { await handler(change) }
        }
        return .closed
    }

    /// Lists, then watches for ever (until the task is cancelled), passing every change to `handler`.
    /// The first list's objects arrive as `.added`.
    public func run(watchTimeoutSeconds: Int = 300, _ handler: @Sendable (InformerEvent<T>) async -> Void) async {
        var needList = true
        var backoff = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                if needList {
                    for e in try await relist() { await handler(e) }
                    needList = false
                }
                switch try await watchOnce(timeoutSeconds: watchTimeoutSeconds, handler) {
                case .closed: break
                case .expired:
                    logger.info("watch of \(T.resource) expired (410): listing again")
                    needList = true
                }
                backoff = .milliseconds(200)
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("watch of \(T.resource) failed: \(error); retrying in \(backoff)")
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
    }
}
