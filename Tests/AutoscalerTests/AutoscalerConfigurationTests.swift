import Autoscaler
import Foundation
import Testing

@Suite struct AutoscalerConfigurationTests {
    @Test func defaults() throws {
        let c = AutoscalerConfiguration()
        try c.validate()
        #expect(c.targetPerReplica == 8 && c.metric == .inFlight)
        #expect(c.stableWindow == 60 && c.panicWindow == 6 && c.panicThreshold == 2 && c.panicHold == 60)
        #expect(c.tolerance == 0.1 && c.scaleDownStabilization == 300)
        #expect(c.maxScaleUpRate == 10 && c.maxScaleDownRate == 2)
        #expect(c.minReplicas == 1 && c.maxReplicas == 10)
        #expect(!c.scaleToZero && c.scaleToZeroGracePeriod == 30)
        #expect(c.sampleRetention == 300)
    }

    static let invalid: [(AutoscalerConfiguration, String, String)] = [
        (AutoscalerConfiguration(targetPerReplica: 0), "targetPerReplica", "target_per_replica"),
        (AutoscalerConfiguration(targetPerReplica: -1), "targetPerReplica", "target_per_replica"),
        (AutoscalerConfiguration(targetPerReplica: .nan), "targetPerReplica", "target_per_replica"),
        (AutoscalerConfiguration(stableWindow: -1), "stableWindow", "stable_window"),
        (AutoscalerConfiguration(panicWindow: -6), "panicWindow", "panic_window"),
        (AutoscalerConfiguration(stableWindow: 30, panicWindow: 60), "panicWindow", "panic_window"),
        (AutoscalerConfiguration(panicThreshold: 1), "panicThreshold", "panic_threshold"),
        (AutoscalerConfiguration(tolerance: -0.1), "tolerance", "tolerance"),
        (AutoscalerConfiguration(tolerance: 1), "tolerance", "tolerance"),
        (AutoscalerConfiguration(scaleDownStabilization: -5), "scaleDownStabilization", "scale_down_stabilization"),
        (AutoscalerConfiguration(maxScaleUpRate: 0.5), "maxScaleUpRate", "max_scale_up_rate"),
        (AutoscalerConfiguration(maxScaleDownRate: 0.9), "maxScaleDownRate", "max_scale_down_rate"),
        (AutoscalerConfiguration(minReplicas: -1), "minReplicas", "min_replicas"),
        (AutoscalerConfiguration(maxReplicas: 0), "maxReplicas", "max_replicas"),
        (AutoscalerConfiguration(minReplicas: 5, maxReplicas: 3), "minReplicas", "min_replicas"),
        (AutoscalerConfiguration(scaleToZeroGracePeriod: -1), "scaleToZeroGracePeriod", "scale_to_zero_grace_period"),
    ]

    @Test(arguments: invalid)
    func validationNamesTheField(config: AutoscalerConfiguration, field: String, key: String) {
        do {
            try config.validate()
            Issue.record("\(field): no error")
        } catch let error as AutoscalerConfigurationError {
            #expect(error.field == field)
            #expect(error.key == key)
            #expect(error.description.hasPrefix(key + " "))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func minAboveMaxMessageNamesBoth() {
        #expect(throws: AutoscalerConfigurationError(field: "minReplicas", key: "min_replicas",
                                                     message: "must not exceed max_replicas (5 > 3)")) {
            try AutoscalerConfiguration(minReplicas: 5, maxReplicas: 3).validate()
        }
    }

    @Test func decodesSnakeCaseKeysWithDefaults() throws {
        let decoder = JSONDecoder()
        #expect(try decoder.decode(AutoscalerConfiguration.self, from: Data("{}".utf8)) == AutoscalerConfiguration())
        let c = try decoder.decode(AutoscalerConfiguration.self, from: Data("""
            {"target_per_replica": 4, "metric": "queue_depth", "min_replicas": 0, "scale_to_zero": true,
             "scale_to_zero_grace_period": 45, "max_scale_up_rate": 3.5}
            """.utf8))
        #expect(c == AutoscalerConfiguration(targetPerReplica: 4, metric: .queueDepth, maxScaleUpRate: 3.5,
                                             minReplicas: 0, scaleToZero: true, scaleToZeroGracePeriod: 45))
        let roundTrip = try decoder.decode(AutoscalerConfiguration.self, from: JSONEncoder().encode(c))
        #expect(roundTrip == c)
        #expect(throws: DecodingError.self) {
            try decoder.decode(AutoscalerConfiguration.self, from: Data(#"{"metric": "vibes"}"#.utf8))
        }
        #expect(ScalingMetric.allCases.map(\.rawValue) == ["in_flight", "queue_depth", "kv_cache_usage", "tokens_per_second"])
    }
}
