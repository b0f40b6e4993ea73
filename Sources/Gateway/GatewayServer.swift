import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import OpenAIAPI
import Prometheus
import ServerSupport
import ServiceLifecycle

/// The gateway process: OpenAI routes proxied to the replicas, /v1/models aggregated, /health,
/// /ready, /metrics, /status and the admin API. Serves until SIGTERM/SIGINT, then stops accepting,
/// lets in-flight streams finish and exits. SIGHUP re-reads the config file's backend list.
public enum GatewayServer {
    public static func run(_ configuration: GatewayConfiguration, configPath: String? = nil,
                           logger: Logger = Logger(label: "scalellm.gateway"),
                           extraServices: @Sendable (GatewayCore) -> [any Service] = { _ in [] },
                           onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let keys = try APIKeys.load(configuration)
        let core = try GatewayCore(configuration: configuration, keys: keys, logger: logger)
        let client = makeClient(configuration)
        let registry = MetricsBootstrap.registry
        let router = makeRouter(core: core, configPath: configPath, registry: registry)
        let app = Application(
            router: router,
            server: .gateway(core: core, idleTimeout: .milliseconds(Int64(configuration.limits.idleTimeoutMs))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "scalellm-gateway",
                                 availableConnectionsDelegate: MaximumAvailableConnections(configuration.limits.maxConnections)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info("gateway listening on http://\(configuration.host):\(port) with \(core.pool.all.count) replicas; keys: \(keys.isOpen ? "open" : "required")")
                onListening(port)
            },
            logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: HealthChecker(core: core, client: client)),
            .init(service: app),
        ]
        if let configPath { services.append(.init(service: ReloadOnHangup(core: core, path: configPath))) }
        if let k = configuration.discovery?.kubernetes {
            services.append(.init(service: KubernetesDiscovery(core: core, configuration: k)))
        }
        // Stopped first on shutdown (services stop in reverse order).
        services += extraServices(core).map { .init(service: $0) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    static func makeClient(_ configuration: GatewayConfiguration) -> HTTPClient {
        var c = HTTPClient.Configuration()
        c.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
        c.connectionPool.retryConnectionEstablishment = false
        c.timeout = .init(connect: .seconds(2))
        c.redirectConfiguration = .disallow
        c.decompression = .disabled
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: c)
    }

    public static func makeRouter(core: GatewayCore, configPath: String?,
                                  registry: PrometheusCollectorRegistry) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let routes = ["/v1/chat/completions": "POST", "/v1/completions": "POST", "/v1/models": "GET", "/health": "GET",
                      "/ready": "GET", "/metrics": "GET", "/status": "GET", "/admin/replicas": "GET, POST or DELETE",
                      "/admin/replicas/drain": "POST", "/admin/reload": "POST"]
        router.add(middleware: OpenAIErrorMiddleware(routes: routes))
        // POST /v1/chat/completions and /v1/completions never reach the router: ProxyHandler answers
        // them on the connection's event loop (HTTPServerBuilder.gateway).
        router.get("/v1/models") { request, _ -> Response in
            if !core.keys.isOpen && core.keys.authenticate(request.headers[.authorization]) == nil {
                throw OpenAIError(status: 401, message: "Incorrect or missing API key", type: "invalid_request_error", code: "invalid_api_key")
            }
            return JSONBody.response(try modelList(core))
        }
        router.get("/health") { _, _ in jsonStatus("ok") }
        router.get("/ready") { _, _ -> Response in
            guard !core.pool.routable.isEmpty else { throw OpenAIError.notReady("No replica is ready") }
            return jsonStatus("ready")
        }
        router.get("/metrics") { _, _ -> Response in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("/status") { _, _ in JSONBody.response(GatewayStatus(core)) }
        AdminRoutes(core: core, configPath: configPath).register(on: router)
        return router
    }

    static func jsonStatus(_ s: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"\(s)\"}")))
    }

    /// The models of the ready replicas, de-duplicated in first-seen order; 503 when none is ready.
    static func modelList(_ core: GatewayCore) throws -> ModelList {
        let ready = core.pool.routable
        guard !ready.isEmpty else { throw OpenAIError.notReady("No replica is ready") }
        var seen = Set<String>()
        var out: [ModelList.Model] = []
        let created = Int(Date().timeIntervalSince1970)
        for r in ready {
            for var m in r.health.models where seen.insert(m.id).inserted {
                m.created = created
                out.append(m)
            }
        }
        return ModelList(data: out)
    }
}
