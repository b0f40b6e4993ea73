import Autoscaler
import Testing

@Suite struct DemandDataTests {
    @Test func noDataKeepsTheCurrentCount() {
        var scaler = Autoscaler()
        let empty = scaler.decide(now: 0, currentReplicas: 3, readyReplicas: 3)
        #expect(empty.desiredReplicas == 3)
        #expect(empty.reason.hasPrefix("no data in the last 60s"))

        // Stale data (nothing within the stable window) is no data too.
        scaler.record(LoadSample(time: 0, demand: 500))
        let stale = scaler.decide(now: 100, currentReplicas: 3, readyReplicas: 3)
        #expect(stale.desiredReplicas == 3 && !stale.inPanic)
        #expect(stale.reason.contains("no data"))

        // ...but the bounds still apply.
        var capped = Autoscaler(configuration: AutoscalerConfiguration(maxReplicas: 2))
        #expect(capped.decide(now: 0, currentReplicas: 3, readyReplicas: 3).desiredReplicas == 2)
    }

    @Test func averagesAreTimeWeighted() {
        let config = AutoscalerConfiguration(stableWindow: 20, panicWindow: 5)
        var scaler = Autoscaler(configuration: config)
        // 0 from t=0, 60 from t=15, 0 again from t=18.
        scaler.record(LoadSample(time: 0, demand: 0))
        scaler.record(LoadSample(time: 15, demand: 60))
        scaler.record(LoadSample(time: 18, demand: 0))
        let d = scaler.decide(now: 20, currentReplicas: 1, readyReplicas: 1)
        #expect(abs(d.stableDemand - 9) < 1e-9)   // 60 × 3s / 20s
        #expect(abs(d.panicDemand - 36) < 1e-9)   // 60 × 3s / 5s
        #expect(d.inPanic)                         // ceil(36 / 8) = 5 needed vs 1 ready
        #expect(d.desiredReplicas == 5)

        // A sample before the window supplies the value at the window start.
        var held = Autoscaler(configuration: config)
        held.record(LoadSample(time: 0, demand: 16))
        held.record(LoadSample(time: 50, demand: 16))
        let h = held.decide(now: 60, currentReplicas: 2, readyReplicas: 2)
        #expect(h.stableDemand == 16 && h.panicDemand == 16 && h.desiredReplicas == 2)
    }

    @Test func oddSamplesAreHandled() {
        var scaler = Autoscaler(configuration: AutoscalerConfiguration(stableWindow: 20, panicWindow: 5))
        scaler.record(LoadSample(time: 10, demand: 8))
        scaler.record(LoadSample(time: 5, demand: 8))       // late: inserted in order
        scaler.record(LoadSample(time: .nan, demand: 3))    // ignored
        scaler.record(LoadSample(time: 11, demand: .infinity))  // ignored
        scaler.record(LoadSample(time: 7, demand: -4))      // counts as 0
        #expect(scaler.bufferedSampleCount == 3)
        let d = scaler.decide(now: 10, currentReplicas: 1, readyReplicas: 1)
        #expect(abs(d.stableDemand - 8 * 2 / 5) < 1e-9)     // 8 for 2s, 0 for 3s
        // Samples newer than `now` are ignored by that decision.
        scaler.record(LoadSample(time: 30, demand: 1000))
        #expect(scaler.decide(now: 10, currentReplicas: 1, readyReplicas: 1).desiredReplicas == 1)
    }

    @Test func aLongTraceKeepsTheBuffersBounded() {
        var sim = Simulation(replicas: 2)
        sim.run(3600) { t in 16 + 12 * ((t / 90).rounded(.down).truncatingRemainder(dividingBy: 2)) }
        #expect(sim.steps.count == 3600)
        // Retention is max(60, 300, 30) = 300s: 301 samples in it plus the one in force at its start.
        #expect(sim.scaler.bufferedSampleCount <= 302)
        #expect(sim.scaler.bufferedRecommendationCount <= 301)

        // Very fast sampling is capped by count as well.
        var fast = Autoscaler()
        for i in 0..<(Autoscaler.maxBufferedSamples + 10_000) {
            fast.record(LoadSample(time: Double(i) * 0.001, demand: 1))
        }
        #expect(fast.bufferedSampleCount == Autoscaler.maxBufferedSamples)
    }
}
