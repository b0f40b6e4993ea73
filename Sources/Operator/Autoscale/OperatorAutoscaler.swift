import AsyncHTTPClient
import Autoscaler
import Foundation
import KubernetesClient
import Logging
import Synchronization

/// Scales the pools of every LLMService with `autoscaling.enabled`: every `interval` it reads the
/// service's gateway load (`GET /status`), feeds each pool's demand to that pool's autoscaler, and
/// writes the decision through the scale subresource of the pool's Deployment, recording it in the
/// status (`pools[].lastScaleReason`, `loadLevel`) and as an Event.
///
/// The gateway is found at the annotation `scalellm.io/gateway-url` when set (a gateway outside
/// the cluster, or in tests), else at the gateway Service, `http://NAME.NAMESPACE.svc:PORT`.
public final class OperatorAutoscaler: Sendable {
    public static let gatewayURLAnnotation = "scalellm.io/gateway-url"

    let client: KubeClient
    let interval: Duration
    let logger: Logger
    let events: EventRecorder
    let started = ContinuousClock.now
    private let scalers = Mutex<[String: PoolAutoscalers]>([:])
    private let unreachable = Mutex<Set<String>>([])

    public init(client: KubeClient, interval: Duration = .seconds(2), logger: Logger = Logger(label: "scalellm.autoscaler")) {
        self.client = client
        self.interval = interval
        self.logger = logger
        events = EventRecorder(client: client, component: "scalellm-autoscaler", logger: logger)
    }

    /// Scales every service that `services` returns until the task is cancelled.
    public func run(services: @Sendable () -> [LLMService]) async {
        var c = HTTPClient.Configuration()
        c.timeout = .init(connect: .seconds(2))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
        await loop(services: services, reader: GatewayLoadReader(http: http))
        try? await http.shutdown()
    }

    private func loop(services: @Sendable () -> [LLMService], reader: GatewayLoadReader) async {
        while !Task.isCancelled {
            let list = services().filter { $0.spec.autoscaling?.enabled == true && $0.metadata.deletionTimestamp == nil }
            scalers.withLock { s in s = s.filter { key, _ in list.contains { $0.metadata.uid == key } } }
            for service in list {
                do {
                    try await scale(service, reader: reader)
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("autoscaling \(service.metadata.namespace ?? "")/\(service.metadata.name ?? "") failed: \(error)")
                }
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// The autoscaler settings of one pool, from the LLMService spec.
    public static func configuration(_ spec: LLMServiceSpec, pool: PoolSpec) -> AutoscalerConfiguration {
        let a = spec.autoscaling
        var c = AutoscalerConfiguration()
        if let t = a?.target { c.targetPerReplica = t }
        c.metric = ScalingMetric(specName: a?.metric) ?? .inFlight
        if let w = a?.stableWindowSeconds { c.stableWindow = Double(w) }
        if let w = a?.panicWindowSeconds { c.panicWindow = min(Double(w), c.stableWindow) }
        if let d = a?.scaleDownDelaySeconds { c.scaleDownStabilization = Double(d) }
        c.scaleToZero = a?.scaleToZero ?? false
        c.minReplicas = pool.min
        c.maxReplicas = max(pool.max, 1)
        return c
    }

    /// One round for one service.
    func scale(_ service: LLMService, reader: GatewayLoadReader) async throws {
        guard let name = service.metadata.name, let uid = service.metadata.uid else { return }
        let ns = service.metadata.namespace ?? "default"
        let key = "\(ns)/\(name)"
        let url = service.metadata.annotations?[Self.gatewayURLAnnotation]
            ?? "http://\(name).\(ns).svc:\(service.spec.gateway?.port ?? Defaults.gatewayServicePort)"
        let snapshot: GatewayLoadSnapshot
        do {
            snapshot = try await reader.read(url)
            if unreachable.withLock({ $0.remove(key) }) != nil { logger.info("gateway of \(key) reachable again at \(url)") }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if unreachable.withLock({ $0.insert(key).inserted }) {
                logger.warning("cannot read the load of \(key) from \(url): \(error); replicas stay as they are")
            }
            try await recordStatus(service, level: "unknown", reasons: [:])
            return
        }
        let now = (ContinuousClock.now - started) / .seconds(1)
        var reasons: [String: String] = [:]
        for pool in service.spec.pools {
            let deploymentName = DesiredState.poolObjectName(service: name, pool: pool.name)
            guard let deployment = try await client.getIfPresent(Deployment.self, name: deploymentName, namespace: ns) else { continue }
            let current = deployment.spec?.replicas ?? pool.min
            let load = snapshot.pools.first { $0.pool == pool.name }
            let config = Self.configuration(service.spec, pool: pool)
            guard (try? config.validate()) != nil else { continue }
            let demand: Double
            switch config.metric {
            case .queueDepth: demand = load?.engineWaiting ?? 0
            case .kvCacheUsage: demand = load?.kvCacheUsage ?? 0
            case .inFlight, .tokensPerSecond: demand = load?.demand ?? 0
            }
            let decision: ScaleDecision? = scalers.withLock { all in
                var pools = all[uid] ?? PoolAutoscalers()
                pools.configure(pool: pool.name, config)
                let d = pools.step(pool: pool.name, now: now, demand: demand, currentReplicas: current,
                                   readyReplicas: load?.readyReplicas ?? 0)
                all[uid] = pools
                return d
            }
            guard let decision else { continue }
            if decision.desiredReplicas != current {
                try await client.setScale(Deployment.self, name: deploymentName, namespace: ns, replicas: decision.desiredReplicas)
                let message = "pool \(pool.name): \(current) -> \(decision.desiredReplicas) replicas (\(decision.reason))"
                logger.notice("\(key) \(message)")
                await events.record(service, reason: "Scaled", message: message)
                reasons[pool.name] = "\(current) -> \(decision.desiredReplicas): \(decision.reason)"
            }
        }
        try await recordStatus(service, level: snapshot.level, reasons: reasons)
    }

    /// Writes the load level and the latest scale reasons into the status when they changed.
    func recordStatus(_ service: LLMService, level: String, reasons: [String: String]) async throws {
        guard service.status?.loadLevel != level || !reasons.isEmpty else { return }
        try await client.retryOnConflict {
            var fresh = try await client.get(LLMService.self, name: service.metadata.name ?? "", namespace: service.metadata.namespace)
            var status = fresh.status ?? LLMServiceStatus()
            status.loadLevel = level
            for (pool, reason) in reasons {
                if let i = status.pools?.firstIndex(where: { $0.name == pool }) {
                    status.pools?[i].lastScaleReason = reason
                }
            }
            guard status != fresh.status else { return }
            fresh.status = status
            _ = try await client.updateStatus(fresh)
        }
    }
}

extension ScalingMetric {
    /// The CRD's camelCase names (`inFlight`, `queueDepth`, `kvCacheUsage`).
    init?(specName: String?) {
        switch specName {
        case "inFlight": self = .inFlight
        case "queueDepth": self = .queueDepth
        case "kvCacheUsage": self = .kvCacheUsage
        case "tokensPerSecond": self = .tokensPerSecond
        default: return nil
        }
    }
}
