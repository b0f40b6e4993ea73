import Foundation
import KubernetesClient
import Synchronization
import Testing

/// The client against a real kube-apiserver (scripts/kube-env.sh).
@Suite("Kubernetes client on a real apiserver", .enabled(if: KubeTestEnvironment.available), .timeLimit(.minutes(2)))
struct KubeClientIntegrationTests {
    func configMap(_ name: String, _ ns: String, _ data: [String: String] = [:], labels: [String: String]? = nil) -> ConfigMap {
        ConfigMap(metadata: ObjectMeta(name: name, namespace: ns, labels: labels), data: data)
    }

    @Test func listFollowsPagesAndErrorsCarryTheStatus() async throws {
        let client = try KubeTestEnvironment.client()
        defer { Task { try? await client.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "paging")
        for i in 0..<7 { _ = try await client.create(configMap("cm-\(i)", ns, labels: ["set": "paged"])) }
        let (items, version) = try await client.list(ConfigMap.self, namespace: ns, labelSelector: "set=paged", pageSize: 3)
        #expect(items.count == 7)
        #expect(!version.isEmpty)
        do {
            _ = try await client.get(ConfigMap.self, name: "missing", namespace: ns)
            Issue.record("a missing object must throw")
        } catch let e as KubeAPIError {
            #expect(e.isNotFound && e.reason == "NotFound" && e.message.contains("missing"))
        }
        do {
            _ = try await client.create(configMap("cm-0", ns))
            Issue.record("a duplicate must throw")
        } catch let e as KubeAPIError {
            #expect(e.isAlreadyExists)
        }
    }

    @Test func conflictingWriteIsRetriedFromAFreshRead() async throws {
        let client = try KubeTestEnvironment.client()
        let other = try KubeTestEnvironment.client(fieldManager: "someone-else")
        defer { Task { try? await client.shutdown(); try? await other.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "conflict")
        _ = try await client.create(configMap("shared", ns, ["a": "1"]))
        let attempts = Mutex(0)
        try await client.retryOnConflict {
            let n = attempts.withLock { $0 += 1; return $0 }
            var mine = try await client.get(ConfigMap.self, name: "shared", namespace: ns)
            if n == 1 {
                // Another writer changes the object between our read and our write.
                var theirs = try await other.get(ConfigMap.self, name: "shared", namespace: ns)
                theirs.data?["b"] = "2"
                _ = try await other.update(theirs)
            }
            mine.data?["c"] = "3"
            _ = try await client.update(mine)
        }
        #expect(attempts.withLock { $0 } == 2)
        let final = try await client.get(ConfigMap.self, name: "shared", namespace: ns)
        #expect(final.data == ["a": "1", "b": "2", "c": "3"])
    }

    @Test func informerRelistsAfterExpiryWithoutMissingAChange() async throws {
        let client = try KubeTestEnvironment.client()
        defer { Task { try? await client.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "relist")
        let l = ["t": "relist"]
        _ = try await client.create(configMap("a", ns, ["v": "1"], labels: l))
        _ = try await client.create(configMap("b", ns, ["v": "1"], labels: l))
        let informer = Informer<ConfigMap>(client: client, namespace: ns, labelSelector: "t=relist")
        let first = try await informer.relist()
        #expect(first.count == 2)
        // While nobody watches: one object appears, one changes, one goes.
        _ = try await client.create(configMap("c", ns, ["v": "1"], labels: l))
        var b = try await client.get(ConfigMap.self, name: "b", namespace: ns)
        b.data = ["v": "2"]
        _ = try await client.update(b)
        try await client.delete(ConfigMap.self, name: "a", namespace: ns)
        // The watch resumes from a version the server no longer keeps: 410 Gone (the test control
        // plane compacts etcd every 5 s and serves ConfigMap watches from etcd).
        try await KubeTestEnvironment.eventually("revision 1 compacted away", timeout: .seconds(40)) {
            do {
                for try await event in try await client.watch(ConfigMap.self, namespace: ns, resourceVersion: "1", timeoutSeconds: 1) {
                    if case .error(let e) = event { return e.isGone }
                    return false
                }
                return false
            } catch let e as KubeAPIError {
                return e.isGone
            }
        }
        informer.resume(from: "1")
        let end = try await informer.watchOnce(timeoutSeconds: 5) { _ in }
        #expect(end == .expired)
        let events = try await informer.relist()
        var seen: [String] = []
        for e in events {
            switch e {
            case .added(let o): seen.append("added \(o.metadata.name ?? "")")
            case .updated(_, let o): seen.append("updated \(o.metadata.name ?? "") v=\(o.data?["v"] ?? "")")
            case .deleted(let o): seen.append("deleted \(o.metadata.name ?? "")")
            }
        }
        #expect(Set(seen) == ["added c", "updated b v=2", "deleted a"])
        #expect(Set(informer.items.compactMap(\.metadata.name)) == ["b", "c"])
        #expect(informer.listCount == 2)
    }

    @Test func informerRunFollowsLiveChanges() async throws {
        let client = try KubeTestEnvironment.client()
        defer { Task { try? await client.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "informer")
        let informer = Informer<ConfigMap>(client: client, namespace: ns, labelSelector: "watched=yes")
        let log = Mutex<[String]>([])
        let task = Task {
            await informer.run(watchTimeoutSeconds: 2) { e in
                switch e {
                case .added(let o): log.withLock { $0.append("added \(o.metadata.name ?? "")") }
                case .updated(_, let o): log.withLock { $0.append("updated \(o.metadata.name ?? "")") }
                case .deleted(let o): log.withLock { $0.append("deleted \(o.metadata.name ?? "")") }
                }
            }
        }
        try await KubeTestEnvironment.eventually("informer synced") { informer.hasSynced }
        _ = try await client.create(configMap("x", ns, ["v": "1"], labels: ["watched": "yes"]))
        _ = try await client.create(configMap("ignored", ns, labels: ["watched": "no"]))
        // Outlive one server-side watch timeout (2 s): the watch resumes where it stopped.
        try await Task.sleep(for: .seconds(3))
        var x = try await client.get(ConfigMap.self, name: "x", namespace: ns)
        x.data = ["v": "2"]
        _ = try await client.update(x)
        // The update is seen before the delete: a relist (below) between the two would otherwise
        // rightly fold them into one "deleted x", as any informer does.
        try await KubeTestEnvironment.eventually("the update") { log.withLock { $0.count } >= 2 }
        try await client.delete(ConfigMap.self, name: "x", namespace: ns)
        try await KubeTestEnvironment.eventually("three events") { log.withLock { $0.count } >= 3 }
        task.cancel()
        await task.value
        #expect(log.withLock { $0 } == ["added x", "updated x", "deleted x"])
        // Usually one list. The test apiserver compacts etcd every 5 s, so a resume can find its
        // version expired (410) and relist; the events above must be exactly the same either way.
        #expect(informer.listCount >= 1)
    }

    @Test func scaleSubresourceAndServerSideApply() async throws {
        let client = try KubeTestEnvironment.client()
        defer { Task { try? await client.shutdown() } }
        let ns = try await KubeTestEnvironment.namespace(client, "scale")
        var c = Container(name: "c", image: "busybox")
        c.args = ["sleep", "1"]
        let labels = ["app": "s"]
        let d = Deployment(metadata: ObjectMeta(name: "s", namespace: ns, labels: labels), spec: .init(
            replicas: 1, selector: LabelSelector(matchLabels: labels),
            template: PodTemplateSpec(metadata: ObjectMeta(labels: labels), spec: PodSpec(containers: [c]))))
        let created = try await client.apply(d)
        #expect(created.metadata.generation == 1)
        let again = try await client.apply(d)
        #expect(again.metadata.generation == 1, "applying the same object does not change the spec")
        try await client.setScale(Deployment.self, name: "s", namespace: ns, replicas: 3)
        #expect(try await client.getScale(Deployment.self, name: "s", namespace: ns).spec?.replicas == 3)
        #expect(try await client.get(Deployment.self, name: "s", namespace: ns).spec?.replicas == 3)
    }
}
