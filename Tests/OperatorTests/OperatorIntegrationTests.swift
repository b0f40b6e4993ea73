import Foundation
import KubernetesClient
import Operator
import Testing

/// The operator against a real kube-apiserver + kube-controller-manager (Deployments really create
/// ReplicaSets and Pods; owned objects are really garbage-collected).
@Suite("Operator on a real apiserver", .enabled(if: KubeTestEnvironment.available), .timeLimit(.minutes(3)))
struct OperatorIntegrationTests {
    init() throws { try KubeTestEnvironment.installCRD() }

    func create(_ client: KubeClient, _ ns: String, name: String = "smollm") async throws -> LLMService {
        var s = sampleService(name: name, namespace: ns)
        s.metadata.uid = nil
        return try await client.create(s)
    }

    func deployments(_ client: KubeClient, _ ns: String) async throws -> [Deployment] {
        try await client.list(Deployment.self, namespace: ns, labelSelector: "\(Labels.managedBy)=\(Labels.managedByValue)").items
    }

    @Test func sampleBecomesOwnedLabelledObjectsAndStatus() async throws {
        let client = try KubeTestEnvironment.client()
        defer { Task { try? await client.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "apply")
        let service = try await create(client, ns)
        try await Reconciler(client: client).reconcile(service)

        let ds = try await deployments(client, ns).sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
        #expect(ds.map(\.metadata.name) == ["smollm-gateway", "smollm-latency", "smollm-throughput"])
        for d in ds {
            let owner = d.metadata.ownerReferences?.first
            #expect(owner?.uid == service.metadata.uid && owner?.kind == "LLMService" && owner?.controller == true)
        }
        let latency = ds[1]
        #expect(latency.metadata.labels?[Labels.pool] == "latency")
        #expect(latency.metadata.labels?[Labels.tensorParallel] == "2")
        #expect(latency.spec?.replicas == 1)
        #expect(ds[2].spec?.replicas == 2)
        #expect(latency.spec?.template?.spec?.containers.first?.args?.contains("--max-running") == true)
        let headless = try await client.get(Service.self, name: "smollm-latency", namespace: ns)
        #expect(headless.spec?.clusterIP == "None")
        let front = try await client.get(Service.self, name: "smollm", namespace: ns)
        #expect(front.spec?.selector == Labels.gatewaySelector("smollm"))
        let config = try await client.get(ConfigMap.self, name: "smollm-gateway", namespace: ns)
        #expect(config.data?["gateway.yaml"]?.contains("scalellm.io/service=smollm") == true)
        _ = try await client.get(RoleBinding.self, name: "smollm-gateway", namespace: ns)

        let status = try await client.get(LLMService.self, name: "smollm", namespace: ns).status
        #expect(status?.observedGeneration == 1)
        #expect(status?.pools?.map(\.name) == ["latency", "throughput"])
        #expect(status?.conditions?.first { $0.type == "Ready" }?.status == "False", "no kubelet: pods stay Pending")
        #expect(status?.conditions?.first { $0.type == "Degraded" }?.status == "False")
        // The controller-manager really creates the pods.
        try await KubeTestEnvironment.eventually("4 pods created") {
            try await client.list(Pod.self, namespace: ns).items.count == 4
        }
    }

    @Test func specChangeRollsOutAndObservedGenerationFollows() async throws {
        let client = try KubeTestEnvironment.client()
        defer { Task { try? await client.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "rollout")
        let reconciler = Reconciler(client: client)
        try await reconciler.reconcile(try await create(client, ns))
        try await KubeTestEnvironment.eventually("first ReplicaSet") {
            try await client.list(ReplicaSet.self, namespace: ns, labelSelector: "\(Labels.pool)=latency").items.count == 1
        }
        var s = try await client.get(LLMService.self, name: "smollm", namespace: ns)
        s.spec.engine?.threads = 1
        s.spec.pools[1].minReplicas = 3
        s.spec.pools.append(PoolSpec(name: "extra"))
        let changed = try await client.update(s)
        #expect(changed.metadata.generation == 2)
        try await reconciler.reconcile(changed)

        let latency = try await client.get(Deployment.self, name: "smollm-latency", namespace: ns)
        #expect(latency.metadata.generation == 2)
        let args = latency.spec?.template?.spec?.containers.first?.args ?? []
        #expect(args.firstIndex(of: "--threads").map { args[$0 + 1] } == "1")
        #expect(try await client.get(Deployment.self, name: "smollm-throughput", namespace: ns).spec?.replicas == 3)
        _ = try await client.get(Deployment.self, name: "smollm-extra", namespace: ns)
        // A new pod template means a new ReplicaSet: the rollout really happens.
        try await KubeTestEnvironment.eventually("second ReplicaSet") {
            try await client.list(ReplicaSet.self, namespace: ns, labelSelector: "\(Labels.pool)=latency").items.count == 2
        }
        let status = try await client.get(LLMService.self, name: "smollm", namespace: ns).status
        #expect(status?.observedGeneration == 2)
        #expect(status?.pools?.count == 3)

        // Removing a pool removes its objects.
        var fewer = try await client.get(LLMService.self, name: "smollm", namespace: ns)
        fewer.spec.pools.removeLast()
        try await reconciler.reconcile(try await client.update(fewer))
        #expect(try await client.getIfPresent(Deployment.self, name: "smollm-extra", namespace: ns) == nil)
        #expect(try await client.getIfPresent(Service.self, name: "smollm-extra", namespace: ns) == nil)
    }

    @Test func deletionGarbageCollectsEverythingOwned() async throws {
        let client = try KubeTestEnvironment.client()
        defer { Task { try? await client.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "gc")
        try await Reconciler(client: client).reconcile(try await create(client, ns))
        #expect(try await deployments(client, ns).count == 3)
        try await client.delete(LLMService.self, name: "smollm", namespace: ns)
        try await KubeTestEnvironment.eventually("owned objects collected", timeout: .seconds(60)) {
            let d = try await deployments(client, ns).count
            let s = try await client.list(Service.self, namespace: ns, labelSelector: "\(Labels.service)=smollm").items.count
            let c = try await client.getIfPresent(ConfigMap.self, name: "smollm-gateway", namespace: ns)
            return d == 0 && s == 0 && c == nil
        }
    }

    @Test func schemaRejectsInvalidServicesWithAClearMessage() async throws {
        let client = try KubeTestEnvironment.client()
        defer { Task { try? await client.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "invalid")
        var bad = sampleService(name: "bad", namespace: ns)
        bad.metadata.uid = nil
        bad.spec.pools[0].tensorParallel = 0
        do {
            _ = try await client.create(bad)
            Issue.record("tensorParallel 0 must be rejected")
        } catch let e as KubeAPIError {
            #expect(e.code == 422 && e.reason == "Invalid")
            #expect(e.message.contains("spec.pools.tensorParallel"), "\(e.message)")
        }
        var badName = sampleService(name: "bad2", namespace: ns)
        badName.metadata.uid = nil
        badName.spec.pools[0].name = "Not_A_Name"
        await #expect(throws: KubeAPIError.self) { _ = try await client.create(badName) }
        let (status, output) = try KubeTestEnvironment.kubectl(["apply", "-n", ns, "-f",
            KubeTestEnvironment.repositoryRoot + "/Tests/OperatorTests/Fixtures/invalid-llmservice.yaml"])
        #expect(status != 0)
        #expect(output.contains("pools"), "\(output)")
    }

    @Test func unsatisfiableSpecIsReportedAsDegraded() async throws {
        let client = try KubeTestEnvironment.client()
        defer { Task { try? await client.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "degraded")
        var s = sampleService(name: "inverted", namespace: ns)
        s.metadata.uid = nil
        s.spec.pools[1].minReplicas = 9
        let created = try await client.create(s)
        await #expect(throws: LLMServiceSpecError.self) { try await Reconciler(client: client).reconcile(created) }
        let degraded = try await client.get(LLMService.self, name: "inverted", namespace: ns).status?.conditions?.first { $0.type == "Degraded" }
        #expect(degraded?.status == "True")
        #expect(degraded?.message?.contains("minReplicas 9 is above maxReplicas 8") == true)
        #expect(try await deployments(client, ns).isEmpty)
    }

    @Test func controllerRestartMakesNoDuplicates() async throws {
        let client = try KubeTestEnvironment.client()
        defer { Task { try? await client.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "restart")
        _ = try await create(client, ns)
        let first = OperatorController(client: client, namespace: ns, resyncInterval: .seconds(1))
        let run1 = Task { await first.run() }
        try await KubeTestEnvironment.eventually("first controller reconciled") {
            try await client.get(LLMService.self, name: "smollm", namespace: ns).status?.observedGeneration == 1
        }
        try await KubeTestEnvironment.eventually("ReplicaSets created") {
            try await client.list(ReplicaSet.self, namespace: ns).items.count == 3
        }
        try await KubeTestEnvironment.eventually("pods created") {
            try await client.list(Pod.self, namespace: ns).items.count == 4
        }
        run1.cancel()
        await run1.value
        let second = OperatorController(client: client, namespace: ns, resyncInterval: .seconds(1))
        let run2 = Task { await second.run() }
        try await KubeTestEnvironment.eventually("second controller reconciled twice") { second.stats.reconciles >= 2 }
        run2.cancel()
        await run2.value
        #expect(try await deployments(client, ns).count == 3)
        #expect(try await client.list(ReplicaSet.self, namespace: ns).items.count == 3, "no new rollout")
        #expect(try await client.list(Service.self, namespace: ns).items.count == 3)
        #expect(try await client.list(Pod.self, namespace: ns).items.count == 4)
    }
}
