import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel with the proxy (`ProxyHandler`) inserted right after the
/// HTTP/1.1 codec, ahead of the conversion to HTTP types that only the router's requests need. The
/// proxy keeps the connection's idle timeout itself, so Hummingbird's is off.
struct GatewayHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let core: GatewayCore
    let pools: UpstreamPools
    let idleTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let core = self.core, pools = self.pools, idleTimeout = self.idleTimeout
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(ProxyHandler(core: core, pools: pools, idleTimeout: idleTimeout), position: .before(codec))
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
            GatewayHTTPChannel(http1: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: nil)),
                               core: core, pools: pools, idleTimeout: idleTimeout)
        }
    }
}
