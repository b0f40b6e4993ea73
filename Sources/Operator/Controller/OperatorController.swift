import Foundation
import KubernetesClient
import Logging
import Synchronization

/// Watches LLMServices and the Deployments they own, and reconciles each changed LLMService (and all
/// of them every `resyncInterval`). Run it under a `LeaderElector` when several replicas run.
public final class OperatorController: Sendable {
    let client: KubeClient
    let namespace: String?
    let resyncInterval: Duration
    let logger: Logger
    let reconciler: Reconciler
    let services: Informer<LLMService>
    let deployments: Informer<Deployment>
    let autoscaler: OperatorAutoscaler
    private let counters = Mutex<(reconciles: Int, failures: Int)>((0, 0))

    /// - Parameter namespace: nil watches every namespace.
    public init(client: KubeClient, namespace: String?, resyncInterval: Duration = .seconds(30),
                autoscaleInterval: Duration = .seconds(2), gatewayClusterRole: String = Defaults.gatewayClusterRole,
                logger: Logger = Logger(label: "scalellm.operator")) {
        self.client = client
        self.namespace = namespace
        self.resyncInterval = resyncInterval
        self.logger = logger
        reconciler = Reconciler(client: client, gatewayClusterRole: gatewayClusterRole, logger: logger)
        autoscaler = OperatorAutoscaler(client: client, interval: autoscaleInterval, logger: logger)
        services = Informer(client: client, namespace: namespace, logger: logger)
        deployments = Informer(client: client, namespace: namespace,
                               labelSelector: "\(Labels.managedBy)=\(Labels.managedByValue)", logger: logger)
    }

    /// Reconciliations done and failed so far.
    public var stats: (reconciles: Int, failures: Int) { counters.withLock { $0 } }

    /// Runs until the task is cancelled.
    public func run() async {
        let queue = WorkQueue()
        logger.info("operator watching LLMServices in \(namespace.map { "namespace \($0)" } ?? "all namespaces")")
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.services.run { event in
                    queue.add(Informer<LLMService>.key(namespace: event.object.metadata.namespace,
                                                       name: event.object.metadata.name ?? ""))
                }
            }
            group.addTask {
                await self.deployments.run { event in
                    guard let owner = event.object.metadata.labels?[Labels.service] else { return }
                    queue.add(Informer<LLMService>.key(namespace: event.object.metadata.namespace, name: owner))
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.resyncInterval)
                    for s in self.services.items {
                        queue.add(Informer<LLMService>.key(namespace: s.metadata.namespace, name: s.metadata.name ?? ""))
                    }
                }
            }
            group.addTask {
                await queue.process { key in await self.reconcile(key: key, queue: queue) }
            }
            group.addTask {
                await self.autoscaler.run { self.services.items }
            }
            // Every task ends when this one is cancelled (AsyncStream iteration included).
            await group.waitForAll()
        }
        logger.info("operator stopped")
    }

    private func reconcile(key: String, queue: WorkQueue) async {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return }
        do {
            // Reads afresh: the cache may lag behind a status write of the previous round.
            guard let service = try await client.getIfPresent(LLMService.self, name: parts[1], namespace: parts[0]) else { return }
            try await reconciler.reconcile(service)
            counters.withLock { $0.reconciles += 1 }
        } catch is CancellationError {
            return
        } catch {
            counters.withLock { $0.failures += 1 }
            logger.error("reconciling \(key) failed: \(error); retrying in 5 s")
            Task {
                try? await Task.sleep(for: .seconds(5))
                queue.add(key)
            }
        }
    }
}
