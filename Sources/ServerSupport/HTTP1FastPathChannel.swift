import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel with one more handler right after the HTTP/1.1 codec,
/// ahead of the conversion to HTTP types: a fast path that answers some requests on the event loop
/// (NIO `HTTPServerRequestPart`s in, `HTTPServerResponsePart`s out) and passes the rest on to the
/// router. The gateway's proxy and the stub replica use it.
public struct HTTP1FastPathChannel: ServerChildChannel {
    public typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    /// A new fast-path handler for each connection.
    let fastPath: @Sendable () -> any RemovableChannelHandler

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let fastPath = self.fastPath
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(fastPath(), position: .before(try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)))
            return value
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with a fast-path handler per connection (`HTTP1FastPathChannel`). `idleTimeout` is
    /// Hummingbird's, which sees only the requests passed on to the router.
    public static func http1(idleTimeout: TimeAmount? = nil,
                             fastPath: @escaping @Sendable () -> any RemovableChannelHandler) -> HTTPServerBuilder {
        .init { responder in
            HTTP1FastPathChannel(http1: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: idleTimeout)),
                                 fastPath: fastPath)
        }
    }
}
