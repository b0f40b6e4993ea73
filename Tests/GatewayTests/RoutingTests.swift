import Gateway
import Testing

@Suite struct RoutingTests {
    func replicas(_ n: Int, tp: [Int]? = nil) throws -> [Replica] {
        try (0..<n).map { try Replica(BackendConfiguration(url: "http://127.0.0.1:\(9000 + $0)", tensorParallel: tp?[$0] ?? 1)) }
    }

    @Test func levelRisesAndFallsWithHysteresis() {
        var c = LoadLevelConfiguration()
        c.minDwellMs = 100
        var t = LoadLevelTracker(configuration: c)
        let t0 = ContinuousClock.now
        #expect(t.update(load: 3, now: t0) == nil)
        #expect(t.update(load: 4, now: t0)?.to == .medium)
        #expect(t.update(load: 31, now: t0) == nil)
        let up = t.update(load: 32, now: t0)
        #expect(up?.from == .medium && up?.to == .high && up?.reason.contains("high.enter_at 32") == true)
        // Between exit and enter: stays high (hysteresis).
        #expect(t.update(load: 25, now: t0 + .seconds(1)) == nil)
        // Below exit but inside the dwell time: stays.
        #expect(t.update(load: 10, now: t0 + .milliseconds(50)) == nil)
        #expect(t.update(load: 10, now: t0 + .seconds(1))?.to == .medium)
        #expect(t.update(load: 3, now: t0 + .milliseconds(1050)) == nil)  // dwell again; 3 is above exit 2 anyway
        #expect(t.update(load: 1, now: t0 + .seconds(2))?.to == .low)
        // Straight from high to low when the load drops below medium's exit.
        _ = t.update(load: 40, now: t0 + .seconds(3))
        #expect(t.level == .high)
        #expect(t.update(load: 0, now: t0 + .seconds(4))?.to == .low)
    }

    @Test func roundRobinAndLeastOutstanding() throws {
        let rs = try replicas(3)
        let router = RequestRouter(configuration: RoutingConfiguration())
        let picked = (0..<6).map { _ in router.pick(.roundRobin, among: rs, key: .init()).replica.url }
        #expect(Set(picked).count == 3)
        #expect(picked[0] == picked[3] && picked[1] == picked[4])
        rs[0].inflightCounter.store(5, ordering: .relaxed)
        rs[1].inflightCounter.store(1, ordering: .relaxed)
        rs[2].inflightCounter.store(3, ordering: .relaxed)
        for _ in 0..<5 { #expect(router.pick(.leastOutstanding, among: rs, key: .init()).replica === rs[1]) }
        // Power of two never picks the busiest of three.
        for _ in 0..<50 { #expect(router.pick(.powerOfTwo, among: rs, key: .init()).replica !== rs[0]) }
    }

    @Test func prefixAffinityFollowsSharedPrefixesWithAGuard() throws {
        let rs = try replicas(4)
        var rc = RoutingConfiguration()
        rc.imbalanceGuard = 2
        let router = RequestRouter(configuration: rc)
        let system = String(repeating: "You are a helpful assistant. ", count: 20)
        func key(_ user: String) -> RequestRouter.Key {
            var h = RoutingHints()
            h.promptText = "system\n" + system + "\nuser\n" + user
            return .init(prefixHashes: h.prefixHashes(blockChars: 128, maxBlocks: 32))
        }
        let first = router.pick(.prefixAffinity, among: rs, key: key("What is 2+2?"))
        #expect(first.reason == "miss")
        for q in ["Name a color.", "Tell me a joke.", "Why is the sky blue?"] {
            let d = router.pick(.prefixAffinity, among: rs, key: key(q))
            #expect(d.replica === first.replica && d.reason == "hit")
        }
        // The owner gets busy beyond the guard: least-load takes over.
        first.replica.inflightCounter.store(10, ordering: .relaxed)
        let d = router.pick(.prefixAffinity, among: rs, key: key("Another question"))
        #expect(d.replica !== first.replica && d.reason == "imbalance")
    }

    @Test func sessionHeaderSticks() throws {
        let rs = try replicas(5)
        let router = RequestRouter(configuration: RoutingConfiguration())
        let a = router.pick(.powerOfTwo, among: rs, key: .init(session: "user-42"))
        for _ in 0..<10 { #expect(router.pick(.roundRobin, among: rs, key: .init(session: "user-42")).replica === a.replica) }
        #expect(a.policy == .sessionAffinity)
        let sessions = Set((0..<40).map { router.pick(.random, among: rs, key: .init(session: "s\($0)")).replica.url })
        #expect(sessions.count >= 3)  // sessions spread over replicas
    }

    @Test func tensorParallelPoolsBySwitchPoint() throws {
        var c = GatewayConfiguration()
        c.backends = [BackendConfiguration(url: "http://127.0.0.1:9100", pool: "tp2", tensorParallel: 2),
                      BackendConfiguration(url: "http://127.0.0.1:9101", pool: "tp1", tensorParallel: 1),
                      BackendConfiguration(url: "http://127.0.0.1:9102", pool: "tp1", tensorParallel: 1)]
        c.loadLevels.tpSwitchPoint = 4
        let core = try GatewayCore(configuration: c)
        for r in core.pool.all { _ = r.recordCheck(ok: true, error: nil, thresholds: c.healthCheck, now: .now) }
        #expect(core.candidates().map(\.tensorParallel) == [2])
        core.totalInflight.store(4, ordering: .relaxed)
        #expect(core.candidates().map(\.tensorParallel) == [1, 1])
    }

    @Test func prefixHashesShareLeadingBlocksOnly() {
        var a = RoutingHints(), b = RoutingHints()
        a.promptText = String(repeating: "x", count: 300) + "tail-a"
        b.promptText = String(repeating: "x", count: 300) + "tail-b"
        let ha = a.prefixHashes(blockChars: 100, maxBlocks: 8), hb = b.prefixHashes(blockChars: 100, maxBlocks: 8)
        #expect(ha.count == 3 && ha == hb)  // partial last blocks are not hashed
        b.promptText = "y" + b.promptText
        #expect(b.prefixHashes(blockChars: 100, maxBlocks: 8)[0] != ha[0])
        var short = RoutingHints()
        short.promptText = "hi"
        #expect(short.prefixHashes(blockChars: 100, maxBlocks: 8).count == 1)
    }
}
