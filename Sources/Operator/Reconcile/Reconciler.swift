import Foundation
import KubernetesClient
import Logging

/// Brings one LLMService's objects to the desired state (level-based and idempotent: running it twice
/// changes nothing) and writes what it saw into the LLMService's status.
public struct Reconciler: Sendable {
    let client: KubeClient
    let events: EventRecorder
    let logger: Logger
    /// The ClusterRole bound to each gateway's service account (pods get/list/watch).
    let gatewayClusterRole: String

    public init(client: KubeClient, gatewayClusterRole: String = Defaults.gatewayClusterRole,
                logger: Logger = Logger(label: "scalellm.operator")) {
        self.client = client
        self.gatewayClusterRole = gatewayClusterRole
        self.events = EventRecorder(client: client, component: "scalellm-operator", logger: logger)
        self.logger = logger
    }

    /// Applies the children, removes pools that left the spec, and updates the status.
    public func reconcile(_ service: LLMService) async throws {
        guard service.metadata.deletionTimestamp == nil, let name = service.metadata.name else { return }
        let ns = service.metadata.namespace
        do {
            try service.spec.validate()
            var replicas: [String: Int] = [:]
            var existing: [String: Deployment] = [:]
            for pool in service.spec.pools {
                let objectName = DesiredState.poolObjectName(service: name, pool: pool.name)
                if let d = try await client.getIfPresent(Deployment.self, name: objectName, namespace: ns) {
                    existing[pool.name] = d
                    replicas[pool.name] = d.spec?.replicas
                }
            }
            let desired = DesiredState(service: service, replicas: replicas, gatewayClusterRole: gatewayClusterRole)
            try await apply(desired.gatewayServiceAccount, owner: service)
            try await applyRoleBinding(desired.gatewayRoleBinding, owner: service)
            try await apply(desired.gatewayConfigMap, owner: service)
            var applied: [Deployment] = []
            for (pool, (d, s)) in zip(service.spec.pools, zip(desired.engineDeployments, desired.engineServices)) {
                applied.append(try await apply(d, owner: service, existing: existing[pool.name]))
                try await apply(s, owner: service)
            }
            let gateway = try await apply(desired.gatewayDeployment, owner: service)
            try await apply(desired.gatewayService, owner: service)
            try await prune(service)
            let pools = Array(zip(service.spec.pools, applied))
            try await writeStatus(service) { StatusBuilder(service: service, base: $0, pools: pools, gateway: gateway).status }
        } catch {
            await events.record(service, type: "Warning", reason: "ReconcileFailed", message: "\(error)")
            try? await writeStatus(service) { base in
                var status = base ?? LLMServiceStatus()
                status.conditions = StatusBuilder.setting(status.conditions, Condition(
                    type: "Degraded", status: "True", reason: "ReconcileFailed", message: "\(error)"))
                return status
            }
            throw error
        }
    }

    /// Server-side applies `object`; records an event when it was created or its spec changed.
    @discardableResult
    func apply<T: KubeResource>(_ object: T, owner: LLMService) async throws -> T {
        let before = try await client.getIfPresent(T.self, name: object.metadata.name ?? "", namespace: object.metadata.namespace)
        return try await apply(object, owner: owner, existing: before)
    }

    /// `apply` when the live object (`existing`, nil when absent) has just been read.
    @discardableResult
    func apply<T: KubeResource>(_ object: T, owner: LLMService, existing before: T?) async throws -> T {
        let after = try await client.apply(object)
        let kind = T.resource.kind
        if before == nil {
            logger.info("created \(kind) \(object.metadata.namespace ?? "")/\(object.metadata.name ?? "")")
            await events.record(owner, reason: "Created", message: "created \(kind) \(object.metadata.name ?? "")")
        } else if let g0 = before?.metadata.generation, let g1 = after.metadata.generation, g1 != g0 {
            logger.info("updated \(kind) \(object.metadata.namespace ?? "")/\(object.metadata.name ?? "") (generation \(g0) -> \(g1))")
            await events.record(owner, reason: "Updated", message: "updated \(kind) \(object.metadata.name ?? "") (generation \(g1))")
        }
        return after
    }

    /// A RoleBinding's roleRef cannot change: one bound to another role (the operator was started
    /// with another --gateway-cluster-role) is deleted and made again.
    func applyRoleBinding(_ binding: RoleBinding, owner: LLMService) async throws {
        var existing = try await client.getIfPresent(RoleBinding.self, name: binding.metadata.name ?? "",
                                                     namespace: binding.metadata.namespace)
        if let current = existing, current.roleRef != binding.roleRef {
            try await client.delete(RoleBinding.self, name: binding.metadata.name ?? "", namespace: binding.metadata.namespace)
            existing = nil
        }
        try await apply(binding, owner: owner, existing: existing)
    }

    /// Deletes engine Deployments and Services of pools no longer in the spec.
    func prune(_ service: LLMService) async throws {
        let name = service.metadata.name ?? ""
        let keep = Set(service.spec.pools.map(\.name))
        let selector = Labels.enginesSelector(name)
        let (deployments, _) = try await client.list(Deployment.self, namespace: service.metadata.namespace, labelSelector: selector)
        for d in deployments where !keep.contains(d.metadata.labels?[Labels.pool] ?? "") {
            try await client.delete(Deployment.self, name: d.metadata.name ?? "", namespace: d.metadata.namespace)
            await events.record(service, reason: "Deleted", message: "deleted Deployment \(d.metadata.name ?? "") (pool removed)")
        }
        let (services, _) = try await client.list(Service.self, namespace: service.metadata.namespace, labelSelector: selector)
        for s in services where !keep.contains(s.metadata.labels?[Labels.pool] ?? "") {
            try await client.delete(Service.self, name: s.metadata.name ?? "", namespace: s.metadata.namespace)
        }
    }

    /// Writes the status that `make` computes from the stored one, when it changed; on a 409
    /// Conflict it reads the object again and recomputes, so fields written meanwhile by others (the
    /// autoscaler's load level and scale reasons) and condition transition times are kept.
    func writeStatus(_ service: LLMService, _ make: (LLMServiceStatus?) -> LLMServiceStatus) async throws {
        // The caller read `service` just now: no write (and no read) when nothing changed.
        guard make(service.status) != service.status else { return }
        try await client.retryOnConflict {
            var fresh = try await client.get(LLMService.self, name: service.metadata.name ?? "", namespace: service.metadata.namespace)
            let status = make(fresh.status)
            guard status != fresh.status else { return }
            fresh.status = status
            _ = try await client.updateStatus(fresh)
        }
    }
}
