import Foundation
import Gateway
import Hummingbird
import NIOCore
import StubBackend
import Testing

/// The gateway over real loopback sockets, in front of stub replicas.
@Suite(.serialized) struct ProxyTests {
    @Test func proxiesStreamingAndNotAndAggregatesModels() async throws {
        try await withHarness { h in
            var b = StubBackend.Behaviour()
            b.model = "m-a"
            let (_, a) = try await h.stub(b)
            b.model = "m-b"
            let (_, bURL) = try await h.stub(b)
            let (_, c) = try await h.stub(b)  // serves m-b too: listed once
            let g = try await h.gateway(Harness.config([a, bURL, c]))
            let r = try await h.post(g + "/v1/chat/completions", chatBody)
            #expect(r.status == 200 && r.body.contains("Hello from the stub.") && r.headers["x-scalellm-replica"] != nil)
            let s = try await h.post(g + "/v1/chat/completions", streamBody)
            #expect(s.status == 200 && s.headers["content-type"] == "text/event-stream")
            #expect(s.body.components(separatedBy: "data: ").count - 1 == 16 + 2)
            #expect(s.body.hasSuffix("data: [DONE]\n\n"))
            let models = try await h.get(g + "/v1/models")
            #expect(models.status == 200)
            let ids = try JSONSerialization.jsonObject(with: Data(models.body.utf8)) as! [String: Any]
            #expect((ids["data"] as! [[String: Any]]).map { $0["id"] as! String } .sorted() == ["m-a", "m-b"])
            let bad = try await h.post(g + "/v1/completions", "{not json")
            #expect(bad.status == 400 && bad.body.contains("not valid JSON"))
            let metrics = try await h.get(g + "/metrics")
            #expect(metrics.body.contains("scalellm_gateway_load_level"))
            // The series each proxied request counts in, with their labels.
            for series in [#"scalellm_gateway_requests_total{route="/v1/chat/completions",status="200",policy="prefix_affinity"}"#,
                           #"scalellm_gateway_requests_total{route="/v1/completions",status="400",policy="none"}"#,
                           #"scalellm_gateway_routing_decisions_total{policy="prefix_affinity""#,
                           #"scalellm_gateway_request_duration_seconds_count{route="/v1/chat/completions"}"#,
                           #"scalellm_gateway_time_to_first_token_seconds_count{route="/v1/chat/completions"}"#] {
                #expect(metrics.body.contains(series), "no \(series) in /metrics")
            }
        }
    }

    @Test func answers503UntilAReplicaIsReady() async throws {
        try await withHarness { h in
            var b = StubBackend.Behaviour()
            b.ready = false
            let (stub, a) = try await h.stub(b)
            let g = try await h.gateway(Harness.config([a]))
            let m = try await h.get(g + "/v1/models")
            #expect(m.status == 503 && m.body.contains("No replica is ready") && m.headers["retry-after"] != nil)
            #expect(try await h.post(g + "/v1/chat/completions", chatBody).status == 503)
            b.ready = true
            stub.state.set(b)
            for _ in 0..<100 where try await h.get(g + "/ready").status != 200 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(try await h.post(g + "/v1/chat/completions", chatBody).status == 200)
        }
    }

    @Test func retriesFailuresOnAnotherReplicaAndEjectsTheBadOne() async throws {
        try await withHarness { h in
            var bad = StubBackend.Behaviour()
            bad.status = 500
            let (badStub, badURL) = try await h.stub(bad)
            let (_, good) = try await h.stub()
            var c = Harness.config([badURL, good])
            c.routing.policy = .roundRobin
            let g = try await h.gateway(c)
            for _ in 0..<10 {
                let r = try await h.post(g + "/v1/chat/completions", chatBody)
                #expect(r.status == 200 && r.headers["x-scalellm-replica"] == good)
            }
            // Two failures opened its breaker: it got no more than those.
            #expect(badStub.state.requests.load(ordering: .relaxed) == 2)
            let status = try await h.get(g + "/status")
            #expect(status.body.contains("\"healthy\":false"))
            #expect(try await h.get(g + "/metrics").body.contains("scalellm_gateway_retries_total"))
        }
    }

