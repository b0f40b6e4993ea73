import Autoscaler
import Testing

@Suite("One autoscaler per pool")
struct PoolAutoscalersTests {
    @Test func poolsScaleIndependentlyAndForgetOnReconfigure() {
        var pools = PoolAutoscalers()
        var small = AutoscalerConfiguration(targetPerReplica: 4)
        small.maxReplicas = 3
        pools.configure(pool: "a", small)
        pools.configure(pool: "b", AutoscalerConfiguration(targetPerReplica: 4))
        #expect(pools.step(pool: "missing", now: 0, demand: 1, currentReplicas: 1, readyReplicas: 1) == nil)
        var a = 1, b = 1
        for t in 0..<10 {
            a = pools.step(pool: "a", now: Double(t), demand: 32, currentReplicas: a, readyReplicas: a)!.desiredReplicas
            b = pools.step(pool: "b", now: Double(t), demand: 2, currentReplicas: b, readyReplicas: b)!.desiredReplicas
        }
        #expect(a == 3, "capped by pool a's maxReplicas")
        #expect(b == 1)
        pools.retain(["b"])
        #expect(pools.pools == ["b"])
    }
}
