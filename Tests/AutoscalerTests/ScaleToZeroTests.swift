import Autoscaler
import Testing

@Suite struct ScaleToZeroTests {
    /// Short windows and no stabilization so that only the grace period decides.
    static let zeroConfig = AutoscalerConfiguration(stableWindow: 10, panicWindow: 2, scaleDownStabilization: 0,
                                                    minReplicas: 0, scaleToZero: true, scaleToZeroGracePeriod: 30)

    @Test func scalesToZeroOnlyAfterTheGracePeriod() {
        var sim = Simulation(Self.zeroConfig, replicas: 1)
        sim.run(60, demand: 4)
        let idleStart = sim.time + 1  // the first zero sample
        let idle = sim.run(120, demand: 0)
        let firstZero = idle.first { $0.decision.desiredReplicas == 0 }
        #expect(firstZero?.time == idleStart + 30)
        #expect(firstZero?.decision.reason.contains("scale to zero after 30s idle") == true)
        let before = idle.filter { $0.time < idleStart + 30 }
        #expect(before.allSatisfy { $0.decision.desiredReplicas == 1 })
        #expect(before.last?.decision.reason.contains("kept at 1 replica until demand has been 0 for 30s") == true)
        // Once at zero with no demand it stays there.
        #expect(idle.filter { $0.time >= idleStart + 30 }.allSatisfy { $0.decision.desiredReplicas == 0 })
        #expect(sim.current == 0)
    }

    @Test func aBlipOfDemandRestartsTheGracePeriod() {
        var sim = Simulation(Self.zeroConfig, replicas: 1)
        sim.run(20, demand: 4)
        let start = sim.time
        // Idle, one request at +20, then idle again.
        let steps = sim.run(120) { t in t == start + 20 ? 1 : 0 }
        let firstZero = steps.first { $0.decision.desiredReplicas == 0 }
        #expect(firstZero?.time == start + 21 + 30)
    }

    @Test func neverScalesToZeroUnlessEnabledWithMinReplicasZero() {
        var disabled = Self.zeroConfig
        disabled.scaleToZero = false
        var sim = Simulation(disabled, replicas: 1)
        sim.run(30, demand: 4)
        let steps = sim.run(600, demand: 0)
        #expect(steps.allSatisfy { $0.decision.desiredReplicas == 1 })
        #expect(sim.last.decision.reason.contains("scale to zero is disabled"))

        var minOne = Self.zeroConfig
        minOne.minReplicas = 1
        var sim2 = Simulation(minOne, replicas: 1)
        sim2.run(30, demand: 4)
        #expect(sim2.run(600, demand: 0).allSatisfy { $0.decision.desiredReplicas == 1 })

        // With the default 300s stabilization, zero comes only after that window as well.
        var slow = Self.zeroConfig
        slow.scaleDownStabilization = 300
        var sim3 = Simulation(slow, replicas: 1)
        sim3.run(30, demand: 4)
        let idleStart = sim3.time
        let idle = sim3.run(600, demand: 0)
        let firstZero = idle.first { $0.decision.desiredReplicas == 0 }
        #expect(firstZero.map { $0.time >= idleStart + 300 } == true)
    }

    @Test func scalesFromZeroAtOnceWhenDemandArrives() {
        var scaler = Autoscaler(configuration: Self.zeroConfig)
        for t in 0..<100 { scaler.record(LoadSample(time: Double(t), demand: 0)) }
        #expect(scaler.decide(now: 99, currentReplicas: 0, readyReplicas: 0).desiredReplicas == 0)

        scaler.record(LoadSample(time: 100, demand: 1))
        let d = scaler.decide(now: 100, currentReplicas: 0, readyReplicas: 0)
        #expect(d.desiredReplicas == 1)
        #expect(d.inPanic)
        #expect(d.reason.hasPrefix("scale from zero: demand 1.0 with no replicas"))

        // A big burst at an empty pool starts enough replicas right away.
        var cold = Autoscaler(configuration: Self.zeroConfig)
        cold.record(LoadSample(time: 0, demand: 40))
        #expect(cold.decide(now: 0, currentReplicas: 0, readyReplicas: 0).desiredReplicas == 5)

        // While the first replicas start (none ready), nothing is taken away.
        cold.record(LoadSample(time: 1, demand: 8))
        let starting = cold.decide(now: 1, currentReplicas: 5, readyReplicas: 0)
        #expect(starting.desiredReplicas == 5)
        #expect(starting.inPanic)

        // Scale from zero also works with the default configuration (minReplicas 1).
        var plain = Autoscaler()
        plain.record(LoadSample(time: 0, demand: 3))
        #expect(plain.decide(now: 0, currentReplicas: 0, readyReplicas: 0).desiredReplicas >= 1)
    }
}
