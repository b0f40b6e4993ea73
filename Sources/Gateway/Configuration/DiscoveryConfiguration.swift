/// Replica discovery: where the gateway looks for engine replicas besides its `backends` list.
public struct DiscoveryConfiguration: Codable, Sendable, Equatable {
    public var kubernetes: KubernetesDiscoveryConfiguration?
    public init(kubernetes: KubernetesDiscoveryConfiguration?) { self.kubernetes = kubernetes }
}

/// Engine pods found by label selector; only Ready pods with an IP become replicas, grouped into
/// pools by a pod label (the operator's `scalellm.io/pool`).
public struct KubernetesDiscoveryConfiguration: Codable, Sendable, Equatable {
    /// Namespace of the pods (default: the gateway's own, or the kubeconfig's).
    public var namespace: String?
    public var labelSelector: String
    /// Pod label naming the replica's pool.
    public var poolLabel: String = "scalellm.io/pool"
    /// Pod label with the replica's tensor-parallel degree.
    public var tensorParallelLabel: String = "scalellm.io/tensor-parallel"
    /// The container port of this name is the engine's; `port` when no container declares it.
    public var portName: String = "http"
    public var port: Int = 8000
    /// A kubeconfig file (default: in-cluster service account, else $KUBECONFIG).
    public var kubeconfig: String?

    public init(namespace: String? = nil, labelSelector: String) {
        self.namespace = namespace
        self.labelSelector = labelSelector
    }

    enum CodingKeys: String, CodingKey {
        case namespace, labelSelector = "label_selector", poolLabel = "pool_label"
        case tensorParallelLabel = "tensor_parallel_label", portName = "port_name", port, kubeconfig
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        namespace = try c.decodeIfPresent(String.self, forKey: .namespace)
        labelSelector = try c.decode(String.self, forKey: .labelSelector)
        poolLabel = try c.decodeIfPresent(String.self, forKey: .poolLabel) ?? poolLabel
        tensorParallelLabel = try c.decodeIfPresent(String.self, forKey: .tensorParallelLabel) ?? tensorParallelLabel
        portName = try c.decodeIfPresent(String.self, forKey: .portName) ?? portName
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        kubeconfig = try c.decodeIfPresent(String.self, forKey: .kubeconfig)
    }
}
