import Foundation
import Hummingbird
import NIOCore
import OpenAIAPI
import ServerSupport

/// Run-time changes to the replica pool: list, add, remove, drain, reload from the config file.
/// Guarded by the admin token (or, without one, by the API keys; open when the gateway is open).
struct AdminRoutes: Sendable {
    let core: GatewayCore
    let configPath: String?

    struct ReplicaChange: Codable {
        var url: String
        var pool: String?
        var tensorParallel: Int?
        var draining: Bool?
        enum CodingKeys: String, CodingKey { case url, pool, tensorParallel = "tensor_parallel", draining }
    }

    func register(on router: Router<BasicRequestContext>) {
        let admin = router.group("admin").add(middleware: AdminAuthMiddleware(keys: core.keys))
        admin.get("replicas") { _, _ in JSONBody.response(GatewayStatus(core).replicas) }
        admin.post("replicas") { request, _ -> Response in
            let change = try await JSONBody.decode(ReplicaChange.self, from: request, limit: 64 << 10)
            do {
                let r = try core.addReplica(BackendConfiguration(url: change.url, pool: change.pool ?? "default",
                                                                 tensorParallel: change.tensorParallel ?? 1))
                return JSONBody.response(ReplicaStatus(r), status: .created)
            } catch let e as ConfigurationError {
                throw OpenAIError.invalidRequest(e.description, param: "url")
            }
        }
        admin.delete("replicas") { request, _ -> Response in
            guard let url = request.uri.queryParameters.get("url") else {
                throw OpenAIError.invalidRequest("DELETE /admin/replicas needs ?url=http://host:port", param: "url")
            }
            guard core.removeReplica(url) else { throw OpenAIError(status: 404, message: "No replica \(url) in the pool", type: "invalid_request_error", param: "url") }
            return GatewayServer.jsonStatus("removed")
        }
        admin.post("replicas/drain") { request, _ -> Response in
            let change = try await JSONBody.decode(ReplicaChange.self, from: request, limit: 64 << 10)
            guard let r = core.pool.find(change.url) else {
                throw OpenAIError(status: 404, message: "No replica \(change.url) in the pool", type: "invalid_request_error", param: "url")
            }
            let on = change.draining ?? true
            r.setDraining(on)
            core.logger.notice("replica \(r.url) \(on ? "draining: no new requests, \(r.inflight) in flight finish" : "back in rotation")")
            return JSONBody.response(ReplicaStatus(r))
        }
        admin.post("reload") { _, _ -> Response in
            guard let configPath else {
                throw OpenAIError.invalidRequest("The gateway was started without --config; nothing to reload")
            }
            do {
                let (added, removed) = try reload(core, path: configPath)
                return JSONBody.response(["added": added, "removed": removed])
            } catch let e as ConfigurationError {
                throw OpenAIError.invalidRequest(e.description)
            }
        }
    }
}

/// Re-reads the backend list of a config file into the pool (other settings need a restart).
func reload(_ core: GatewayCore, path: String) throws -> (added: [String], removed: [String]) {
    let config = try GatewayConfiguration.load(path: path)
    let (added, removed) = try core.pool.replaceConfigured(with: config.backends)
    for url in removed { core.router.forget(url) }
    core.logger.notice("reloaded \(path): added \(added), removed \(removed)")
    return (added, removed)
}

struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeys
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard keys.authorizeAdmin(request.headers[.authorization]) else {
            throw OpenAIError(status: 401, message: "Admin endpoints need the admin token as 'Authorization: Bearer TOKEN'",
                              type: "invalid_request_error", code: "invalid_api_key")
        }
        return try await next(request, context)
    }
}
