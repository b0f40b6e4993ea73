import Foundation
import Gateway
import Testing

@Suite struct LimitsTests {
    @Test func apiKeysAreCheckedExactly() {
        let keys = APIKeys(keys: ["sk-alpha", "sk-beta"])
        #expect(keys.authenticate("Bearer sk-beta") == 1)
        #expect(keys.authenticate("bearer sk-alpha") == 0)
        #expect(keys.authenticate("Bearer sk-alph") == nil)
        #expect(keys.authenticate("Bearer sk-alpha2") == nil)
        #expect(keys.authenticate("Basic sk-alpha") == nil)
        #expect(keys.authenticate(nil) == nil)
        #expect(!keys.isOpen && APIKeys(keys: []).isOpen)
        #expect(APIKeys(keys: [], adminToken: "adm").authorizeAdmin("Bearer adm"))
        #expect(!APIKeys(keys: [], adminToken: "adm").authorizeAdmin("Bearer sk-alpha"))
        #expect(APIKeys.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!APIKeys.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!APIKeys.constantTimeEqual([], Array("a".utf8)))
    }

    @Test func keysFromFileAndEnvironment() throws {
        let path = "/tmp/scalellm-keys-\(UInt32.random(in: 0...UInt32.max))"
        try "# team keys\nsk-file-1\n\n  sk-file-2  \n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var c = GatewayConfiguration()
        c.apiKeyFile = path
        let keys = try APIKeys.load(c, environment: ["SCALELLM_API_KEYS": "sk-env-1, sk-env-2"])
        for k in ["sk-file-1", "sk-file-2", "sk-env-1", "sk-env-2"] { #expect(keys.authenticate("Bearer \(k)") != nil) }
        #expect(keys.authenticate("Bearer # team keys") == nil)
        c.apiKeyFile = "/nonexistent/keys"
        #expect(throws: ConfigurationError.self) { try APIKeys.load(c, environment: [:]) }
    }

    @Test func rateLimitsRefillOverAMinute() {
        let limiter = RateLimiter(requestsPerMinute: 2, tokensPerMinute: 100)
        let t0 = ContinuousClock.now
        #expect(limiter.charge("a", tokens: 10, now: t0) == nil)
        #expect(limiter.charge("a", tokens: 10, now: t0) == nil)
        let hit = limiter.charge("a", tokens: 10, now: t0)
        #expect(hit?.limit.contains("requests per minute") == true && hit!.retryAfter >= 1 && hit!.retryAfter <= 30)
        #expect(limiter.charge("b", tokens: 90, now: t0) == nil)  // keys are separate
        #expect(limiter.charge("b", tokens: 50, now: t0)?.limit.contains("tokens per minute") == true)
        #expect(limiter.charge("a", tokens: 10, now: t0 + .seconds(30)) == nil)  // one request refilled
    }

    @Test func admissionQueueIsBoundedFIFOWithTimeout() async {
        let q = AdmissionQueue(capacity: 2)
        async let a = q.wait(timeout: .seconds(10))
        async let b = q.wait(timeout: .seconds(10))
        while q.depth < 2 { try? await Task.sleep(for: .milliseconds(1)) }
        #expect(await q.wait(timeout: .seconds(10)) == .full)
        q.signal()
        q.signal()
        #expect(await a == .admitted)
        #expect(await b == .admitted)
        #expect(await q.wait(timeout: .milliseconds(20)) == .timedOut)
        #expect(q.depth == 0)
        let t = Task { await q.wait(timeout: .seconds(10)) }
        while q.depth < 1 { try? await Task.sleep(for: .milliseconds(1)) }
        t.cancel()
        #expect(await t.value == .cancelled)
    }
}
