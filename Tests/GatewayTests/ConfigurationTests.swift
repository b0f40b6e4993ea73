import Gateway
import Testing

@Suite struct ConfigurationTests {
    @Test func parsesAFullFile() throws {
        let c = try GatewayConfiguration.parse(yaml: """
            port: 9000
            backends:
              - http://127.0.0.1:8001
              - url: http://127.0.0.1:8002
                pool: tp2
                tensor_parallel: 2
            health_check: {interval_ms: 200, unhealthy_threshold: 3}
            routing: {prefix_block_chars: 64, imbalance_guard: 4}
            load_levels:
              medium: {policy: round_robin, enter_at: 8, exit_at: 4}
              min_dwell_ms: 0
              tp_switch_point: 16
            admission: {queue_size: 10, timeout_ms: 500}
            limits: {requests_per_minute: 60}
            api_keys: [k1]
            """)
        #expect(c.port == 9000)
        #expect(c.backends == [BackendConfiguration(url: "http://127.0.0.1:8001"),
                               BackendConfiguration(url: "http://127.0.0.1:8002", pool: "tp2", tensorParallel: 2)])
        #expect(c.healthCheck.intervalMs == 200 && c.healthCheck.unhealthyThreshold == 3 && c.healthCheck.healthyThreshold == 1)
        #expect(c.routing.prefixBlockChars == 64 && c.routing.imbalanceGuard == 4)
        #expect(c.loadLevels.medium == LevelSettings(policy: .roundRobin, enterAt: 8, exitAt: 4))
        #expect(c.loadLevels.high.policy == .leastOutstanding)  // untouched default
        #expect(c.loadLevels.minDwellMs == 0 && c.loadLevels.tpSwitchPoint == 16)
        #expect(c.admission.queueSize == 10 && c.limits.requestsPerMinute == 60 && c.apiKeys == ["k1"])
        #expect(try GatewayConfiguration.parse(yaml: "") == GatewayConfiguration())
    }

    @Test func errorsNameTheProblem() {
        func message(_ yaml: String) -> String {
            do {
                _ = try GatewayConfiguration.parse(yaml: yaml, source: "g.yaml")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(message("routing: {policy: fastest}").contains("unknown policy 'fastest'"))
        #expect(message("routing: {policy: fastest}").contains("g.yaml"))
        #expect(message("load_levels: {high: {policy: random, enter_at: 5, exit_at: 9}}").contains("exit_at must be below enter_at"))
        #expect(message("backends: [ftp://x:1]").contains("not an http://host:port URL"))
        #expect(message("backends: ['http://x:1/v1']").contains("must not have a path"))
        #expect(message("port: lots").contains("'port' has the wrong type"))
        #expect(message("port: 70000").contains("port must be between"))
        #expect(message("backends: [http://a:1, http://a:1]") == "no error")  // duplicates are caught by the pool
        #expect(throws: ConfigurationError.self) { try ReplicaPool([BackendConfiguration(url: "http://a:1"), BackendConfiguration(url: "http://a:1")]) }
    }
}
