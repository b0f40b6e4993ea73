import Foundation
import Hummingbird
import LLMEngine
import LLMModel
import Logging
import Metrics
import NIOCore
import OpenAIAPI
import Prometheus
import ServerSupport
import ServiceLifecycle
import Synchronization

/// One engine replica's HTTP server: the OpenAI endpoints, /health, /ready and /metrics.
/// `run` serves until SIGTERM/SIGINT (or task cancellation), then stops accepting connections,
/// lets in-flight requests finish, and stops the engine.
public enum EngineServer {
    /// Serves `configuration`; `onListening` gets the bound port once the socket is open (the model
    /// loads in the background meanwhile; /ready turns 200 when it is loaded).
    public static func run(_ configuration: EngineServerConfiguration, logger: Logger = Logger(label: "scalellm.engine"),
                           onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let registry = MetricsBootstrap.registry
        let state = ServingState()
        let router = makeRouter(state: state, registry: registry, maxBodyBytes: configuration.maxBodyBytes)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "scalellm-engine"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info("engine listening on http://\(configuration.host):\(port)")
                onListening(port)
            },
            logger: logger)
        let modelService = ModelService(configuration: configuration, state: state, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: modelService), .init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }

    static func makeRouter(state: ServingState, registry: PrometheusCollectorRegistry, maxBodyBytes: Int) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let routes = ["/v1/chat/completions": "POST", "/v1/completions": "POST", "/v1/models": "GET",
                      "/health": "GET", "/ready": "GET", "/metrics": "GET"]
        router.add(middleware: OpenAIErrorMiddleware(routes: routes))
        let completions = CompletionRoutes(state: state, maxBodyBytes: maxBodyBytes)
        router.post("/v1/chat/completions") { try await completions.chat($0, context: $1) }
        router.post("/v1/completions") { try await completions.completion($0, context: $1) }
        router.get("/v1/models") { _, _ -> Response in
            let (engine, _, names) = try state.ready()
            let created = Int(Date().timeIntervalSince1970)
            return JSONBody.response(ModelList(data: names.map {
                .init(id: $0, created: created, maxModelLen: engine.configuration.contextLength)
            }))
        }
        router.get("/health") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
        }
        router.get("/ready") { _, _ -> Response in
            _ = try state.ready()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ready\"}")))
        }
        router.get("/metrics") { _, _ -> Response in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        return router
    }
}

/// Loads the model off the async executors, publishes the engine, and on graceful shutdown (after
/// the HTTP server has drained) lets the engine finish its queue.
struct ModelService: Service {
    let configuration: EngineServerConfiguration
    let state: ServingState
    let logger: Logger

    func run() async throws {
        let config = configuration
        let loaded: LoadedModel
        do {
            loaded = try await withCheckedThrowingContinuation { c in
                Thread.detachNewThread {
                    c.resume(with: Result { try LoadedModel(path: config.modelPath, tensorParallel: config.tensorParallel) })
                }
            }
        } catch {
            logger.error("cannot load model '\(config.modelPath)': \(error)")
            state.set(.failed("\(error)"))
            throw error
        }
        if let tp = loaded.model as? TensorParallelLlama {
            let mib = tp.workerWeightBytes.map { String(format: "%.1f", Double($0) / 1_048_576) }.joined(separator: ", ")
            logger.info("tensor parallel: \(tp.plan.workers.count) pinned workers, layer weights per worker \(mib) MiB, shared embeddings/output \(String(format: "%.1f", Double(tp.sharedWeightBytes) / 1_048_576)) MiB, heads \(tp.plan.workers.map { "\($0.heads)" }.joined(separator: " "))")
        }
        let engine = Engine(model: loaded, configuration: config.engine)
        let names = config.servedModelNames.isEmpty ? [loaded.name] : config.servedModelNames
        let c = loaded.model.config
        state.set(.ready(engine, RequestValidator(modelNames: Set(names), contextLength: engine.configuration.contextLength,
                                                  vocabularySize: c.vocabularySize), names: names))
        logger.info("model \(names[0]) ready: \(c.architecture), \(c.layers) layers, width \(c.width), context \(engine.configuration.contextLength), \(config.engine.threads) threads")
        try? await gracefulShutdown()
        logger.info("draining the engine")
        await engine.shutdown()
    }
}
