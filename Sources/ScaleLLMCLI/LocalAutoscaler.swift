import Autoscaler
import Foundation
import Gateway
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// `scalellm up --autoscale`: the same autoscaler the operator uses, driving engine processes on
/// this machine. Every `interval` it feeds the gateway's in-flight demand for the local pool to the
/// autoscaler; scaling up starts engines on free ports (they join the gateway once /ready), scaling
/// down drains engines (no new requests; in-flight ones finish) and then stops them.
struct LocalAutoscaler: ServiceLifecycle.Service {
    static let pool = "default"

    let core: GatewayCore
    let supervisor: EngineSupervisor
    let configuration: AutoscalerConfiguration
    let interval: Duration
    let engineArguments: @Sendable (Int) -> [String]
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
    }

    private func loop() async {
        var scaler = Autoscaler(configuration: configuration)
        let started = ContinuousClock.now
        let desiredGauge = Gauge(label: "scalellm_autoscaler_desired_replicas", dimensions: [("pool", Self.pool)])
        do {
            while !Task.isCancelled {
                let load = core.poolLoads().first { $0.pool == Self.pool } ?? PoolLoad(pool: Self.pool)
                let demand: Double
                switch configuration.metric {
                case .queueDepth: demand = Double(load.engineWaiting)
                case .kvCacheUsage: demand = load.kvCacheUsage
                case .inFlight, .tokensPerSecond: demand = Double(load.demand)
                }
                let now = (ContinuousClock.now - started) / .seconds(1)
                scaler.record(LoadSample(time: now, demand: demand))
                let current = supervisor.activeCount
                let decision = scaler.decide(now: now, currentReplicas: current, readyReplicas: load.readyReplicas)
                desiredGauge.record(decision.desiredReplicas)
                if decision.desiredReplicas != current {
                    logger.notice("autoscaler: \(current) -> \(decision.desiredReplicas) engines (\(decision.reason))")
                    Counter(label: "scalellm_autoscaler_decisions_total",
                            dimensions: [("direction", decision.desiredReplicas > current ? "up" : "down")]).increment()
                    if decision.desiredReplicas > current {
                        for _ in current..<decision.desiredReplicas { addEngine() }
                    } else {
                        removeEngines(current - decision.desiredReplicas)
                    }
                }
                try await Task.sleep(for: interval)
            }
        } catch {
            // Cancelled: the gateway is shutting down.
        }
    }

    private func addEngine() {
        do {
            let port = try FreePort.find()
            supervisor.start(port: port, arguments: engineArguments(port))
            try core.pool.add(BackendConfiguration(url: "http://127.0.0.1:\(port)", pool: Self.pool))
        } catch {
            logger.error("autoscaler: cannot start an engine: \(error)")
        }
    }

    /// Retires `count` engines: those not ready yet first, then the least busy.
    private func removeEngines(_ count: Int) {
        let active = Set(supervisor.activePorts)
        let candidates = core.pool.all.filter { active.contains($0.endpoint.port) && !$0.health.draining }
            .sorted { ($0.isRoutable ? 1 : 0, $0.inflight) < ($1.isRoutable ? 1 : 0, $1.inflight) }
        for replica in candidates.prefix(count) {
            replica.setDraining(true)
            supervisor.markRetiring(port: replica.endpoint.port)
            logger.info("autoscaler: draining \(replica.url) (\(replica.inflight) in flight)")
            let core = self.core, supervisor = self.supervisor, logger = self.logger
            let limit = Duration.milliseconds(core.configuration.limits.upstreamTimeoutMs)
            Task {
                let deadline = ContinuousClock.now + limit
                while replica.inflight > 0 && ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(100))
                }
                core.pool.remove(replica.url)
                core.router.forget(replica.url)
                supervisor.retire(port: replica.endpoint.port)
                logger.info("autoscaler: stopped \(replica.url)")
            }
        }
    }
}
