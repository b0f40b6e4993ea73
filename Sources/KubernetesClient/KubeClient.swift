import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// A thin, typed client of the Kubernetes REST API: get, list (paged), create, update, server-side
/// apply, merge patch, delete, the status and scale subresources, and watches.
public final class KubeClient: Sendable {
    public let config: KubeConfig
    let http: HTTPClient
    let fieldManager: String

    /// - Parameter fieldManager: the owner of the fields this client applies (server-side apply).
    public init(config: KubeConfig, fieldManager: String = "scalellm") throws {
        self.config = config
        self.fieldManager = fieldManager
        var tls = TLSConfiguration.makeClientConfiguration()
        if config.insecureSkipTLSVerify {
            tls.certificateVerification = .none
        } else if let ca = config.certificateAuthorityPEM {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            } catch {
                throw KubeConfigError("the certificate authority is not valid PEM: \(error)")
            }
        }
        if case .clientCertificate(let certificatePEM, let keyPEM) = config.credentials {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificatePEM).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyPEM, format: .pem))
            } catch {
                throw KubeConfigError("the client certificate or key is not valid PEM: \(error)")
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(5)))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 32
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes connections; call once when done.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    // MARK: - Typed verbs

    public func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil) async throws -> T {
        let data = try await send(.GET, T.resource.path(namespace: ns(namespace, T.self), name: name))
        return try decode(T.self, data)
    }

    /// The object, or nil when it does not exist.
    public func getIfPresent<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil) async throws -> T? {
        do {
            return try await get(type, name: name, namespace: namespace)
        } catch let e as KubeAPIError where e.isNotFound {
            return nil
        }
    }

    /// Lists every object (following `continue` pages of `pageSize`); returns them with the list's
    /// resourceVersion, from which a watch continues. `namespace` nil lists all namespaces.
    public func list<T: KubeResource>(_ type: T.Type, namespace: String?, labelSelector: String? = nil,
                                      fieldSelector: String? = nil, pageSize: Int = 500) async throws -> (items: [T], resourceVersion: String) {
        var items: [T] = []
        var token: String?
        repeat {
            var query = [("limit", String(pageSize))]
            if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
            if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
            if let token { query.append(("continue", token)) }
            let data = try await send(.GET, T.resource.path(namespace: T.resource.namespaced ? namespace : nil), query: query)
            let page = try decode(KubeList<T>.self, data)
            items += page.items
            token = page.metadata.continue.flatMap { $0.isEmpty ? nil : $0 }
            if token == nil { return (items, page.metadata.resourceVersion ?? "") }
        } while true
    }

    public func create<T: KubeResource>(_ object: T, namespace: String? = nil) async throws -> T {
        let body = try JSONEncoder().encode(object.typed())
        let path = T.resource.path(namespace: ns(namespace ?? object.metadata.namespace, T.self))
        return try decode(T.self, try await send(.POST, path, body: body))
    }

    /// Replaces the object; it must carry the resourceVersion it was read at (409 Conflict otherwise).
    public func update<T: KubeResource>(_ object: T) async throws -> T {
        try await put(object, subresource: nil)
    }

    /// Replaces the object's status through the status subresource.
    public func updateStatus<T: KubeResource>(_ object: T) async throws -> T {
        try await put(object, subresource: "status")
    }

    private func put<T: KubeResource>(_ object: T, subresource: String?) async throws -> T {
        guard let name = object.metadata.name else { throw KubeTransportError("cannot update an object without a name") }
        let path = T.resource.path(namespace: ns(object.metadata.namespace, T.self), name: name, subresource: subresource)
        return try decode(T.self, try await send(.PUT, path, body: try JSONEncoder().encode(object.typed())))
    }

    /// Server-side apply: the server merges `object` (only the fields this manager sets) into the live
    /// object, creating it when missing. Conflicts with other managers are forced.
    public func apply<T: KubeResource>(_ object: T, subresource: String? = nil) async throws -> T {
        guard let name = object.metadata.name else { throw KubeTransportError("cannot apply an object without a name") }
        let path = T.resource.path(namespace: ns(object.metadata.namespace, T.self), name: name, subresource: subresource)
        // JSON is YAML, except that YAML has no "\/" escape: encode slashes plainly.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let data = try await send(.PATCH, path, query: [("fieldManager", fieldManager), ("force", "true")],
                                  body: try encoder.encode(object.typed()),
                                  contentType: "application/apply-patch+yaml")
        return try decode(T.self, data)
    }

    /// Deletes the object; owned objects are garbage-collected in the background. False when it was
    /// already gone.
    @discardableResult
    public func delete<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil,
                                        propagation: String = "Background") async throws -> Bool {
        let body = try JSONSerialization.data(withJSONObject: ["kind": "DeleteOptions", "apiVersion": "v1",
                                                               "propagationPolicy": propagation])
        do {
            _ = try await send(.DELETE, T.resource.path(namespace: ns(namespace, T.self), name: name), body: body)
            return true
        } catch let e as KubeAPIError where e.isNotFound {
            return false
        }
    }

    /// The scale subresource (Deployments, and custom resources that declare one).
    public func getScale<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil) async throws -> Scale {
        let data = try await send(.GET, T.resource.path(namespace: ns(namespace, T.self), name: name, subresource: "scale"))
        return try decode(Scale.self, data)
    }

    /// Sets the replica count through the scale subresource (merge patch: no read-modify-write race).
    @discardableResult
    public func setScale<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil, replicas: Int) async throws -> Scale {
        let path = T.resource.path(namespace: ns(namespace, T.self), name: name, subresource: "scale")
        let data = try await send(.PATCH, path, body: Data(#"{"spec":{"replicas":\#(replicas)}}"#.utf8),
                                  contentType: "application/merge-patch+json")
        return try decode(Scale.self, data)
    }

    /// Runs a read-modify-write `body` again (it must read afresh) while the server answers 409
    /// Conflict, up to `attempts` times with a short growing pause.
    public func retryOnConflict<R>(attempts: Int = 5, _ body: () async throws -> R) async throws -> R {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let e as KubeAPIError where e.isConflict && attempt < attempts {
                try await Task.sleep(for: .milliseconds(10 * attempt))
                attempt += 1
            }
        }
    }

    // MARK: - Transport

    private func ns<T: KubeResource>(_ namespace: String?, _ type: T.Type) -> String? {
        T.resource.namespaced ? (namespace ?? config.namespace) : nil
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw KubeTransportError("cannot decode \(T.self) from the API server's answer: \(error)")
        }
    }

    /// Builds a request with the URL, query and credentials.
    func request(_ method: HTTPMethod, _ path: String, query: [(String, String)]) throws -> HTTPClientRequest {
        var url = config.server + path
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        var r = HTTPClientRequest(url: url)
        r.method = method
        r.headers.add(name: "Accept", value: "application/json")
        r.headers.add(name: "User-Agent", value: fieldManager)
        switch config.credentials {
        case .token(let t): r.headers.add(name: "Authorization", value: "Bearer \(t)")
        case .tokenFile(let file):
            guard let t = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw KubeConfigError("cannot read token file '\(file)'")
            }
            r.headers.add(name: "Authorization", value: "Bearer \(t.trimmingCharacters(in: .whitespacesAndNewlines))")
        case .none, .clientCertificate: break
        }
        return r
    }

    /// Sends one request and returns the body of a 2xx answer; other answers throw `KubeAPIError`.
    func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Data? = nil,
              contentType: String = "application/json", timeout: TimeAmount = .seconds(30)) async throws -> Data {
        var r = try request(method, path, query: query)
        if let body {
            r.headers.add(name: "Content-Type", value: contentType)
            r.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(r, timeout: timeout)
            bytes = try await response.body.collect(upTo: 256 << 20)
        } catch let e as CancellationError {
            throw e
        } catch {
            throw KubeTransportError("\(method) \(config.server)\(path): \(error)")
        }
        let data = Data(bytes.readableBytesView)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw Self.apiError(code: Int(response.status.code), data, fallback: response.status.reasonPhrase)
        }
        return data
    }

    static func apiError(code: Int, _ data: Data, fallback: String) -> KubeAPIError {
        let status = try? JSONDecoder().decode(StatusObject.self, from: data)
        let text = String(decoding: data.prefix(500), as: UTF8.self)
        return KubeAPIError(code: status?.code ?? code, reason: status?.reason ?? fallback,
                            message: status?.message ?? text)
    }

    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    static func escape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if unreserved.contains(b) { out.unicodeScalars.append(Unicode.Scalar(b)) } else { out += String(format: "%%%02X", b) }
        }
        return out
    }
}