    @Test func passesOnTheLastFailureWhenEveryReplicaFails() async throws {
        try await withHarness { h in
            var b = StubBackend.Behaviour()
            b.status = 429
            let (_, a) = try await h.stub(b)
            let (_, bb) = try await h.stub(b)
            let g = try await h.gateway(Harness.config([a, bb]))
            let r = try await h.post(g + "/v1/completions", #"{"prompt":"x"}"#)
            #expect(r.status == 429 && r.headers["retry-after"] == "1" && r.body.contains("stub failure 429"))
        }
    }

    @Test func anOversizedFailureAnswerIsDroppedAndRetriedNotWaitedOn() async throws {
        try await withHarness { h in
            // A replica that is ready but answers completions with a 500 of 2 MiB (the gateway keeps
            // at most 1 MiB of a failed answer).
            let big = Router(context: BasicRequestContext.self)
            big.get("/ready") { _, _ in Response(status: .ok) }
            big.post("/v1/completions") { _, _ in
                Response(status: .internalServerError, headers: [.contentType: "application/json"],
                         body: .init(byteBuffer: ByteBuffer(repeating: UInt8(ascii: "x"), count: 2 << 20)))
            }
            let bad = try await h.backend(big)
            let started = ContinuousClock.now
            let alone = try await h.gateway(Harness.config([bad]))
            let r = try await h.post(alone + "/v1/completions", #"{"prompt":"x"}"#)
            #expect(r.status == 502 && r.body.contains("exceeded"), "\(r.status) \(r.body.prefix(200))")
            let (_, good) = try await h.stub()
            var c = Harness.config([bad, good])
            c.routing.policy = .roundRobin
            let both = try await h.gateway(c)
            for _ in 0..<4 {
                let r = try await h.post(both + "/v1/completions", #"{"prompt":"x"}"#)
                #expect(r.status == 200 && r.headers["x-scalellm-replica"] == good)
            }
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test func aReplicaThatDoesNotAnswerInTimeIsGivenUpAndRetried() async throws {
        try await withHarness { h in
            var slow = StubBackend.Behaviour()
            slow.delayMs = 10_000
            let (_, slowURL) = try await h.stub(slow)
            var alone = Harness.config([slowURL])
            alone.limits.upstreamTimeoutMs = 300
            alone.retries.maxRetries = 0
            let g1 = try await h.gateway(alone)
            var started = ContinuousClock.now
            let r = try await h.post(g1 + "/v1/completions", #"{"prompt":"x"}"#)
            #expect(r.status == 502 && r.body.contains("no complete answer within 300 ms"), "\(r.status) \(r.body.prefix(200))")
            #expect(ContinuousClock.now - started < .seconds(6), "well under the slow replica's 10 s")
            let (_, good) = try await h.stub()
            var both = Harness.config([slowURL, good])
            both.limits.upstreamTimeoutMs = 300
            both.routing.policy = .roundRobin
            let g2 = try await h.gateway(both)
            started = ContinuousClock.now
            for _ in 0..<2 {  // one of the two starts on the slow replica and moves on after 300 ms
                let r = try await h.post(g2 + "/v1/completions", #"{"prompt":"x"}"#)
                #expect(r.status == 200 && r.headers["x-scalellm-replica"] == good)
            }
            #expect(ContinuousClock.now - started < .seconds(6), "well under the slow replica's 10 s")
        }
    }

    @Test func aReplicaDyingMidStreamEndsTheStreamWithAnError() async throws {
        try await withHarness { h in
            var b = StubBackend.Behaviour()
            b.dieAfterEvents = 3
            let (_, a) = try await h.stub(b)
            let g = try await h.gateway(Harness.config([a]))
            let started = ContinuousClock.now
            let s = try? await h.post(g + "/v1/chat/completions", streamBody)
            #expect(ContinuousClock.now - started < .seconds(5))
            if let s {
                #expect(s.body.contains("\"code\":\"upstream_failed\""))
                #expect(!s.body.contains("[DONE]"))
            }
        }
    }

    @Test func aClientLeavingCancelsTheUpstreamStream() async throws {
        try await withHarness { h in
            var b = StubBackend.Behaviour()
            b.events = 200
            b.eventDelayMs = 20
            let (stub, a) = try await h.stub(b)
            let g = try await h.gateway(Harness.config([a]))
            let task = Task { try await h.post(g + "/v1/chat/completions", streamBody) }
            while stub.state.inflight.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            var gone = false
            for _ in 0..<200 {
                if stub.state.inflight.load(ordering: .relaxed) == 0 { gone = true; break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(gone, "the stub still streams 2 s after the client left")
            #expect(stub.state.disconnects.load(ordering: .relaxed) == 1)
        }
    }

    @Test func loadLevelAndPolicyFollowTheLoad() async throws {
        try await withHarness { h in
            var b = StubBackend.Behaviour()
            b.delayMs = 400
            let (_, a) = try await h.stub(b)
            let (_, bb) = try await h.stub(b)
            var c = Harness.config([a, bb])
            c.loadLevels.medium.enterAt = 2
            c.loadLevels.medium.exitAt = 1
            c.loadLevels.high.enterAt = 5
            c.loadLevels.high.exitAt = 3
            c.loadLevels.minDwellMs = 0
            let g = try await h.gateway(c)
            func status() async throws -> [String: Any] {
                try JSONSerialization.jsonObject(with: Data(try await h.get(g + "/status").body.utf8)) as! [String: Any]
            }
            #expect(try await status()["level"] as? String == "low")
            #expect(try await status()["policy"] as? String == "prefix_affinity")
            // 12 slow requests in flight over 2 replicas: 6 per replica >= 5.
            let load = (0..<12).map { _ in Task { try await h.post(g + "/v1/completions", #"{"prompt":"hi"}"#) } }
            var seen: Set<String> = []
            for _ in 0..<40 {
                let s = try await status()
                seen.insert(s["level"] as! String)
                if s["level"] as? String == "high" {
                    #expect(s["policy"] as? String == "least_outstanding")
                    break
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(seen.contains("high"))
            for t in load { #expect(try await t.value.status == 200) }
            // Idle again: the next health round brings the level down.
            var back = false
            for _ in 0..<100 {
                if try await status()["level"] as? String == "low" { back = true; break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(back)
            let metrics = try await h.get(g + "/metrics").body
            #expect(metrics.contains("scalellm_gateway_load_level_switches_total"))
        }
    }

    @Test func admissionQueueAnswers429WhenFull() async throws {
        try await withHarness { h in
            var b = StubBackend.Behaviour()
            b.delayMs = 500
            let (_, a) = try await h.stub(b)
            var c = Harness.config([a])
            c.loadLevels.medium.enterAt = 0.5
            c.loadLevels.medium.exitAt = 0.25
            c.loadLevels.high.enterAt = 1
            c.loadLevels.high.exitAt = 0.5
            c.admission.maxInflightPerReplica = 1
            c.admission.queueSize = 1
            c.admission.timeoutMs = 5000
            let g = try await h.gateway(c)
            let first = Task { try await h.post(g + "/v1/completions", #"{"prompt":"a"}"#) }
            try await Task.sleep(for: .milliseconds(100))
            let queued = Task { try await h.post(g + "/v1/completions", #"{"prompt":"b"}"#) }
            try await Task.sleep(for: .milliseconds(100))
            let rejected = try await h.post(g + "/v1/completions", #"{"prompt":"c"}"#)
            #expect(rejected.status == 429 && rejected.body.contains("admission queue") && rejected.headers["retry-after"] != nil)
            #expect(try await first.value.status == 200)
            #expect(try await queued.value.status == 200)  // admitted when the first finished
        }
    }

    @Test func keysLimitsAndBodySize() async throws {
        try await withHarness { h in
            let (_, a) = try await h.stub()
            var c = Harness.config([a])
            c.apiKeys = ["sk-test"]
            c.limits.requestsPerMinute = 3
            c.limits.maxBodyBytes = 2048
            let g = try await h.gateway(c)
            let none = try await h.post(g + "/v1/chat/completions", chatBody)
            #expect(none.status == 401 && none.body.contains("invalid_api_key"))
            #expect(try await h.post(g + "/v1/chat/completions", chatBody, headers: ["authorization": "Bearer sk-wrong"]).status == 401)
            let auth = ["authorization": "Bearer sk-test"]
            #expect(try await h.post(g + "/v1/chat/completions", chatBody, headers: auth).status == 200)
            let big = #"{"prompt":""# + String(repeating: "x", count: 4096) + #""}"#
            let tooBig = try await h.post(g + "/v1/completions", big, headers: auth)
            #expect(tooBig.status == 413 && tooBig.body.contains("2048"))
            #expect(try await h.post(g + "/v1/chat/completions", chatBody, headers: auth).status == 200)
            #expect(try await h.post(g + "/v1/chat/completions", chatBody, headers: auth).status == 200)
            let limited = try await h.post(g + "/v1/chat/completions", chatBody, headers: auth)
            #expect(limited.status == 429 && limited.body.contains("requests per minute") && limited.headers["retry-after"] != nil)
            #expect(try await h.get(g + "/admin/replicas").status == 401)
            #expect(try await h.get(g + "/admin/replicas", headers: auth).status == 200)
        }
    }

    @Test func drainingAddingAndRemovingReplicas() async throws {
        try await withHarness { h in
            let (sa, a) = try await h.stub()
            let (sb, b) = try await h.stub()
            var c = Harness.config([a])
            c.routing.policy = .roundRobin
            let g = try await h.gateway(c)
            let added = try await h.post(g + "/admin/replicas", #"{"url":"\#(b)"}"#)
            #expect(added.status == 201)
            #expect(try await h.post(g + "/admin/replicas", #"{"url":"\#(b)"}"#).status == 400)  // already there
            for _ in 0..<100 {
                if !(try await h.get(g + "/status").body.contains("\"healthy\":false")) { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await h.post(g + "/admin/replicas/drain", #"{"url":"\#(a)"}"#).status == 200)
            let before = sa.state.requests.load(ordering: .relaxed)
            for _ in 0..<6 { #expect(try await h.post(g + "/v1/chat/completions", chatBody).status == 200) }
            #expect(sa.state.requests.load(ordering: .relaxed) == before)  // drained: no new requests
            #expect(sb.state.requests.load(ordering: .relaxed) == 6)
            #expect(try await h.send(g + "/admin/replicas?url=\(b)", method: .DELETE, body: nil, headers: [:]).status == 200)
            #expect(try await h.send(g + "/admin/replicas?url=\(b)", method: .DELETE, body: nil, headers: [:]).status == 404)
            #expect(try await h.post(g + "/admin/replicas/drain", #"{"url":"\#(a)","draining":false}"#).status == 200)
            #expect(try await h.post(g + "/v1/chat/completions", chatBody).status == 200)
            #expect(sa.state.requests.load(ordering: .relaxed) == before + 1)
        }
    }
}
