import KubernetesClient
import Logging
import ServiceLifecycle

/// Keeps the replica pool equal to the configured backends plus the Ready engine pods that match a
/// label selector (watched through the Kubernetes API, relisting after expiry). A pod that stops
/// being Ready or is deleted leaves the pool at once: it gets no new requests, in-flight ones finish.
struct KubernetesDiscovery: ServiceLifecycle.Service {
    let core: GatewayCore
    let configuration: KubernetesDiscoveryConfiguration

    func run() async throws {
        let kube = try KubeConfig.resolve(kubeconfig: configuration.kubeconfig)
        let client = try KubeClient(config: kube, fieldManager: "scalellm-gateway")
        let namespace = configuration.namespace ?? kube.namespace
        let informer = Informer<Pod>(client: client, namespace: namespace, labelSelector: configuration.labelSelector,
                                     logger: core.logger)
        core.logger.info("discovering replicas: pods '\(configuration.labelSelector)' in namespace \(namespace) at \(kube.server)")
        let configuration = self.configuration
        let core = self.core
        await cancelWhenGracefulShutdown {
            await informer.run { _ in
                let backends = Self.backends(from: informer.items, configuration)
                do {
                    let (added, removed) = try core.pool.replaceDiscovered(with: backends)
                    for url in removed { core.router.forget(url) }
                    if !added.isEmpty || !removed.isEmpty {
                        core.logger.notice("discovery: added \(added), removed \(removed); \(backends.count) ready pods")
                    }
                } catch {
                    core.logger.error("discovery: cannot use the pods' addresses: \(error)")
                }
            }
        }
        try await client.shutdown()
    }

    /// The replicas the Ready pods stand for, in a stable order.
    static func backends(from pods: [Pod], _ c: KubernetesDiscoveryConfiguration) -> [BackendConfiguration] {
        pods.filter(\.isReady).compactMap { pod -> BackendConfiguration? in
            guard let ip = pod.status?.podIP else { return nil }
            let port = pod.spec?.containers.lazy.compactMap { $0.ports?.first { $0.name == c.portName }?.containerPort }.first ?? c.port
            let host = ip.contains(":") ? "[\(ip)]" : ip
            let labels = pod.metadata.labels ?? [:]
            return BackendConfiguration(url: "http://\(host):\(port)", pool: labels[c.poolLabel] ?? "default",
                                        tensorParallel: labels[c.tensorParallelLabel].flatMap { Int($0) } ?? 1)
        }.sorted { $0.url < $1.url }
    }
}
