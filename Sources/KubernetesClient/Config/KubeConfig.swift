import Foundation
import Yams

/// Where and how to reach a Kubernetes API server: a kubeconfig context or the pod's service account.
public struct KubeConfig: Sendable {
    /// How requests authenticate.
    public enum Credentials: Sendable {
        case none
        /// A bearer token.
        case token(String)
        /// A bearer token read from a file on every request (service-account tokens rotate).
        case tokenFile(String)
        /// A client certificate and key, both PEM.
        case clientCertificate(certificatePEM: [UInt8], keyPEM: [UInt8])
    }

    /// `https://host:port` (or http) without a trailing slash.
    public var server: String
    /// The namespace of the context (or of the pod); "default" when none is named.
    public var namespace: String
    public var credentials: Credentials
    /// PEM certificates of the authorities that sign the server's certificate (nil: the system's).
    public var certificateAuthorityPEM: [UInt8]?
    public var insecureSkipTLSVerify: Bool

    public init(server: String, namespace: String = "default", credentials: Credentials = .none,
                certificateAuthorityPEM: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.namespace = namespace
        self.credentials = credentials
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
    }

    /// The configuration a program should use: an explicit kubeconfig path, else the pod's service
    /// account when running in a cluster, else `$KUBECONFIG` or `~/.kube/config`.
    public static func resolve(kubeconfig: String? = nil, context: String? = nil) throws -> KubeConfig {
        if let kubeconfig { return try load(path: kubeconfig, context: context) }
        if ProcessInfo.processInfo.environment["KUBERNETES_SERVICE_HOST"] != nil,
           FileManager.default.fileExists(atPath: serviceAccountDirectory + "/token") {
            return try inCluster()
        }
        if let env = ProcessInfo.processInfo.environment["KUBECONFIG"], !env.isEmpty {
            return try load(path: String(env.split(separator: ":").first ?? Substring(env)), context: context)
        }
        return try load(path: NSHomeDirectory() + "/.kube/config", context: context)
    }

    static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The pod's service account: token, CA and namespace from the mounted secret, the server from
    /// `KUBERNETES_SERVICE_HOST`/`PORT`.
    public static func inCluster() throws -> KubeConfig {
        let env = ProcessInfo.processInfo.environment
        guard let host = env["KUBERNETES_SERVICE_HOST"], let port = env["KUBERNETES_SERVICE_PORT"] else {
            throw KubeConfigError("not running in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set")
        }
        let dir = serviceAccountDirectory
        let ca = FileManager.default.contents(atPath: dir + "/ca.crt").map { [UInt8]($0) }
        let namespace = (try? String(contentsOfFile: dir + "/namespace", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "default"
        let h = host.contains(":") ? "[\(host)]" : host
        return KubeConfig(server: "https://\(h):\(port)", namespace: namespace,
                          credentials: .tokenFile(dir + "/token"), certificateAuthorityPEM: ca)
    }

    /// Reads a kubeconfig file and picks `context` (default: its current-context).
    public static func load(path: String, context: String? = nil) throws -> KubeConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw KubeConfigError("cannot read kubeconfig '\(path)'")
        }
        let file: KubeConfigFile
        do {
            file = try YAMLDecoder().decode(KubeConfigFile.self, from: text)
        } catch {
            throw KubeConfigError("kubeconfig '\(path)' is not valid: \(error)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try file.resolve(context: context, relativeTo: base, source: path)
    }
}

/// A kubeconfig that cannot be used, with the reason.
public struct KubeConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
