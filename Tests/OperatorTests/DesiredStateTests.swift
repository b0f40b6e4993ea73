import KubernetesClient
import Autoscaler
import Operator
import Testing

/// A sample LLMService with two pools (the shape of manifests/llmservice-sample.yaml).
func sampleService(name: String = "smollm", namespace: String = "default", uid: String = "uid-1") -> LLMService {
    var spec = LLMServiceSpec(pools: [
        PoolSpec(name: "latency", tensorParallel: 2, minReplicas: 1, maxReplicas: 2),
        PoolSpec(name: "throughput", tensorParallel: 1, minReplicas: 2, maxReplicas: 8),
    ])
    spec.model = ModelSpec(servedName: "smollm2-135m")
    spec.engine = EngineSpec(maxRunning: 32, threads: 2)
    spec.gateway = GatewaySpec(apiKeySecret: SecretKeyReference(name: "keys", key: "k"))
    var meta = ObjectMeta(name: name, namespace: namespace)
    meta.uid = uid
    return LLMService(metadata: meta, spec: spec)
}

@Suite("Desired state of an LLMService")
struct DesiredStateTests {
    @Test func onePoolOneDeploymentAndHeadlessService() {
        let d = DesiredState(service: sampleService())
        #expect(d.engineDeployments.map(\.metadata.name) == ["smollm-latency", "smollm-throughput"])
        #expect(d.engineDeployments.map(\.spec?.replicas) == [1, 2])
        #expect(d.engineServices.allSatisfy { $0.spec?.clusterIP == "None" })
        let latency = d.engineDeployments[0]
        #expect(latency.metadata.labels?[Labels.pool] == "latency")
        #expect(latency.metadata.labels?[Labels.tensorParallel] == "2")
        #expect(latency.spec?.selector?.matchLabels == Labels.poolSelector("smollm", pool: "latency"))
        let c = latency.spec?.template?.spec?.containers.first
        #expect(c?.args?.starts(with: ["engine", "--host", "0.0.0.0", "--port", "8000"]) == true)
        #expect(c?.args?.contains("--served-model-name") == true)
        #expect(c?.readinessProbe?.httpGet?.path == "/ready")
        let owner = latency.metadata.ownerReferences?.first
        #expect(owner?.kind == "LLMService" && owner?.uid == "uid-1" && owner?.controller == true)
    }

    @Test func replicasStayWithinPoolBounds() {
        let s = sampleService()
        #expect(DesiredState(service: s, replicas: ["throughput": 5]).engineDeployments[1].spec?.replicas == 5)
        #expect(DesiredState(service: s, replicas: ["throughput": 50]).engineDeployments[1].spec?.replicas == 8)
        #expect(DesiredState(service: s, replicas: ["throughput": 0]).engineDeployments[1].spec?.replicas == 2)
    }

    @Test func gatewayFindsEnginesThroughDiscovery() {
        let d = DesiredState(service: sampleService())
        let yaml = d.gatewayConfigMap.data?["gateway.yaml"] ?? ""
        #expect(yaml.contains("label_selector: scalellm.io/service=smollm,app.kubernetes.io/component=engine"))
        #expect(yaml.contains("pool_label: scalellm.io/pool"))
        #expect(yaml.contains("host: 0.0.0.0"))
        let pod = d.gatewayDeployment.spec?.template?.spec
        #expect(pod?.serviceAccountName == "smollm-gateway")
        #expect(pod?.containers.first?.env?.first?.valueFrom?.secretKeyRef?.name == "keys")
        #expect(d.gatewayDeployment.spec?.template?.metadata?.annotations?[Labels.configHash] != nil)
        #expect(d.gatewayRoleBinding.roleRef?.name == "scalellm-gateway")
        #expect(d.gatewayService.metadata.name == "smollm")
    }

    @Test func invalidSpecsAreNamed() {
        var s = sampleService()
        s.spec.pools[1].minReplicas = 9
        #expect(throws: LLMServiceSpecError.self) { try s.spec.validate() }
        s = sampleService()
        s.spec.pools[1].name = "latency"
        #expect(throws: LLMServiceSpecError.self) { try s.spec.validate() }
        #expect(throws: Never.self) { try sampleService().spec.validate() }
    }
}

@Suite("Autoscaling settings from the spec")
struct AutoscalingSpecTests {
    @Test func poolBoundsAndWindowsReachTheAutoscaler() throws {
        var spec = sampleService().spec
        var a = AutoscalingSpec()
        a.enabled = true
        a.metric = "queueDepth"
        a.target = 4
        a.stableWindowSeconds = 30
        a.panicWindowSeconds = 60
        a.scaleDownDelaySeconds = 10
        spec.autoscaling = a
        let c = OperatorAutoscaler.configuration(spec, pool: spec.pools[1])
        #expect(c.targetPerReplica == 4)
        #expect(c.metric == .queueDepth)
        #expect(c.stableWindow == 30)
        #expect(c.panicWindow == 30, "a panic window longer than the stable window is cut to it")
        #expect(c.scaleDownStabilization == 10)
        #expect(c.minReplicas == 2 && c.maxReplicas == 8)
        try c.validate()
    }

    @Test func scaleToZeroHoldsRequestsAtTheGateway() {
        var s = sampleService()
        var a = AutoscalingSpec()
        a.scaleToZero = true
        s.spec.autoscaling = a
        let yaml = DesiredState(service: s).gatewayConfigMap.data?["gateway.yaml"] ?? ""
        #expect(yaml.contains("cold_start_timeout_ms: 120000"))
        let plain = DesiredState(service: sampleService()).gatewayConfigMap.data?["gateway.yaml"] ?? ""
        #expect(!plain.contains("cold_start"))
    }
}
