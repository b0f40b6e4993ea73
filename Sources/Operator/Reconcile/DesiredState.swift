import KubernetesClient

/// The objects an LLMService should own, computed from its spec alone (pure; the reconciler applies
/// them). Replica counts come from `replicas` (what the pool has now, kept within min/max, so an
/// autoscaler's or user's scale change survives a reconcile) or the pool's minimum.
public struct DesiredState: Sendable {
    public let service: LLMService
    public let engineDeployments: [Deployment]
    public let engineServices: [Service]
    public let gatewayConfigMap: ConfigMap
    public let gatewayDeployment: Deployment
    public let gatewayService: Service
    public let gatewayServiceAccount: ServiceAccount
    public let gatewayRoleBinding: RoleBinding

    public init(service: LLMService, replicas: [String: Int] = [:], gatewayClusterRole: String = Defaults.gatewayClusterRole) {
        self.service = service
        let name = service.metadata.name ?? ""
        let ns = service.metadata.namespace
        let owner = [OwnerReference(apiVersion: LLMService.resource.apiVersion, kind: LLMService.resource.kind,
                                    name: name, uid: service.metadata.uid ?? "")]
        func meta(_ objectName: String, _ extra: [String: String] = [:]) -> ObjectMeta {
            ObjectMeta(name: objectName, namespace: ns,
                       labels: Labels.common(name).merging(extra) { $1 }, ownerReferences: owner)
        }
        let spec = service.spec
        let image = spec.image ?? Defaults.image

        var deployments: [Deployment] = []
        var services: [Service] = []
        for pool in spec.pools {
            let objectName = Self.poolObjectName(service: name, pool: pool.name)
            let selector = Labels.poolSelector(name, pool: pool.name)
            let labels = selector.merging([Labels.tensorParallel: String(pool.tp)]) { $1 }
            let count = Swift.min(Swift.max(replicas[pool.name] ?? pool.min, pool.min), pool.max)
            let podSpec = Self.enginePodSpec(spec, pool: pool, image: image)
            var d = Deployment(metadata: meta(objectName, labels), spec: .init(
                replicas: count, selector: LabelSelector(matchLabels: selector),
                template: PodTemplateSpec(metadata: ObjectMeta(labels: Labels.common(name).merging(labels) { $1 }),
                                          spec: podSpec)))
            d.spec?.revisionHistoryLimit = 3
            deployments.append(d)
            services.append(Service(metadata: meta(objectName, labels), spec: .init(
                clusterIP: "None", selector: selector,
                ports: [.init(name: "http", port: Defaults.enginePort, targetPort: .string("http"))])))
        }
        engineDeployments = deployments
        engineServices = services

        let gatewayName = "\(name)-gateway"
        let gatewayLabels = Labels.gatewaySelector(name)
        let yaml = GatewayConfigFile(service: service).yaml
        gatewayConfigMap = ConfigMap(metadata: meta(gatewayName, [Labels.component: "gateway"]),
                                     data: [Defaults.configFile: yaml])
        gatewayServiceAccount = ServiceAccount(metadata: meta(gatewayName, [Labels.component: "gateway"]))
        gatewayRoleBinding = RoleBinding(
            metadata: meta(gatewayName, [Labels.component: "gateway"]),
            roleRef: .init(kind: "ClusterRole", name: gatewayClusterRole),
            subjects: [.init(kind: "ServiceAccount", name: gatewayName, namespace: ns)])
        var podMeta = ObjectMeta(labels: Labels.common(name).merging(gatewayLabels) { $1 })
        // A config change rolls the gateway pods.
        podMeta.annotations = [Labels.configHash: Self.hash(yaml)]
        gatewayDeployment = Deployment(metadata: meta(gatewayName, gatewayLabels), spec: .init(
            replicas: spec.gateway?.replicas ?? Defaults.gatewayReplicas,
            selector: LabelSelector(matchLabels: gatewayLabels),
            template: PodTemplateSpec(metadata: podMeta,
                                      spec: Self.gatewayPodSpec(spec, serviceAccount: gatewayName, configMap: gatewayName, image: image))))
        gatewayService = Service(metadata: meta(name, gatewayLabels), spec: .init(
            type: spec.gateway?.serviceType ?? "ClusterIP", selector: gatewayLabels,
            ports: [.init(name: "http", port: spec.gateway?.port ?? Defaults.gatewayServicePort, targetPort: .string("http"))]))
    }

