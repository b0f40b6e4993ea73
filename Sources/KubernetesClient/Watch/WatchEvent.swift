import Foundation

/// One change from a watch.
public enum WatchEvent<T: KubeResource>: Sendable {
    case added(T)
    case modified(T)
    case deleted(T)
    /// The server's progress marker: the watch can resume from this resourceVersion.
    case bookmark(resourceVersion: String)
    /// The server ended the watch with an error (410 Gone: the resourceVersion is too old).
    case error(KubeAPIError)

    /// Decodes one line of a watch stream.
    static func decode(line: Data) throws -> WatchEvent<T> {
        let decoder = JSONDecoder()
        let type = try decoder.decode(Head.self, from: line).type
        switch type {
        case "ADDED": return .added(try decoder.decode(Envelope<T>.self, from: line).object)
        case "MODIFIED": return .modified(try decoder.decode(Envelope<T>.self, from: line).object)
        case "DELETED": return .deleted(try decoder.decode(Envelope<T>.self, from: line).object)
        case "BOOKMARK":
            let meta = try decoder.decode(Envelope<MetaOnly>.self, from: line).object.metadata
            return .bookmark(resourceVersion: meta.resourceVersion ?? "")
        default:
            let status = (try? decoder.decode(Envelope<StatusObject>.self, from: line).object)
            return .error(KubeAPIError(code: status?.code ?? 500, reason: status?.reason ?? type,
                                       message: status?.message ?? String(decoding: line, as: UTF8.self)))
        }
    }
}

private struct Head: Decodable { var type: String }
private struct Envelope<O: Decodable>: Decodable { var object: O }
private struct MetaOnly: Decodable { var metadata: ObjectMeta }
