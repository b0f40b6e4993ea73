/// Names a kind of API object: its group/version, plural resource name and scope.
public struct ResourceDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// "" for the core group.
    public let group: String
    public let version: String
    public let plural: String
    public let kind: String
    public let namespaced: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool = true) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    /// `v1` or `apps/v1`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The collection path, e.g. `/apis/apps/v1/namespaces/ns/deployments`.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var p = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { p += "/namespaces/\(namespace)" }
        p += "/\(plural)"
        if let name { p += "/\(name)" }
        if let subresource { p += "/\(subresource)" }
        return p
    }
}

/// A typed API object the client can read and write.
public protocol KubeResource: Codable, Sendable {
    static var resource: ResourceDescriptor { get }
    var apiVersion: String? { get set }
    var kind: String? { get set }
    var metadata: ObjectMeta { get set }
}

extension KubeResource {
    /// The object with apiVersion and kind filled in (server-side apply needs both).
    public func typed() -> Self {
        var copy = self
        copy.apiVersion = Self.resource.apiVersion
        copy.kind = Self.resource.kind
        return copy
    }
}

/// A page of a list response.
public struct KubeList<T: KubeResource>: Codable, Sendable {
    public struct ListMeta: Codable, Sendable {
        public var resourceVersion: String?
        public var `continue`: String?
    }
    public var metadata: ListMeta
    public var items: [T]
}
