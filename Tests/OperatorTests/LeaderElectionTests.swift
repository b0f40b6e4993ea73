import Foundation
import KubernetesClient
import Synchronization
import Testing

@Suite("Leader election through a Lease", .enabled(if: KubeTestEnvironment.available), .timeLimit(.minutes(2)))
struct LeaderElectionTests {
    func elector(_ client: KubeClient, _ ns: String, _ id: String,
                 leaseDuration: Duration = .seconds(3), renewDeadline: Duration = .seconds(2)) -> LeaderElector {
        var c = LeaderElector.Configuration(leaseName: "op", namespace: ns, identity: id)
        c.leaseDuration = leaseDuration
        c.renewDeadline = renewDeadline
        c.retryPeriod = .milliseconds(300)
        return LeaderElector(client: client, configuration: c)
    }

    @Test func exactlyOneLeadsAndTheOtherTakesOverWhenItStops() async throws {
        let client = try KubeTestEnvironment.client()
        defer { Task { try? await client.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "lease")
        // Renewals must survive the whole test run's CPU load on 2 cores (a 2 s renew deadline lapsed
        // there once); the takeover below is by release, so the longer lease does not slow it.
        let a = elector(client, ns, "a", leaseDuration: .seconds(6), renewDeadline: .seconds(4))
        let b = elector(client, ns, "b", leaseDuration: .seconds(6), renewDeadline: .seconds(4))
        let leading = Leaders()
        let ta = leading.campaign(a, "a")
        let tb = leading.campaign(b, "b")
        try await KubeTestEnvironment.eventually("a leader") { leading.withLock { $0.count } == 1 }
        // Stays exactly one over several renewals.
        for _ in 0..<10 {
            try await Task.sleep(for: .milliseconds(200))
            #expect(leading.withLock { $0.count } == 1)
            #expect([a.isLeader, b.isLeader].filter { $0 }.count == 1)
        }
        let first = leading.withLock { $0.first! }
        (first == "a" ? ta : tb).cancel()
        let started = ContinuousClock.now
        let successor = first == "a" ? "b" : "a"
        try await KubeTestEnvironment.eventually("takeover") { leading.withLock { $0 } == [successor] }
        // The lease was released: no need to wait for it to expire.
        #expect(ContinuousClock.now - started < .seconds(3))
        let lease = try await client.get(Lease.self, name: "op", namespace: ns)
        #expect(lease.spec?.holderIdentity == successor)
        #expect((lease.spec?.leaseTransitions ?? 0) >= 1)
        ta.cancel()
        tb.cancel()
        await ta.value
        await tb.value
    }

    @Test func anAbandonedLeaseIsTakenOnlyAfterItExpires() async throws {
        let client = try KubeTestEnvironment.client()
        defer { Task { try? await client.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "expiry")
        let a = elector(client, ns, "crashed"), b = elector(client, ns, "standby")
        #expect(try await a.tryAcquireOrRenew())
        // "crashed" never renews (as if killed -9).
        #expect(try await b.tryAcquireOrRenew() == false)
        try await Task.sleep(for: .seconds(1))
        #expect(try await b.tryAcquireOrRenew() == false)
        try await Task.sleep(for: .seconds(2.5))
        #expect(try await b.tryAcquireOrRenew())
        #expect(try await client.get(Lease.self, name: "op", namespace: ns).spec?.holderIdentity == "standby")
        #expect(try await a.tryAcquireOrRenew() == false, "the old holder must not get it back while standby renews")
    }
}

/// Who is leading right now, as seen by the `lead` closures.
final class Leaders: Sendable {
    private let set = Mutex<Set<String>>([])

    func withLock<R>(_ body: (inout Set<String>) -> R) -> R { set.withLock { body(&$0) } }

    func campaign(_ e: LeaderElector, _ id: String) -> Task<Void, Never> {
        Task {
            await e.run {
                self.withLock { _ = $0.insert(id) }
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(50)) }
                self.withLock { _ = $0.remove(id) }
            }
        }
    }
}
