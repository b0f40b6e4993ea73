import AsyncHTTPClient
import Foundation
import NIOCore

/// What the operator reads from a gateway's `GET /status`: the load level and per-pool load.
struct GatewayLoadSnapshot: Decodable, Sendable {
    struct Pool: Decodable, Sendable {
        var pool: String
        var demand: Double
        var readyReplicas: Int
        var engineWaiting: Double
        var kvCacheUsage: Double
        enum CodingKeys: String, CodingKey {
            case pool, demand, readyReplicas = "ready_replicas", engineWaiting = "engine_waiting", kvCacheUsage = "kv_cache_usage"
        }
    }
    var level: String
    var pools: [Pool]
}

/// Reads gateway status over HTTP.
struct GatewayLoadReader: Sendable {
    let http: HTTPClient

    func read(_ baseURL: String) async throws -> GatewayLoadSnapshot {
        let url = (baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL) + "/status"
        let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(3))
        let body = try await response.body.collect(upTo: 4 << 20)
        guard response.status == .ok else {
            throw GatewayUnreachable("\(url) answered \(response.status.code)")
        }
        return try JSONDecoder().decode(GatewayLoadSnapshot.self, from: Data(body.readableBytesView))
    }
}

struct GatewayUnreachable: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
