import Foundation
import NIOCore
import OpenAIAPI
import ServerSupport

/// The gateway's fast path on a client connection (one per connection, behind `HTTP1Front`):
/// `POST /v1/chat/completions` and `/v1/completions` are authenticated, charged, admitted and
/// proxied here, on the event loop, in raw HTTP/1.1; every other request goes on to the
/// Hummingbird router.
final class ProxyHandler: HTTP1FastPath {
    /// A proxied route.
    enum Route: String {
        case chat = "/v1/chat/completions"
        case completions = "/v1/completions"
    }

    /// Headers passed on to the replica besides the body's content type.
    static let forwardedHeaders = ["accept", "x-request-id", "traceparent", "tracestate"]

    private let core: GatewayCore
    private let pools: UpstreamPools
    private let sessionHeader: String
    private var exchange: ProxyExchange?

    init(core: GatewayCore, pools: UpstreamPools) {
        self.core = core
        self.pools = pools
        sessionHeader = core.configuration.routing.sessionHeader
    }

    var maxBodyBytes: Int { core.configuration.limits.maxBodyBytes }

    func claims(_ head: HTTP1Head) -> Bool {
        head.methodIs("POST") && (head.pathIs("/v1/chat/completions") || head.pathIs("/v1/completions"))
    }

    private static func route(_ head: HTTP1Head) -> Route {
        head.pathIs("/v1/chat/completions") ? .chat : .completions
    }

    func refusedTooLarge(_ head: HTTP1Head) {
        GatewayMetrics.request(route: Self.route(head).rawValue, status: 413, policy: "none")
    }

    func cancel() {
        exchange?.cancel()
        exchange = nil
    }

    func clientWritable() {
        exchange?.clientWritable()
    }

    /// The exchange answered.
    func exchangeDone(_ done: ProxyExchange) {
        if exchange === done { exchange = nil }
    }

    func answer(_ head: HTTP1Head, body: ByteBuffer, front: HTTP1Front) {
        guard let loop = front.eventLoop else { return }
        let route = Self.route(head)
        let admission = ProxyAdmission(core: core)
        let key: RequestRouter.Key
        do {
            let identity = try admission.authenticate(head.value("authorization"))
            // The body is parsed only when routing or limits need the prompt (prefix affinity, token
            // limits); otherwise it goes through untouched and the engine validates it.
            let needsPrompt = core.policy(for: core.level) == .prefixAffinity || core.limiter.tokensPerMinute > 0
            let hints = needsPrompt ? try RoutingHints.parse(body) : RoutingHints()
            try admission.charge(identity, tokens: hints.estimatedTokens)
            let routing = core.configuration.routing
            key = RequestRouter.Key(prefixHashes: hints.prefixHashes(blockChars: routing.prefixBlockChars, maxBlocks: routing.prefixBlocks),
                                    session: head.value(sessionHeader))
        } catch {
            let e = error as? OpenAIError ?? .invalidRequest("\(error)")
            GatewayMetrics.request(route: route.rawValue, status: e.status, policy: "none")
            front.respond(e)
            return
        }
        var forwarded = ByteBuffer()
        for name in Self.forwardedHeaders { head.copyField(name, into: &forwarded) }
        let exchange = ProxyExchange(core: core, pool: pools.pool(for: loop), owner: self, front: front, route: route,
                                     forwardedHeaders: forwarded, body: body, key: key)
        self.exchange = exchange
        if let admitted = admission.admitNow() {
            exchange.start(level: admitted.level, candidates: admitted.candidates)
            return
        }
        // Waiting (admission queue, or no replica ready yet) is the one path through Swift concurrency.
        let bound = NIOLoopBound(exchange, eventLoop: loop)
        exchange.waitTask = Task {
            do {
                let level = try await admission.admit()
                loop.execute { bound.value.start(level: level) }
            } catch let e as OpenAIError {
                loop.execute { bound.value.reject(e) }
            } catch {
                // Cancelled: the client is gone.
            }
        }
    }
}
