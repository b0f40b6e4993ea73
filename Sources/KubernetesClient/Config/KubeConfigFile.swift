import Foundation

/// The parts of a kubeconfig file (`kind: Config`) that the client uses.
struct KubeConfigFile: Decodable {
    struct Named<T: Decodable>: Decodable {
        var name: String
        var value: T
        enum CodingKeys: String, CodingKey { case name, cluster, user, context }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            for key in [CodingKeys.cluster, .user, .context] where c.contains(key) {
                value = try c.decode(T.self, forKey: key)
                return
            }
            throw DecodingError.keyNotFound(CodingKeys.cluster, .init(codingPath: c.codingPath,
                debugDescription: "entry '\(name)' has no cluster, user or context"))
        }
    }
    struct Cluster: Decodable {
        var server: String
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?
        enum CodingKeys: String, CodingKey {
            case server, certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        }
    }
    struct User: Decodable {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        enum CodingKeys: String, CodingKey {
            case token, tokenFile, clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data", clientKey = "client-key"
            case clientKeyData = "client-key-data"
        }
    }
    struct Context: Decodable {
        var cluster: String
        var user: String?
        var namespace: String?
    }

    var clusters: [Named<Cluster>]?
    var users: [Named<User>]?
    var contexts: [Named<Context>]?
    var currentContext: String?
    enum CodingKeys: String, CodingKey { case clusters, users, contexts, currentContext = "current-context" }

    func resolve(context name: String?, relativeTo base: String, source: String) throws -> KubeConfig {
        guard let contextName = name ?? currentContext, !contextName.isEmpty else {
            throw KubeConfigError("\(source): no context given and no current-context set")
        }
        guard let context = contexts?.first(where: { $0.name == contextName })?.value else {
            throw KubeConfigError("\(source): context '\(contextName)' not found")
        }
        guard let cluster = clusters?.first(where: { $0.name == context.cluster })?.value else {
            throw KubeConfigError("\(source): cluster '\(context.cluster)' of context '\(contextName)' not found")
        }
        var credentials = KubeConfig.Credentials.none
        if let userName = context.user {
            guard let user = users?.first(where: { $0.name == userName })?.value else {
                throw KubeConfigError("\(source): user '\(userName)' of context '\(contextName)' not found")
            }
            if let token = user.token {
                credentials = .token(token)
            } else if let file = user.tokenFile {
                credentials = .tokenFile(Self.path(file, base))
            } else if let cert = try Self.bytes(user.clientCertificateData, user.clientCertificate, base, "client certificate"),
                      let key = try Self.bytes(user.clientKeyData, user.clientKey, base, "client key") {
                credentials = .clientCertificate(certificatePEM: cert, keyPEM: key)
            }
        }
        let ca = try Self.bytes(cluster.certificateAuthorityData, cluster.certificateAuthority, base, "certificate authority")
        return KubeConfig(server: cluster.server, namespace: context.namespace ?? "default",
                          credentials: credentials, certificateAuthorityPEM: ca,
                          insecureSkipTLSVerify: cluster.insecureSkipTLSVerify ?? false)
    }

    private static func path(_ p: String, _ base: String) -> String {
        p.hasPrefix("/") ? p : base + "/" + p
    }

    /// `*-data` (base64) wins over the file path.
    private static func bytes(_ data: String?, _ file: String?, _ base: String, _ what: String) throws -> [UInt8]? {
        if let data {
            guard let d = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
                throw KubeConfigError("kubeconfig: \(what) data is not base64")
            }
            return [UInt8](d)
        }
        if let file {
            guard let d = FileManager.default.contents(atPath: path(file, base)) else {
                throw KubeConfigError("kubeconfig: cannot read \(what) file '\(path(file, base))'")
            }
            return [UInt8](d)
        }
        return nil
    }
}
