import Autoscaler
import Testing

@Suite struct ScaleUpTests {
    @Test func steadyLoadAtTargetKeepsTheReplicaCount() {
        var sim = Simulation(replicas: 2)
        let steps = sim.run(600, demand: 16)
        #expect(steps.allSatisfy { $0.decision.desiredReplicas == 2 && !$0.decision.inPanic })
        #expect(sim.last.decision.reason.contains("within tolerance"))

        // Noisy load (±25% per sample) that averages to the target does not move it either.
        var noisy = Simulation(replicas: 2)
        noisy.run(60, demand: 16)
        let noisySteps = noisy.run(600) { t in Int(t) % 2 == 0 ? 12 : 20 }
        #expect(noisySteps.allSatisfy { $0.decision.desiredReplicas == 2 && !$0.decision.inPanic })
    }

    @Test func stepLoadPanicsWithinThePanicWindowAndScalesUp() {
        // Target 8 per replica; 2 -> 32 concurrent needs 4 replicas. New replicas take 30s to be ready.
        var sim = Simulation(replicas: 1, readyDelay: 30)
        let calm = sim.run(120, demand: 2)
        #expect(calm.allSatisfy { $0.decision.desiredReplicas == 1 && !$0.decision.inPanic })

        let stepStart = sim.time
        let burst = sim.run(60, demand: 32)
        let firstPanic = burst.first { $0.decision.inPanic }
        #expect(firstPanic != nil)
        #expect(firstPanic.map { $0.time - stepStart <= 6 } == true)
        #expect(firstPanic?.decision.reason.hasPrefix("panic: demand") == true)
        let fourBy = burst.first { $0.decision.desiredReplicas >= 4 }
        #expect(fourBy.map { $0.time - stepStart <= 6 } == true)
        #expect(burst.map(\.decision.desiredReplicas).max() == 4)
        #expect(sim.current == 4)
    }

    @Test func panicReasonDescribesTheOverload() {
        var scaler = Autoscaler()
        for t in 0...10 { scaler.record(LoadSample(time: Double(t), demand: 64)) }
        let d = scaler.decide(now: 10, currentReplicas: 2, readyReplicas: 2)
        #expect(d.inPanic)
        #expect(d.desiredReplicas == 8)
        #expect(d.panicDemand == 64 && d.stableDemand == 64)
        #expect(d.reason == "panic: demand 64.0 in 6s window is 4.0x capacity of 2 replicas")
    }

    @Test func scaleUpIsCappedByMaxScaleUpRatePerDecision() {
        var config = AutoscalerConfiguration(maxScaleUpRate: 2, maxReplicas: 100)
        var scaler = Autoscaler(configuration: config)
        var t = 0.0
        for _ in 0...10 { scaler.record(LoadSample(time: t, demand: 80)); t += 1 }
        var replicas = 1
        var seen: [Int] = []
        for _ in 0..<5 {
            let d = scaler.decide(now: t - 1, currentReplicas: replicas, readyReplicas: replicas)
            if d.desiredReplicas < 10 { #expect(d.reason.contains("capped by max scale-up rate")) }
            replicas = d.desiredReplicas
            seen.append(replicas)
            scaler.record(LoadSample(time: t, demand: 80)); t += 1
        }
        #expect(seen == [2, 4, 8, 10, 10])

        // The default rate of 10: 1 ready replica may become at most 10 in one decision.
        config.maxScaleUpRate = 10
        scaler = Autoscaler(configuration: config)
        for s in 0...10 { scaler.record(LoadSample(time: Double(s), demand: 200)) }
        #expect(scaler.decide(now: 10, currentReplicas: 1, readyReplicas: 1).desiredReplicas == 10)
        #expect(scaler.decide(now: 10, currentReplicas: 10, readyReplicas: 10).desiredReplicas == 25)
        // The cap follows ready replicas, and never forces a scale-down below the current count.
        let lagging = scaler.decide(now: 10, currentReplicas: 12, readyReplicas: 1)
        #expect(lagging.desiredReplicas == 12)
        #expect(lagging.reason.contains("capped by max scale-up rate"))
    }

    @Test func everyDecisionRespectsTheScaleUpRateOnATrace() {
        var sim = Simulation(AutoscalerConfiguration(maxScaleUpRate: 2, maxReplicas: 50), replicas: 1, readyDelay: 3)
        sim.run(60, demand: 4)
        sim.run(120) { t in 200 + 50 * ((t / 7).rounded(.down).truncatingRemainder(dividingBy: 3)) }
        for s in sim.steps where s.decision.desiredReplicas > s.currentBefore {
            let cap = max(Int((Double(max(s.readyBefore, 1)) * 2).rounded(.up)), s.readyBefore + 1)
            #expect(s.decision.desiredReplicas <= cap, "at \(s.time): \(s.decision)")
        }
        #expect(sim.current >= 25)
    }

    @Test func toleranceAbsorbsSmallDeviations() {
        // 10% over (17.6 for 2 replicas at target 8) and 10% under (14.4) do not scale.
        for demand in [17.6, 14.4] {
            var sim = Simulation(replicas: 2)
            let steps = sim.run(400, demand: demand)
            #expect(steps.allSatisfy { $0.decision.desiredReplicas == 2 }, "demand \(demand)")
            #expect(sim.last.decision.reason.contains("within tolerance"))
        }
        // 12.5% over does.
        var sim = Simulation(replicas: 2)
        sim.run(10, demand: 18)
        #expect(sim.current == 3)
        #expect(sim.steps[0].decision.reason.hasPrefix("scale up: stable demand 18.0 over 60s needs 3 replicas"))
        // A larger tolerance widens the band.
        var wide = Simulation(AutoscalerConfiguration(tolerance: 0.3), replicas: 2)
        #expect(wide.run(100, demand: 20).allSatisfy { $0.decision.desiredReplicas == 2 })
    }

    @Test func clampsToMinAndMaxReplicas() {
        var big = Simulation(AutoscalerConfiguration(maxReplicas: 10), replicas: 10)
        let first = big.run(1, demand: 1000)[0].decision
        #expect(first.desiredReplicas == 10)
        #expect(first.reason.contains("clamped to maxReplicas 10"))
        #expect(big.run(300, demand: 1000).allSatisfy { $0.decision.desiredReplicas == 10 })

        var small = Simulation(AutoscalerConfiguration(minReplicas: 3), replicas: 1)
        let raised = small.run(1, demand: 0)[0].decision
        #expect(raised.desiredReplicas == 3)
        #expect(raised.reason.contains("raised to minReplicas 3"))
        #expect(small.run(900, demand: 0).allSatisfy { $0.decision.desiredReplicas == 3 })
    }
}
