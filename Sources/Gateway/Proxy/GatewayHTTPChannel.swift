import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 child channel with the proxy (`ProxyHandler`) inserted after its
/// connection-state handler, so idle timeouts and graceful shutdown cover proxied requests too.
struct GatewayHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let core: GatewayCore
    let pools: UpstreamPools

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let core = self.core, pools = self.pools
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let connectionState = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            try pipeline.addHandler(ProxyHandler(core: core, pools: pools), position: .after(connectionState))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the gateway's event-loop proxy for the OpenAI completion routes.
    static func gateway(core: GatewayCore, idleTimeout: TimeAmount) -> HTTPServerBuilder {
        let pools = UpstreamPools()
        return .init { responder in
            GatewayHTTPChannel(http1: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: idleTimeout)),
                               core: core, pools: pools)
        }
    }
}
