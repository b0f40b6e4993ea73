import Foundation
import Hummingbird
import KubernetesClient
import Logging
import ServiceLifecycle

/// How `scalellm operator` runs: which cluster, which namespaces, leader election, health port.
public struct OperatorOptions: Sendable {
    public var kubeconfig: String?
    public var context: String?
    /// Only this namespace's LLMServices; nil: every namespace.
    public var watchNamespace: String?
    public var leaderElection = true
    public var leaseName = "scalellm-operator"
    /// Namespace of the Lease (default: the kubeconfig's or the pod's namespace).
    public var leaseNamespace: String?
    public var identity: String?
    public var leaseDuration: Duration = .seconds(15)
    public var renewDeadline: Duration = .seconds(10)
    public var retryPeriod: Duration = .seconds(2)
    /// Port of /healthz (0: none).
    public var healthPort = 8081
    public var healthHost = "0.0.0.0"
    public var resyncInterval: Duration = .seconds(30)
    /// ClusterRole bound to gateways for pod discovery.
    public var gatewayClusterRole = Defaults.gatewayClusterRole

    public init() {}
}

/// The operator process: the controller (under leader election) and a small health endpoint, stopped
/// cleanly by SIGTERM/SIGINT (the lease is released so a standby takes over at once).
public enum OperatorMain {
    public static func run(_ options: OperatorOptions, logger: Logger) async throws {
        let config = try KubeConfig.resolve(kubeconfig: options.kubeconfig, context: options.context)
        let client = try KubeClient(config: config, fieldManager: "scalellm-operator")
        let controller = OperatorController(client: client, namespace: options.watchNamespace,
                                            resyncInterval: options.resyncInterval,
                                            gatewayClusterRole: options.gatewayClusterRole, logger: logger)
        var lease = LeaderElector.Configuration(leaseName: options.leaseName,
                                                namespace: options.leaseNamespace ?? config.namespace,
                                                identity: options.identity)
        lease.leaseDuration = options.leaseDuration
        lease.renewDeadline = options.renewDeadline
        lease.retryPeriod = options.retryPeriod
        let elector = options.leaderElection ? LeaderElector(client: client, configuration: lease, logger: logger) : nil
        logger.info("operator \(lease.identity) using \(config.server)")

        var services: [any ServiceLifecycle.Service] = [ControllerService(controller: controller, elector: elector)]
        if options.healthPort > 0 {
            let router = Router()
            router.get("/healthz") { _, _ in "ok" }
            router.get("/leader") { _, _ in
                Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: (elector?.isLeader ?? true) ? "true" : "false")))
            }
            services.append(Application(router: router, configuration: .init(address: .hostname(options.healthHost, port: options.healthPort)),
                                        logger: logger))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        do {
            try await group.run()
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}

/// Runs the controller (while leading, when there is an elector) until graceful shutdown.
struct ControllerService: ServiceLifecycle.Service {
    let controller: OperatorController
    let elector: LeaderElector?

    func run() async throws {
        await cancelWhenGracefulShutdown {
            if let elector {
                await elector.run { await controller.run() }
            } else {
                await controller.run()
            }
        }
    }
}
