import Foundation
import KubernetesClient
import Testing

/// The real control plane started by `scripts/kube-env.sh start` (scripts/test.sh does it and sets
/// SCALELLM_TEST_KUBECONFIG). Each test works in a namespace of its own.
enum KubeTestEnvironment {
    static let kubeconfig = ProcessInfo.processInfo.environment["SCALELLM_TEST_KUBECONFIG"]
    static var available: Bool { kubeconfig != nil }
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static func client(fieldManager: String = "scalellm-test") throws -> KubeClient {
        try KubeClient(config: try KubeConfig.load(path: kubeconfig ?? ""), fieldManager: fieldManager)
    }

    /// A fresh namespace with a unique name.
    static func namespace(_ client: KubeClient, _ prefix: String) async throws -> String {
        let name = "\(prefix)-\(UInt32.random(in: 0...UInt32.max) % 1_000_000)"
        _ = try await client.create(Namespace(name: name))
        return name
    }

    /// Runs kubectl against the test control plane; returns (exit status, output).
    @discardableResult
    static func kubectl(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["kubectl", "--kubeconfig", kubeconfig ?? ""] + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Installs the project's CRD (manifests/crd.yaml) and waits until it is served.
    static func installCRD() throws {
        let crd = repositoryRoot + "/manifests/crd.yaml"
        // Suites run in parallel: two first applies race (each sees no CRD, one create fails with
        // AlreadyExists). Applying again then updates the existing object.
        var applied = try kubectl(["apply", "-f", crd])
        for _ in 0..<3 where applied.status != 0 && applied.output.contains("AlreadyExists") {
            applied = try kubectl(["apply", "-f", crd])
        }
        #expect(applied.status == 0, "kubectl apply crd: \(applied.output)")
        let waited = try kubectl(["wait", "--for", "condition=established", "--timeout=30s", "crd/llmservices.scalellm.io"])
        #expect(waited.status == 0, "kubectl wait crd: \(waited.output)")
    }

    /// Polls `check` until it is true or `timeout` passes (then the test fails with `what`).
    static func eventually(_ what: String, timeout: Duration = .seconds(30),
                           _ check: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await check() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out after \(timeout): \(what)")
        throw CancellationError()
    }
}

@Test("CI runs the Kubernetes tests (SCALELLM_TEST_KUBECONFIG is set when CI is)")
func kubernetesTestsRunInCI() {
    if ProcessInfo.processInfo.environment["CI"] != nil {
        #expect(KubeTestEnvironment.available, "scripts/test.sh must start scripts/kube-env.sh and export SCALELLM_TEST_KUBECONFIG")
    }
}
