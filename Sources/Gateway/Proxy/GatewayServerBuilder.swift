import HummingbirdCore
import NIOCore
import ServerSupport

extension HTTPServerBuilder {
    /// HTTP/1.1 with the gateway's event-loop proxy (`ProxyHandler`) right after the codec. The
    /// proxy keeps the connection's idle timeout itself, so Hummingbird's is off.
    static func gateway(core: GatewayCore, idleTimeout: TimeAmount) -> HTTPServerBuilder {
        let pools = UpstreamPools()
        return .http1(idleTimeout: idleTimeout) { ProxyHandler(core: core, pools: pools) }
    }
}
