import AsyncHTTPClient
import Foundation
import Gateway
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import StubBackend
import Synchronization

/// Starts stub replicas and a gateway on loopback ports for one test, and stops them after.
final class Harness: Sendable {
    let client: HTTPClient = {
        var c = HTTPClient.Configuration()
        c.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: c)
    }()
    private let tasks = Mutex<[Task<Void, any Error>]>([])

    /// A stub replica on a free port; returns it and its URL.
    func stub(_ behaviour: StubBackend.Behaviour = .init()) async throws -> (StubBackend, String) {
        let stub = StubBackend(behaviour)
        return (stub, try await backend(stub.makeRouter()))
    }

    /// Any router as a replica on a free port; returns its URL.
    func backend(_ router: Router<BasicRequestContext>) async throws -> String {
        let port = PortBox()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { ch in port.set(ch.localAddress?.port) },
                              logger: Self.quiet("stub"))
        tasks.withLock { $0.append(Task { try await app.runService(gracefulShutdownSignals: []) }) }
        return "http://127.0.0.1:\(try await Self.wait(port))"
    }

    /// A gateway over `config` on a free port; returns its core-less base URL.
    func gateway(_ config: GatewayConfiguration) async throws -> String {
        var c = config
        c.port = 0
        c.host = "127.0.0.1"
        let port = PortBox()
        let configuration = c
        tasks.withLock { $0.append(Task {
            try await GatewayServer.run(configuration, logger: Self.quiet("gateway"), onListening: { p in port.set(p) })
        }) }
        let url = "http://127.0.0.1:\(try await Self.wait(port))"
        // Wait until the first health round has marked a replica up (when any are configured).
        if !c.backends.isEmpty {
            for _ in 0..<200 {
                if let r = try? await get(url + "/ready"), r.status == 200 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        return url
    }

    /// Stops the servers one at a time, newest first: the gateway before the stubs it health-checks,
    /// so no stub is shutting down while the gateway still connects to it (a connection accepted by
    /// a server in mid-shutdown can trip NIO's "NIOAsyncWriter deinited without finish" check).
    func stop() async {
        for t in tasks.withLock({ $0 }).reversed() {
            t.cancel()
            _ = try? await t.value
        }
        try? await client.shutdown()
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    func get(_ url: String, headers: [String: String] = [:]) async throws -> Reply {
        try await send(url, method: .GET, body: nil, headers: headers)
    }

    func post(_ url: String, _ body: String, headers: [String: String] = [:]) async throws -> Reply {
        try await send(url, method: .POST, body: body, headers: headers)
    }

    func send(_ url: String, method: HTTPMethod, body: String?, headers: [String: String]) async throws -> Reply {
        var r = HTTPClientRequest(url: url)
        r.method = method
        if let body {
            r.body = .bytes(ByteBuffer(string: body))
            r.headers.add(name: "content-type", value: "application/json")
        }
        for (k, v) in headers { r.headers.add(name: k, value: v) }
        let resp = try await client.execute(r, timeout: .seconds(20))
        let bytes = try await resp.body.collect(upTo: 16 << 20)
        var h: [String: String] = [:]
        for (k, v) in resp.headers { h[k.lowercased()] = v }
        return Reply(status: Int(resp.status.code), headers: h, body: String(buffer: bytes))
    }

    static func quiet(_ label: String) -> Logger {
        var l = Logger(label: label)
        l.logLevel = .critical
        return l
    }

    static func wait(_ port: PortBox) async throws -> Int {
        for _ in 0..<500 {
            if let p = port.get() { return p }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw HarnessError.timeout
    }

    enum HarnessError: Error { case timeout }

    /// A gateway configuration over `urls` with fast health checks.
    static func config(_ urls: [String]) -> GatewayConfiguration {
        var c = GatewayConfiguration()
        c.backends = urls.map { BackendConfiguration(url: $0) }
        c.healthCheck.intervalMs = 50
        c.healthCheck.breakerOpenMs = 60_000
        c.retries.backoffMs = 1
        return c
    }
}

/// Runs `body` with a harness that is always stopped.
func withHarness(_ body: (Harness) async throws -> Void) async throws {
    let h = Harness()
    do {
        try await body(h)
    } catch {
        await h.stop()
        throw error
    }
    await h.stop()
}

let chatBody = #"{"model":"stub-model","messages":[{"role":"user","content":"Hello"}],"max_tokens":8}"#
let streamBody = #"{"model":"stub-model","messages":[{"role":"user","content":"Hello"}],"max_tokens":8,"stream":true}"#

/// The port a server bound, set from its start-up callback.
final class PortBox: Sendable {
    private let value = Mutex<Int?>(nil)
    func set(_ p: Int?) { value.withLock { $0 = p } }
    func get() -> Int? { value.withLock { $0 } }
}
