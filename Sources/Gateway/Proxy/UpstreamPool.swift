import NIOCore
import NIOPosix
import Synchronization

/// Idle keep-alive connections to the replicas, one pool per event loop: a client connection's
/// requests go out on connections of its own loop, so proxying never changes threads and the pool
/// needs no lock.
final class UpstreamPool {
    let eventLoop: any EventLoop
    let allocator = ByteBufferAllocator()
    /// The upstream timeouts of this loop's exchanges.
    let deadlines: DeadlineList<ProxyExchange>
    /// Per-request metric handles for this loop's exchanges.
    let metrics = LoopMetrics()
    private var idle: [Endpoint: [UpstreamConnection]] = [:]
    /// Idle connections kept per replica on this loop.
    let maxIdlePerReplica = 512
    /// A connection idle longer than this is closed rather than reused (replicas time idle
    /// connections out too).
    let idleTimeout = TimeAmount.seconds(50)
    let connectTimeout = TimeAmount.seconds(2)

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        deadlines = DeadlineList(eventLoop: eventLoop)
    }

    /// An idle connection to `endpoint` (unless `fresh`), or a new one. `reused` is true for a pooled one.
    func connection(to endpoint: Endpoint, fresh: Bool = false, _ done: @escaping (Result<UpstreamConnection, any Error>, _ reused: Bool) -> Void) {
        let now = NIODeadline.now()
        while !fresh, let c = idle[endpoint]?.popLast() {
            c.idleIn = nil
            if idle[endpoint]?.isEmpty == true { idle[endpoint] = nil }
            if c.isOpen && now - c.idleSince < idleTimeout {
                done(.success(c), true)
                return
            }
            c.close()
        }
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnection(endpoint: endpoint))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    do {
                        done(.success(try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)), false)
                    } catch {
                        channel.close(promise: nil)
                        done(.failure(error), false)
                    }
                case .failure(let error):
                    done(.failure(error), false)
                }
            }
    }

    /// Puts a connection whose response ended back for the next request.
    func release(_ connection: UpstreamConnection) {
        guard connection.isOpen, idle[connection.endpoint, default: []].count < maxIdlePerReplica else {
            connection.close()
            return
        }
        connection.idleSince = .now()
        connection.idleIn = self
        idle[connection.endpoint, default: []].append(connection)
    }

    /// Drops an idle connection that closed (the replica timed it out, or went away).
    func discard(_ connection: UpstreamConnection) {
        connection.idleIn = nil
        guard var list = idle[connection.endpoint], let i = list.firstIndex(where: { $0 === connection }) else { return }
        list.remove(at: i)
        idle[connection.endpoint] = list.isEmpty ? nil : list
    }
}

/// The event loops' upstream pools, made on first use by each loop.
final class UpstreamPools: Sendable {
    private let pools = Mutex<[ObjectIdentifier: NIOLoopBound<UpstreamPool>]>([:])

    init() {}

    /// The pool of `eventLoop`; call on that loop.
    func pool(for eventLoop: any EventLoop) -> UpstreamPool {
        let key = ObjectIdentifier(eventLoop)
        let bound = pools.withLock { p -> NIOLoopBound<UpstreamPool> in
            if let b = p[key] { return b }
            let b = NIOLoopBound(UpstreamPool(eventLoop: eventLoop), eventLoop: eventLoop)
            p[key] = b
            return b
        }
        return bound.value
    }
}
