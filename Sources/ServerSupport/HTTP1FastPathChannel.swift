import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel with an `HTTP1Front` ahead of everything: requests its
/// `HTTP1FastPath` claims are answered there in raw HTTP/1.1, the rest go through the codec to the
/// router as usual (an `HTTP1RouterAnswerWatcher` after the codec reports their answers' ends).
/// The gateway's proxy and the stub replica use it.
public struct HTTP1FastPathChannel: ServerChildChannel {
    public typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    /// A new fast path for each connection.
    let fastPath: @Sendable () -> any HTTP1FastPath
    let idleTimeout: TimeAmount?

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let fastPath = self.fastPath, idleTimeout = self.idleTimeout
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let front = HTTP1Front(fastPath: fastPath(), idleTimeout: idleTimeout)
            try pipeline.addHandler(front, position: .first)
            try pipeline.addHandler(HTTP1RouterAnswerWatcher(front: front),
                                    position: .before(try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)))
            return value
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with a raw fast path per connection (`HTTP1FastPathChannel`). The front keeps the
    /// connection's idle timeout (`idleTimeout`, nil for none); Hummingbird's is off, as it would
    /// see only the router's requests.
    public static func http1(idleTimeout: TimeAmount? = nil,
                             fastPath: @escaping @Sendable () -> any HTTP1FastPath) -> HTTPServerBuilder {
        .init { responder in
            HTTP1FastPathChannel(http1: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: nil)),
                                 fastPath: fastPath, idleTimeout: idleTimeout)
        }
    }
}
