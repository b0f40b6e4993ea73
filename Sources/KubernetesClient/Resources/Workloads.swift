/// apps/v1 Deployment.
public struct Deployment: KubeResource, Equatable {
    public static let resource = ResourceDescriptor(group: "apps", version: "v1", plural: "deployments", kind: "Deployment")
    public struct Spec: Codable, Sendable, Equatable {
        public var replicas: Int?
        public var selector: LabelSelector?
        public var template: PodTemplateSpec?
        public var revisionHistoryLimit: Int?
        public init(replicas: Int?, selector: LabelSelector?, template: PodTemplateSpec?) {
            self.replicas = replicas
            self.selector = selector
            self.template = template
        }
    }
    public struct Status: Codable, Sendable, Equatable {
        public var observedGeneration: Int64?
        public var replicas: Int?
        public var updatedReplicas: Int?
        public var readyReplicas: Int?
        public var availableReplicas: Int?
        public var conditions: [Condition]?
    }
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?
    public init(metadata: ObjectMeta, spec: Spec?) {
        self.metadata = metadata
        self.spec = spec
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
    }
}

/// apps/v1 ReplicaSet (read only: to see a rollout happen).
public struct ReplicaSet: KubeResource {
    public static let resource = ResourceDescriptor(group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet")
    public struct Spec: Codable, Sendable {
        public var replicas: Int?
        public var template: PodTemplateSpec?
    }
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: Spec?
}

/// core/v1 Pod.
public struct Pod: KubeResource, Equatable {
    public static let resource = ResourceDescriptor(group: "", version: "v1", plural: "pods", kind: "Pod")
    public struct Status: Codable, Sendable, Equatable {
        public var phase: String?
        public var podIP: String?
        public var conditions: [Condition]?
        public init(phase: String? = nil, podIP: String? = nil, conditions: [Condition]? = nil) {
            self.phase = phase
            self.podIP = podIP
            self.conditions = conditions
        }
    }
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PodSpec?
    public var status: Status?
    public init(metadata: ObjectMeta, spec: PodSpec?) {
        self.metadata = metadata
        self.spec = spec
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
    }

    /// Running, with an IP, its Ready condition True, and not being deleted.
    public var isReady: Bool {
        guard metadata.deletionTimestamp == nil, status?.podIP?.isEmpty == false else { return false }
        return status?.conditions?.contains { $0.type == "Ready" && $0.status == "True" } ?? false
    }
}

/// autoscaling/v1 Scale: the scale subresource of a Deployment or custom resource.
public struct Scale: Codable, Sendable {
    public struct Spec: Codable, Sendable { public var replicas: Int? }
    public struct Status: Codable, Sendable {
        public var replicas: Int?
        public var selector: String?
    }
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?
}
