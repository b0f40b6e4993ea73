/// core/v1 Service.
public struct Service: KubeResource, Equatable {
    public static let resource = ResourceDescriptor(group: "", version: "v1", plural: "services", kind: "Service")
    public struct Port: Codable, Sendable, Equatable {
        public var name: String?
        public var port: Int
        public var targetPort: IntOrString?
        public var `protocol`: String?
        public init(name: String?, port: Int, targetPort: IntOrString?) {
            self.name = name
            self.port = port
            self.targetPort = targetPort
            self.protocol = "TCP"
        }
    }
    public struct Spec: Codable, Sendable, Equatable {
        public var type: String?
        public var clusterIP: String?
        public var selector: [String: String]?
        public var ports: [Port]?
        public var publishNotReadyAddresses: Bool?
        public init(type: String? = nil, clusterIP: String? = nil, selector: [String: String]?, ports: [Port]?) {
            self.type = type
            self.clusterIP = clusterIP
            self.selector = selector
            self.ports = ports
        }
    }
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: Spec?
    public init(metadata: ObjectMeta, spec: Spec?) {
        self.metadata = metadata
        self.spec = spec
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
    }
}

/// core/v1 ConfigMap.
public struct ConfigMap: KubeResource, Equatable {
    public static let resource = ResourceDescriptor(group: "", version: "v1", plural: "configmaps", kind: "ConfigMap")
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var data: [String: String]?
    public init(metadata: ObjectMeta, data: [String: String]?) {
        self.metadata = metadata
        self.data = data
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
    }
}

/// core/v1 ServiceAccount.
public struct ServiceAccount: KubeResource, Equatable {
    public static let resource = ResourceDescriptor(group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount")
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public init(metadata: ObjectMeta) {
        self.metadata = metadata
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
    }
}

/// rbac.authorization.k8s.io/v1 RoleBinding.
public struct RoleBinding: KubeResource, Equatable {
    public static let resource = ResourceDescriptor(group: "rbac.authorization.k8s.io", version: "v1",
                                                    plural: "rolebindings", kind: "RoleBinding")
    public struct RoleRef: Codable, Sendable, Equatable {
        public var apiGroup: String
        public var kind: String
        public var name: String
        public init(apiGroup: String = "rbac.authorization.k8s.io", kind: String, name: String) {
            self.apiGroup = apiGroup
            self.kind = kind
            self.name = name
        }
    }
    public struct Subject: Codable, Sendable, Equatable {
        public var kind: String
        public var name: String
        public var namespace: String?
        public init(kind: String, name: String, namespace: String?) {
            self.kind = kind
            self.name = name
            self.namespace = namespace
        }
    }
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var roleRef: RoleRef?
    public var subjects: [Subject]?
    public init(metadata: ObjectMeta, roleRef: RoleRef, subjects: [Subject]) {
        self.metadata = metadata
        self.roleRef = roleRef
        self.subjects = subjects
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
    }
}

/// core/v1 Namespace.
public struct Namespace: KubeResource {
    public static let resource = ResourceDescriptor(group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false)
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public init(name: String) {
        metadata = ObjectMeta(name: name)
        apiVersion = Self.resource.apiVersion
        kind = Self.resource.kind
    }
}

/// core/v1 Event: what a controller did or failed to do to an object.
public struct Event: KubeResource {
    public static let resource = ResourceDescriptor(group: "", version: "v1", plural: "events", kind: "Event")
    public struct ObjectReference: Codable, Sendable, Equatable {
        public var apiVersion: String?
        public var kind: String?
        public var name: String?
        public var namespace: String?
        public var uid: String?
        public init(apiVersion: String?, kind: String?, name: String?, namespace: String?, uid: String?) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.name = name
            self.namespace = namespace
            self.uid = uid
        }
    }
    public struct Source: Codable, Sendable { public var component: String? }
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    /// "Normal" or "Warning".
    public var type: String?
    public var count: Int?
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    public var source: Source?
    public var reportingComponent: String?
    public var reportingInstance: String?

    public init(metadata: ObjectMeta, involvedObject: ObjectReference, reason: String, message: String,
                type: String, timestamp: String, component: String) {
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
        self.count = 1
        self.firstTimestamp = timestamp
        self.lastTimestamp = timestamp
        self.source = Source(component: component)
        self.reportingComponent = component
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
    }
}

/// coordination.k8s.io/v1 Lease: the lock of leader election.
public struct Lease: KubeResource {
    public static let resource = ResourceDescriptor(group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease")
    public struct Spec: Codable, Sendable, Equatable {
        public var holderIdentity: String?
        public var leaseDurationSeconds: Int?
        public var acquireTime: String?
        public var renewTime: String?
        public var leaseTransitions: Int?
    }
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: Spec?
    public init(metadata: ObjectMeta, spec: Spec?) {
        self.metadata = metadata
        self.spec = spec
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
    }
}
