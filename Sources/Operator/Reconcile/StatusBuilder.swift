import Foundation
import KubernetesClient

/// Computes an LLMService's status from its applied Deployments: replicas per pool and the Ready,
/// Progressing and Degraded conditions.
struct StatusBuilder {
    let status: LLMServiceStatus

    /// - Parameter base: the stored status; what the reconciler does not compute (the autoscaler's
    ///   fields, condition transition times) is kept from it.
    init(service: LLMService, base: LLMServiceStatus?, pools: [(PoolSpec, Deployment)], gateway: Deployment) {
        var s = base ?? LLMServiceStatus()
        s.observedGeneration = service.metadata.generation
        s.pools = pools.map { pool, d in
            let old = base?.pools?.first { $0.name == pool.name }
            return PoolStatus(name: pool.name, tensorParallel: pool.tp, desiredReplicas: d.spec?.replicas ?? 0,
                              readyReplicas: d.status?.readyReplicas ?? 0, lastScaleReason: old?.lastScaleReason)
        }
        let gatewayReady = gateway.status?.readyReplicas ?? 0
        s.gatewayReadyReplicas = gatewayReady
        s.loadLevel = s.loadLevel ?? "unknown"
        let name = service.metadata.name ?? ""
        let port = service.spec.gateway?.port ?? Defaults.gatewayServicePort
        s.endpoint = "http://\(name).\(service.metadata.namespace ?? "default").svc:\(port)/v1"

        let all = pools.map(\.1) + [gateway]
        var notReady: [String] = []
        for (pool, d) in pools where (d.status?.readyReplicas ?? 0) < (d.spec?.replicas ?? 0) || (d.spec?.replicas ?? 0) == 0 {
            notReady.append("pool \(pool.name): \(d.status?.readyReplicas ?? 0)/\(d.spec?.replicas ?? 0) ready")
        }
        if gatewayReady < 1 { notReady.append("gateway: \(gatewayReady)/\(gateway.spec?.replicas ?? 0) ready") }
        let rolling = all.filter { d in
            (d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)
                || (d.status?.updatedReplicas ?? 0) < (d.spec?.replicas ?? 0)
        }.compactMap(\.metadata.name)
        let failed = all.filter { d in
            d.status?.conditions?.contains { $0.type == "ReplicaFailure" && $0.status == "True" } ?? false
        }.compactMap(\.metadata.name)

        var c: [Condition] = s.conditions ?? []
        c = Self.setting(c, notReady.isEmpty
            ? Condition(type: "Ready", status: "True", reason: "AllReplicasReady", message: "every pool and the gateway have ready replicas")
            : Condition(type: "Ready", status: "False", reason: "ReplicasNotReady", message: notReady.joined(separator: "; ")))
        c = Self.setting(c, rolling.isEmpty
            ? Condition(type: "Progressing", status: "False", reason: "RolloutComplete", message: "every Deployment is up to date")
            : Condition(type: "Progressing", status: "True", reason: "RollingOut", message: "rolling out: " + rolling.joined(separator: ", ")))
        c = Self.setting(c, failed.isEmpty
            ? Condition(type: "Degraded", status: "False", reason: "Reconciled", message: "objects match the spec")
            : Condition(type: "Degraded", status: "True", reason: "ReplicaFailure", message: "cannot create pods: " + failed.joined(separator: ", ")))
        for i in c.indices { c[i].observedGeneration = service.metadata.generation }
        s.conditions = c
        status = s
    }

    /// Replaces (or adds) the condition of the same type, stamping the transition time when its
    /// status changed.
    static func setting(_ conditions: [Condition]?, _ new: Condition) -> [Condition] {
        var list = conditions ?? []
        var c = new
        if let i = list.firstIndex(where: { $0.type == new.type }) {
            c.lastTransitionTime = list[i].status == new.status ? list[i].lastTransitionTime : KubeTime.seconds(Date())
            c.observedGeneration = new.observedGeneration ?? list[i].observedGeneration
            list[i] = c
        } else {
            c.lastTransitionTime = KubeTime.seconds(Date())
            list.append(c)
        }
        return list
    }

}
