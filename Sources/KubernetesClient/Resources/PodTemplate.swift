/// A value that is an integer or a string (ports, `targetPort`, `maxSurge`).
public enum IntOrString: Codable, Sendable, Equatable {
    case int(Int)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        }
    }
}

/// A container in a pod (the fields this project sets).
public struct Container: Codable, Sendable, Equatable {
    public var name: String
    public var image: String?
    public var imagePullPolicy: String?
    public var command: [String]?
    public var args: [String]?
    public var env: [EnvVar]?
    public var ports: [ContainerPort]?
    public var resources: ResourceRequirements?
    public var readinessProbe: Probe?
    public var livenessProbe: Probe?
    public var volumeMounts: [VolumeMount]?

    public init(name: String, image: String? = nil) {
        self.name = name
        self.image = image
    }
}

public struct EnvVar: Codable, Sendable, Equatable {
    public struct Source: Codable, Sendable, Equatable {
        public struct KeyRef: Codable, Sendable, Equatable {
            public var name: String
            public var key: String
            public var optional: Bool?
            public init(name: String, key: String, optional: Bool? = nil) {
                self.name = name
                self.key = key
                self.optional = optional
            }
        }
        public var secretKeyRef: KeyRef?
        public init(secretKeyRef: KeyRef) { self.secretKeyRef = secretKeyRef }
    }
    public var name: String
    public var value: String?
    public var valueFrom: Source?
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
    public init(name: String, valueFrom: Source) {
        self.name = name
        self.valueFrom = valueFrom
    }
}

public struct ContainerPort: Codable, Sendable, Equatable {
    public var name: String?
    public var containerPort: Int
    public var `protocol`: String?
    public init(name: String?, containerPort: Int) {
        self.name = name
        self.containerPort = containerPort
        self.protocol = "TCP"
    }
}

/// CPU and memory requests and limits, as quantities ("500m", "1Gi").
public struct ResourceRequirements: Codable, Sendable, Equatable {
    public var requests: [String: String]?
    public var limits: [String: String]?
    public init(requests: [String: String]? = nil, limits: [String: String]? = nil) {
        self.requests = requests
        self.limits = limits
    }
}

public struct Probe: Codable, Sendable, Equatable {
    public struct HTTPGet: Codable, Sendable, Equatable {
        public var path: String
        public var port: IntOrString
        public init(path: String, port: IntOrString) {
            self.path = path
            self.port = port
        }
    }
    public var httpGet: HTTPGet?
    public var initialDelaySeconds: Int?
    public var periodSeconds: Int?
    public var failureThreshold: Int?
    public init(httpGet: HTTPGet, initialDelaySeconds: Int? = nil, periodSeconds: Int? = nil, failureThreshold: Int? = nil) {
        self.httpGet = httpGet
        self.initialDelaySeconds = initialDelaySeconds
        self.periodSeconds = periodSeconds
        self.failureThreshold = failureThreshold
    }
}

public struct VolumeMount: Codable, Sendable, Equatable {
    public var name: String
    public var mountPath: String
    public var readOnly: Bool?
    public init(name: String, mountPath: String, readOnly: Bool? = nil) {
        self.name = name
        self.mountPath = mountPath
        self.readOnly = readOnly
    }
}

public struct Volume: Codable, Sendable, Equatable {
    public struct ConfigMapSource: Codable, Sendable, Equatable {
        public var name: String
    }
    public struct EmptyDirSource: Codable, Sendable, Equatable {
        public var sizeLimit: String?
    }
    public struct ClaimSource: Codable, Sendable, Equatable {
        public var claimName: String
        public var readOnly: Bool?
    }
    public var name: String
    public var configMap: ConfigMapSource?
    public var emptyDir: EmptyDirSource?
    public var persistentVolumeClaim: ClaimSource?
    public static func configMap(_ name: String, mapName: String) -> Volume {
        Volume(name: name, configMap: ConfigMapSource(name: mapName))
    }
    public static func emptyDir(_ name: String, sizeLimit: String? = nil) -> Volume {
        Volume(name: name, emptyDir: EmptyDirSource(sizeLimit: sizeLimit))
    }
    public static func claim(_ name: String, claimName: String, readOnly: Bool = true) -> Volume {
        Volume(name: name, persistentVolumeClaim: ClaimSource(claimName: claimName, readOnly: readOnly))
    }
}

public struct PodSecurityContext: Codable, Sendable, Equatable {
    public var runAsNonRoot: Bool?
    public var runAsUser: Int?
    public init(runAsNonRoot: Bool? = nil, runAsUser: Int? = nil) {
        self.runAsNonRoot = runAsNonRoot
        self.runAsUser = runAsUser
    }
}

public struct PodSpec: Codable, Sendable, Equatable {
    public var containers: [Container]
    public var serviceAccountName: String?
    public var volumes: [Volume]?
    public var terminationGracePeriodSeconds: Int?
    public var nodeSelector: [String: String]?
    public var securityContext: PodSecurityContext?
    public init(containers: [Container]) { self.containers = containers }
}

public struct PodTemplateSpec: Codable, Sendable, Equatable {
    public var metadata: ObjectMeta?
    public var spec: PodSpec?
    public init(metadata: ObjectMeta?, spec: PodSpec?) {
        self.metadata = metadata
        self.spec = spec
    }
}
