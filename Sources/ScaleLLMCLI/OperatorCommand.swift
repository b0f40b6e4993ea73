import ArgumentParser
import Logging
import KubernetesClient
import Operator

/// `scalellm operator`: reconciles LLMService resources into engine pools and a gateway.
public struct OperatorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Run the Kubernetes operator for LLMService resources (in-cluster or with --kubeconfig).",
        discussion: """
            Without --kubeconfig it uses the pod's service account when running in a cluster, else \
            $KUBECONFIG or ~/.kube/config. Several replicas are safe: one leads through a Lease.
            """)

    @Option(help: "Kubeconfig file.") public var kubeconfig: String?
    @Option(help: "Kubeconfig context (default: its current-context).") public var context: String?
    @Option(help: "Watch only this namespace (default: all namespaces).") public var namespace: String?
    @Flag(inversion: .prefixedNo, help: "Leader election through a Lease (several operator replicas).")
    public var leaderElection = true
    @Option(help: "Name of the leader-election Lease.") public var leaseName: String = "scalellm-operator"
    @Option(help: "Namespace of the Lease (default: the kubeconfig's or the pod's namespace).") public var leaseNamespace: String?
    @Option(help: "Identity in the Lease (default: host name and process id).") public var identity: String?
    @Option(help: "Seconds a lease lasts without renewal before another replica takes over.") public var leaseDuration: Int = 15
    @Option(help: "Seconds between lease renewals and acquisition attempts.") public var retryPeriod: Int = 2
    @Option(help: "Port of /healthz (0: none).") public var healthPort: Int = 8081
    @Option(help: "Address of /healthz.") public var healthHost: String = "0.0.0.0"
    @Option(help: "Seconds between full reconciliations of every LLMService.") public var resync: Int = 30
    @Option(help: "ClusterRole bound to each gateway for pod discovery.") public var gatewayClusterRole: String = "scalellm-gateway"
    @Option(help: "Log level (trace, debug, info, notice, warning, error).") public var logLevel: String = "info"

    public init() {}

    public func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level '\(logLevel)' is not a log level") }
        guard leaseDuration >= 2 else { throw ValidationError("--lease-duration must be at least 2 seconds") }
        guard retryPeriod >= 1, retryPeriod * 2 <= leaseDuration else {
            throw ValidationError("--retry-period must be at least 1 second and at most half of --lease-duration")
        }
        guard (0...65535).contains(healthPort) else { throw ValidationError("--health-port must be between 0 and 65535") }
        guard resync >= 1 else { throw ValidationError("--resync must be at least 1 second") }
    }

    public func run() async throws {
        var logger = Logger(label: "scalellm.operator")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var o = OperatorOptions()
        o.kubeconfig = kubeconfig
        o.context = context
        o.watchNamespace = namespace
        o.leaderElection = leaderElection
        o.leaseName = leaseName
        o.leaseNamespace = leaseNamespace
        o.identity = identity
        o.leaseDuration = .seconds(leaseDuration)
        o.retryPeriod = .seconds(retryPeriod)
        o.renewDeadline = .seconds(max(leaseDuration * 2 / 3, retryPeriod + 1))
        o.healthPort = healthPort
        o.healthHost = healthHost
        o.resyncInterval = .seconds(resync)
        o.gatewayClusterRole = gatewayClusterRole
        do {
            try await naming(host: healthHost, port: healthPort, flag: "--health-port") {
                try await OperatorMain.run(o, logger: logger)
            }
        } catch let e as KubeConfigError {
            throw ValidationError(e.description)
        }
    }
}
