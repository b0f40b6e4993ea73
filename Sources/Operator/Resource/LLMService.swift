import KubernetesClient

/// The `LLMService` custom resource (scalellm.io/v1alpha1): a model served by pools of engine replicas
/// behind one gateway. The operator turns it into Deployments, Services and a ConfigMap.
public struct LLMService: KubeResource, Equatable {
    public static let resource = ResourceDescriptor(group: "scalellm.io", version: "v1alpha1",
                                                    plural: "llmservices", kind: "LLMService")
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: LLMServiceSpec
    public var status: LLMServiceStatus?

    public init(metadata: ObjectMeta, spec: LLMServiceSpec) {
        self.metadata = metadata
        self.spec = spec
        apiVersion = Self.resource.apiVersion
        kind = Self.resource.kind
    }
}

/// What the user asks for. Every field but `pools` has a default (see docs/operator.md).
public struct LLMServiceSpec: Codable, Sendable, Equatable {
    /// Container image with the `scalellm` binary (engine, gateway and operator by subcommand).
    public var image: String?
    public var imagePullPolicy: String?
    public var model: ModelSpec?
    public var engine: EngineSpec?
    /// Engine pools: the paper's high-TP (latency) and many-replica (throughput) pools.
    public var pools: [PoolSpec]
    public var autoscaling: AutoscalingSpec?
    public var gateway: GatewaySpec?

    public init(pools: [PoolSpec]) { self.pools = pools }
}

/// Which model the engines serve.
public struct ModelSpec: Codable, Sendable, Equatable {
    /// Name the model is served under (the `model` field of requests).
    public var servedName: String?
    /// A GGUF file inside the image or a mounted volume. Absent: the built-in default model.
    public var path: String?
    /// Where `path` comes from when it is not in the image: a PersistentVolumeClaim to mount read-only.
    public var volumeClaim: String?

    public init(servedName: String? = nil, path: String? = nil, volumeClaim: String? = nil) {
        self.servedName = servedName
        self.path = path
        self.volumeClaim = volumeClaim
    }
}

/// Engine settings shared by every pool.
public struct EngineSpec: Codable, Sendable, Equatable {
    /// Decode-step activations: q8 (8-bit integer dot products) or f32.
    public var activations: String?
    /// Sequences in the running batch.
    public var maxRunning: Int?
    public var contextLength: Int?
    /// Compute threads per replica (default: the CPU limit, else all cores).
    public var threads: Int?
    public var kvCacheMemoryMiB: Int?
    public var prefixCaching: Bool?
    public var resources: ResourceRequirements?

    public init(maxRunning: Int? = nil, threads: Int? = nil, contextLength: Int? = nil) {
        self.maxRunning = maxRunning
        self.threads = threads
        self.contextLength = contextLength
    }
}

/// One pool of identical engine replicas.
public struct PoolSpec: Codable, Sendable, Equatable {
    public var name: String
    public var tensorParallel: Int?
    public var minReplicas: Int?
    public var maxReplicas: Int?

    public init(name: String, tensorParallel: Int? = nil, minReplicas: Int? = nil, maxReplicas: Int? = nil) {
        self.name = name
        self.tensorParallel = tensorParallel
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
    }

    public var tp: Int { tensorParallel ?? 1 }
    public var min: Int { minReplicas ?? 1 }
    public var max: Int { Swift.max(maxReplicas ?? min, min) }
}

/// Replicas follow load (used by the autoscaler).
public struct AutoscalingSpec: Codable, Sendable, Equatable {
    public var enabled: Bool?
    /// inFlight (default), queueDepth or kvCacheUsage.
    public var metric: String?
    /// Target value of the metric per replica.
    public var target: Double?
    public var stableWindowSeconds: Int?
    public var panicWindowSeconds: Int?
    public var scaleDownDelaySeconds: Int?
    public var scaleToZero: Bool?

    public init(enabled: Bool? = nil) { self.enabled = enabled }
}

/// The gateway in front of the pools.
public struct GatewaySpec: Codable, Sendable, Equatable {
    public var replicas: Int?
    /// Port of the gateway Service.
    public var port: Int?
    /// ClusterIP (default), NodePort or LoadBalancer.
    public var serviceType: String?
    /// Secret holding accepted API keys (comma-separated) under `key`.
    public var apiKeySecret: SecretKeyReference?
    public var loadLevels: LoadLevelsSpec?
    public var rateLimits: RateLimitSpec?
    public var resources: ResourceRequirements?

    public init(replicas: Int? = nil, apiKeySecret: SecretKeyReference? = nil) {
        self.replicas = replicas
        self.apiKeySecret = apiKeySecret
    }
}

public struct SecretKeyReference: Codable, Sendable, Equatable {
    public var name: String
    public var key: String?
    public init(name: String, key: String? = nil) {
        self.name = name
        self.key = key
    }
}

/// Thresholds of the gateway's load levels (in-flight requests per ready replica).
public struct LoadLevelsSpec: Codable, Sendable, Equatable {
    public var mediumEnterAt: Double?
    public var mediumExitAt: Double?
    public var highEnterAt: Double?
    public var highExitAt: Double?
    /// Concurrent requests below which the high-TP pool is preferred.
    public var tpSwitchPoint: Int?
}

public struct RateLimitSpec: Codable, Sendable, Equatable {
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
}

/// What the operator observed.
public struct LLMServiceStatus: Codable, Sendable, Equatable {
    public var observedGeneration: Int64?
    public var conditions: [Condition]?
    public var pools: [PoolStatus]?
    public var gatewayReadyReplicas: Int?
    /// The gateway's current load level (low, medium, high) or "unknown".
    public var loadLevel: String?
    /// In-cluster URL of the OpenAI-compatible endpoint.
    public var endpoint: String?

    public init() {}
}

public struct PoolStatus: Codable, Sendable, Equatable {
    public var name: String
    public var tensorParallel: Int
    public var desiredReplicas: Int
    public var readyReplicas: Int
    public var lastScaleReason: String?
}

/// A spec the CRD schema lets through but the operator cannot act on, with the field at fault.
public struct LLMServiceSpecError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension LLMServiceSpec {
    /// Rules the schema cannot express on Kubernetes 1.20 (no CEL): orderings and uniqueness.
    public func validate() throws {
        var seen = Set<String>()
        for (i, p) in pools.enumerated() {
            guard seen.insert(p.name).inserted else {
                throw LLMServiceSpecError("spec.pools[\(i)].name '\(p.name)' is used by another pool")
            }
            if let min = p.minReplicas, let max = p.maxReplicas, min > max {
                throw LLMServiceSpecError("spec.pools[\(i)] (\(p.name)): minReplicas \(min) is above maxReplicas \(max)")
            }
        }
        if let l = gateway?.loadLevels {
            if let e = l.mediumEnterAt, let x = l.mediumExitAt, x >= e {
                throw LLMServiceSpecError("spec.gateway.loadLevels: mediumExitAt must be below mediumEnterAt")
            }
            if let e = l.highEnterAt, let x = l.highExitAt, x >= e {
                throw LLMServiceSpecError("spec.gateway.loadLevels: highExitAt must be below highEnterAt")
            }
        }
    }
}
