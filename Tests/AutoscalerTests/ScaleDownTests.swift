import Autoscaler
import Testing

@Suite struct ScaleDownTests {
    @Test func noScaleDownWhileInPanicEvenIfLoadDrops() {
        var sim = Simulation(replicas: 1)
        sim.run(120, demand: 2)
        sim.run(10, demand: 64)
        #expect(sim.last.decision.inPanic)
        let peak = sim.current
        #expect(peak == 8)

        let drop = sim.run(400, demand: 0)
        let panicking = drop.prefix { $0.decision.inPanic }
        #expect(panicking.count >= 40)  // the overload was last seen a few seconds into the burst
        #expect(panicking.allSatisfy { $0.decision.desiredReplicas >= $0.currentBefore })
        #expect(panicking.allSatisfy { $0.decision.desiredReplicas == peak })
        #expect(panicking.last?.decision.reason.hasPrefix("panic: never scaling down") == true)
        // Panic ends; the stabilization window (fed with the panic recommendations) still holds the
        // peak for 300s, and then the count comes down no faster than halving per decision.
        #expect(drop.prefix(300).allSatisfy { $0.decision.desiredReplicas == peak })
        #expect(sim.current == 1)
        for s in drop { #expect(s.decision.desiredReplicas >= s.currentBefore / 2) }
    }

    @Test func panicEndsAfterAFullHoldWithoutOverload() {
        var scaler = Autoscaler()
        for t in 0...10 { scaler.record(LoadSample(time: Double(t), demand: 64)) }
        #expect(scaler.decide(now: 10, currentReplicas: 2, readyReplicas: 2).inPanic)
        for t in 11...80 {
            scaler.record(LoadSample(time: Double(t), demand: 0))
            let d = scaler.decide(now: Double(t), currentReplicas: 8, readyReplicas: 8)
            #expect(d.inPanic == (t < 70), "t=\(t)")
            #expect(d.desiredReplicas == 8, "t=\(t)")
        }
        #expect(!scaler.inPanic)
    }

    @Test func scaleDownWaitsForTheStabilizationWindowAndHonoursTheRate() {
        // Defaults: 300s stabilization, scale-down rate 2.
        var sim = Simulation(replicas: 4)
        sim.run(400, demand: 32)
        #expect(sim.current == 4)
        let dropStart = sim.time
        let drop = sim.run(600, demand: 8)
        #expect(drop.allSatisfy { !$0.decision.inPanic })
        #expect(drop.filter { $0.time < dropStart + 300 }.allSatisfy { $0.decision.desiredReplicas == 4 })
        let firstDown = drop.first { $0.decision.desiredReplicas < $0.currentBefore }
        #expect(firstDown.map { $0.time >= dropStart + 300 } == true)
        #expect(firstDown?.decision.reason.contains("stabilization window") == true)
        for s in drop { #expect(s.decision.desiredReplicas >= s.currentBefore / 2, "at \(s.time)") }
        #expect(sim.current == 1)
    }

    @Test func scaleDownRateLimitBindsWhenRecommendationsDropAtOnce() {
        let config = AutoscalerConfiguration(stableWindow: 2, panicWindow: 1, scaleDownStabilization: 20)
        var sim = Simulation(config, replicas: 8)
        sim.run(30, demand: 64)
        let drop = sim.run(30, demand: 0)
        let counts = drop.map(\.decision.desiredReplicas)
        #expect(Array(counts.prefix(21)) == Array(repeating: 8, count: 21))
        #expect(Array(counts[21..<25]) == [4, 2, 1, 1])
        #expect(drop[1].decision.reason.contains("scale-down held by stabilization window (max recommendation 8 in the last 20s)"))
        #expect(drop[22].decision.reason.contains("limited by max scale-down rate (at least 2 from 4)"))
        #expect(sim.current == 1)

        // A gentler rate takes more steps.
        var slow = Simulation(AutoscalerConfiguration(stableWindow: 2, panicWindow: 1, scaleDownStabilization: 0,
                                                      maxScaleDownRate: 1.25), replicas: 8)
        slow.run(30, demand: 64)
        let slowDrop = slow.run(30, demand: 0).map(\.decision.desiredReplicas)
        #expect(Array(slowDrop.prefix(8)) == [8, 6, 4, 3, 2, 1, 1, 1])
    }
}
