/// The API's `Status` object: the body of every error response.
public struct StatusObject: Codable, Sendable {
    public var status: String?
    public var message: String?
    public var reason: String?
    public var code: Int?
}

/// An error answer from the API server, carrying its `Status` reason and message.
public struct KubeAPIError: Error, CustomStringConvertible, Sendable {
    /// HTTP status code (404, 409, 410, 422, ...).
    public let code: Int
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Expired`, `Forbidden`, ...
    public let reason: String
    public let message: String

    public init(code: Int, reason: String, message: String) {
        self.code = code
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(code) \(reason): \(message)" }

    public var isNotFound: Bool { code == 404 }
    public var isConflict: Bool { code == 409 && reason == "Conflict" }
    public var isAlreadyExists: Bool { code == 409 && reason == "AlreadyExists" }
    /// The watch's resourceVersion is too old (410 Gone / Expired).
    public var isGone: Bool { code == 410 || reason == "Expired" || reason == "Gone" }
}

/// A transport failure (connect error, TLS, timeout) talking to the API server.
public struct KubeTransportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