    /// `<service>-<pool>`: the Deployment and headless Service of one pool.
    public static func poolObjectName(service: String, pool: String) -> String { "\(service)-\(pool)" }

    static func enginePodSpec(_ spec: LLMServiceSpec, pool: PoolSpec, image: String) -> PodSpec {
        var args = ["engine", "--host", "0.0.0.0", "--port", String(Defaults.enginePort)]
        var c = Container(name: "engine", image: image)
        var volumes: [Volume] = []
        if let path = spec.model?.path {
            args += ["--model", path]
            if let claim = spec.model?.volumeClaim {
                volumes.append(.claim("models", claimName: claim))
                c.volumeMounts = [VolumeMount(name: "models", mountPath: Defaults.modelDirectory, readOnly: true)]
            }
        }
        if let served = spec.model?.servedName { args += ["--served-model-name", served] }
        let e = spec.engine
        if let v = e?.threads { args += ["--threads", String(v)] }
        if let v = e?.activations { args += ["--activations", v] }
        if let v = e?.maxRunning { args += ["--max-running", String(v)] }
        if let v = e?.contextLength { args += ["--context-length", String(v)] }
        if let v = e?.kvCacheMemoryMiB { args += ["--kv-cache-memory", String(v)] }
        if e?.prefixCaching == false { args.append("--disable-prefix-caching") }
        c.args = args
        c.imagePullPolicy = spec.imagePullPolicy
        c.env = [EnvVar(name: "SCALELLM_TENSOR_PARALLEL", value: String(pool.tp))]
        c.ports = [ContainerPort(name: "http", containerPort: Defaults.enginePort)]
        c.resources = e?.resources
        c.readinessProbe = Probe(httpGet: .init(path: "/ready", port: .string("http")), periodSeconds: 2, failureThreshold: 2)
        c.livenessProbe = Probe(httpGet: .init(path: "/health", port: .string("http")), initialDelaySeconds: 30, periodSeconds: 10)
        var p = PodSpec(containers: [c])
        p.terminationGracePeriodSeconds = Defaults.drainSeconds
        p.securityContext = PodSecurityContext(runAsNonRoot: true)
        p.volumes = volumes.isEmpty ? nil : volumes
        return p
    }

    static func gatewayPodSpec(_ spec: LLMServiceSpec, serviceAccount: String, configMap: String, image: String) -> PodSpec {
        var c = Container(name: "gateway", image: image)
        c.args = ["gateway", "--config", "\(Defaults.configDirectory)/\(Defaults.configFile)"]
        c.imagePullPolicy = spec.imagePullPolicy
        if let secret = spec.gateway?.apiKeySecret {
            c.env = [EnvVar(name: "SCALELLM_API_KEYS", valueFrom: .init(secretKeyRef: .init(name: secret.name, key: secret.key ?? "api-keys")))]
        }
        c.ports = [ContainerPort(name: "http", containerPort: Defaults.gatewayPort)]
        c.resources = spec.gateway?.resources
        c.readinessProbe = Probe(httpGet: .init(path: "/health", port: .string("http")), periodSeconds: 2)
        c.livenessProbe = Probe(httpGet: .init(path: "/health", port: .string("http")), initialDelaySeconds: 5, periodSeconds: 10)
        c.volumeMounts = [VolumeMount(name: "config", mountPath: Defaults.configDirectory, readOnly: true)]
        var p = PodSpec(containers: [c])
        p.serviceAccountName = serviceAccount
        p.volumes = [.configMap("config", mapName: configMap)]
        p.terminationGracePeriodSeconds = Defaults.drainSeconds
        p.securityContext = PodSecurityContext(runAsNonRoot: true)
        return p
    }

    /// FNV-1a, hex: a short fingerprint of the gateway config for the pod-template annotation.
    static func hash(_ text: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in text.utf8 {
            h ^= UInt64(b)
            h &*= 0x100000001b3
        }
        return String(h, radix: 16)
    }
}
