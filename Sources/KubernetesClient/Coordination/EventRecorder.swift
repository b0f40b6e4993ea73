import Foundation
import Logging

/// Writes core/v1 Events about an object (`kubectl describe` shows them).
public struct EventRecorder: Sendable {
    let client: KubeClient
    let component: String
    let logger: Logger

    public init(client: KubeClient, component: String, logger: Logger = Logger(label: "scalellm.events")) {
        self.client = client
        self.component = component
        self.logger = logger
    }

    /// Records an event; failures are logged, never thrown (events are best effort).
    public func record<T: KubeResource>(_ object: T, type: String = "Normal", reason: String, message: String) async {
        let name = object.metadata.name ?? "object"
        let now = Date()
        let suffix = String(UInt64(now.timeIntervalSince1970 * 1_000_000_000), radix: 16)
        let event = Event(
            metadata: ObjectMeta(name: "\(name).\(suffix)", namespace: object.metadata.namespace),
            involvedObject: .init(apiVersion: T.resource.apiVersion, kind: T.resource.kind, name: name,
                                  namespace: object.metadata.namespace, uid: object.metadata.uid),
            reason: reason, message: message, type: type, timestamp: KubeTime.seconds(now), component: component)
        do {
            _ = try await client.create(event)
        } catch {
            logger.warning("could not record event \(reason) on \(name): \(error)")
        }
    }
}
