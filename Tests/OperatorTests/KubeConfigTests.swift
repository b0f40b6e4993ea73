import Foundation
import KubernetesClient
import Testing

@Suite("Kubeconfig parsing")
struct KubeConfigTests {
    func write(_ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("config").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func tokenContextAndNamespace() throws {
        let path = try write("""
            apiVersion: v1
            kind: Config
            current-context: b
            clusters:
            - name: c1
              cluster: {server: "https://10.1.2.3:6443/", insecure-skip-tls-verify: true}
            users:
            - name: u1
              user: {token: abc}
            contexts:
            - {name: a, context: {cluster: c1}}
            - {name: b, context: {cluster: c1, user: u1, namespace: team}}
            """)
        let c = try KubeConfig.load(path: path)
        #expect(c.server == "https://10.1.2.3:6443")
        #expect(c.namespace == "team")
        #expect(c.insecureSkipTLSVerify)
        guard case .token("abc") = c.credentials else { Issue.record("expected token credentials"); return }
        let a = try KubeConfig.load(path: path, context: "a")
        #expect(a.namespace == "default")
        guard case .none = a.credentials else { Issue.record("context a has no user"); return }
    }

    @Test func certificateDataAndRelativeFiles() throws {
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        let path = try write("""
            clusters: [{name: c, cluster: {server: "https://h:1", certificate-authority: ca.crt}}]
            users: [{name: u, user: {client-certificate-data: \(Data(pem.utf8).base64EncodedString()), client-key: key.pem}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """)
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        try "CA".write(to: dir.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
        try "KEY".write(to: dir.appendingPathComponent("key.pem"), atomically: true, encoding: .utf8)
        let c = try KubeConfig.load(path: path)
        #expect(c.certificateAuthorityPEM == Array("CA".utf8))
        guard case .clientCertificate(let cert, let key) = c.credentials else { Issue.record("expected a client certificate"); return }
        #expect(cert == Array(pem.utf8))
        #expect(key == Array("KEY".utf8))
    }

    @Test func errorsNameWhatIsMissing() throws {
        let path = try write("""
            clusters: [{name: c, cluster: {server: "https://h:1"}}]
            contexts: [{name: x, context: {cluster: c, user: nobody}}]
            """)
        #expect(throws: KubeConfigError.self) { try KubeConfig.load(path: path) }
        do {
            _ = try KubeConfig.load(path: path, context: "x")
            Issue.record("a missing user must be an error")
        } catch let e as KubeConfigError {
            #expect(e.description.contains("user 'nobody'"))
        }
        do {
            _ = try KubeConfig.load(path: path, context: "y")
        } catch let e as KubeConfigError {
            #expect(e.description.contains("context 'y' not found"))
        }
        #expect(throws: KubeConfigError.self) { try KubeConfig.load(path: "/nonexistent/kubeconfig") }
    }
}
