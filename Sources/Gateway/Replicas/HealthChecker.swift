import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import OpenAIAPI
import ServiceLifecycle

/// Active health checks: every interval, each replica's `/ready` (up/down with thresholds) and
/// `/metrics` (engine running/waiting requests and KV cache use, for load levels and routing);
/// `/v1/models` (for the aggregated model list) when a replica comes up or has none listed yet.
/// Also re-evaluates the load level when idle.
struct HealthChecker: Service {
    let core: GatewayCore
    let client: HTTPClient

    func run() async throws {
        let interval = Duration.milliseconds(core.configuration.healthCheck.intervalMs)
        // Keeps checking while the HTTP server drains (services stop in reverse order), then ends.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await checkAll()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One round over every replica, concurrently.
    func checkAll() async {
        let replicas = core.pool.all
        await withTaskGroup(of: Void.self) { group in
            for r in replicas {
                group.addTask { await check(r) }
            }
        }
        let ready = replicas.filter(\.isRoutable).count
        GatewayMetrics.readyReplicas.record(ready)
        for r in replicas { GatewayMetrics.replica(r) }
        for p in core.poolLoads() { GatewayMetrics.pool(p) }
        core.updateLoad()
    }

    func check(_ replica: Replica) async {
        let timeout = TimeAmount.milliseconds(Int64(core.configuration.healthCheck.timeoutMs))
        var ok = false
        var error: String?
        do {
            let resp = try await client.execute(HTTPClientRequest(url: replica.url + "/ready"), timeout: timeout)
            _ = try? await resp.body.collect(upTo: 64 << 10)
            ok = resp.status == .ok
            if !ok { error = "/ready answered \(resp.status.code)" }
        } catch let e {
            error = "\(e)"
        }
        let change = replica.recordCheck(ok: ok, error: error, thresholds: core.configuration.healthCheck, now: .now)
        if let change {
            if ok { core.logger.notice("replica \(replica.url) \(change)") } else { core.logger.warning("replica \(replica.url) \(change)") }
        }
        guard ok else { return }
        var engine = EngineMetricsSample()
        if let resp = try? await client.execute(HTTPClientRequest(url: replica.url + "/metrics"), timeout: timeout),
           resp.status == .ok, let body = try? await resp.body.collect(upTo: 4 << 20) {
            engine = EngineMetricsSample(prometheusText: String(buffer: body))
        }
        var models: [ModelList.Model]?
        if change != nil || !replica.hasModels, let resp = try? await client.execute(HTTPClientRequest(url: replica.url + "/v1/models"), timeout: timeout),
           resp.status == .ok, let body = try? await resp.body.collect(upTo: 1 << 20),
           let list = try? JSONDecoder().decode(ModelList.self, from: Data(body.readableBytesView)) {
            models = list.data
        }
        replica.recordEngineMetrics(running: engine.running, waiting: engine.waiting, cacheUsage: engine.cacheUsage, models: models)
    }
}

/// The engine figures read from a replica's Prometheus text (vLLM's names, summed over labels).
struct EngineMetricsSample: Equatable {
    var running = 0
    var waiting = 0
    var cacheUsage = 0.0

    init() {}

    init(prometheusText text: String) {
        for line in text.split(separator: "\n") where line.first != "#" {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let name = line[..<(line.firstIndex(where: { $0 == "{" || $0 == " " }) ?? line.endIndex)]
            switch name {
            case "vllm:num_requests_running": running += Int(value)
            case "vllm:num_requests_waiting": waiting += Int(value)
            case "vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc": cacheUsage = max(cacheUsage, value)
            default: break
            }
        }
    }
}
