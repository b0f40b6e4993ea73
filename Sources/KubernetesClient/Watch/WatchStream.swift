import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

extension KubeClient {
    /// Opens a watch from `resourceVersion` (bookmarks requested). The server ends it after
    /// `timeoutSeconds`; a 410 arrives as an `.error` event (or a thrown `KubeAPIError`).
    public func watch<T: KubeResource>(_ type: T.Type, namespace: String?, labelSelector: String? = nil,
                                       resourceVersion: String?, timeoutSeconds: Int = 300) async throws -> WatchStream<T> {
        var query = [("watch", "true"), ("allowWatchBookmarks", "true"), ("timeoutSeconds", String(timeoutSeconds))]
        if let resourceVersion, !resourceVersion.isEmpty { query.append(("resourceVersion", resourceVersion)) }
        if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
        let path = T.resource.path(namespace: T.resource.namespaced ? namespace : nil)
        let r = try request(.GET, path, query: query)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(r, timeout: .seconds(Int64(timeoutSeconds) + 30))
        } catch let e as CancellationError {
            throw e
        } catch {
            throw KubeTransportError("watch \(path): \(error)")
        }
        guard response.status == .ok else {
            let bytes = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            throw Self.apiError(code: Int(response.status.code), Data(bytes.readableBytesView), fallback: response.status.reasonPhrase)
        }
        return WatchStream(body: response.body)
    }
}

/// The events of one watch, one JSON object per line; ends when the server closes the stream.
public struct WatchStream<T: KubeResource>: AsyncSequence, Sendable {
    public typealias Element = WatchEvent<T>
    let body: HTTPClientResponse.Body

    public func makeAsyncIterator() -> Iterator { Iterator(body: body.makeAsyncIterator()) }

    public struct Iterator: AsyncIteratorProtocol {
        var body: HTTPClientResponse.Body.AsyncIterator
        var pending: [UInt8] = []
        var finished = false

        public mutating func next() async throws -> WatchEvent<T>? {
            while true {
                if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Data(pending[..<newline])
                    pending.removeSubrange(...newline)
                    if line.allSatisfy({ $0 == 32 || $0 == 13 }) { continue }
                    return try WatchEvent<T>.decode(line: line)
                }
                if finished {
                    guard !pending.isEmpty else { return nil }
                    let line = Data(pending)
                    pending.removeAll()
                    return try WatchEvent<T>.decode(line: line)
                }
                do {
                    if let chunk = try await body.next() {
                        pending.append(contentsOf: chunk.readableBytesView)
                    } else {
                        finished = true
                    }
                } catch let e as CancellationError {
                    throw e
                } catch {
                    throw KubeTransportError("watch stream broke: \(error)")
                }
            }
        }
    }
}
