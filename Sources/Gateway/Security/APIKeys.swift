import Foundation

/// The API keys the gateway accepts, compared in constant time (the time does not depend on where
/// a wrong key differs, nor on which key matched).
public struct APIKeys: Sendable {
    private let keys: [[UInt8]]
    private let adminToken: [UInt8]?

    public init(keys: [String], adminToken: String? = nil) {
        self.keys = keys.filter { !$0.isEmpty }.map { Array($0.utf8) }
        self.adminToken = adminToken.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
    }

    /// Keys from the configuration, its key file, and `$SCALELLM_API_KEYS` (comma-separated).
    public static func load(_ configuration: GatewayConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> APIKeys {
        var keys = configuration.apiKeys
        if let file = configuration.apiKeyFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ConfigurationError("cannot read api_key_file '\(file)'")
            }
            keys += text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        }
        if let env = environment["SCALELLM_API_KEYS"] {
            keys += env.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return APIKeys(keys: keys, adminToken: configuration.adminToken)
    }

    /// True when no keys are configured: every request is let through.
    public var isOpen: Bool { keys.isEmpty }

    /// The matching key's index for a `Bearer` authorization header, or nil.
    public func authenticate(_ authorization: String?) -> Int? {
        guard let token = Self.bearer(authorization) else { return nil }
        var found = -1
        for (i, k) in keys.enumerated() where Self.constantTimeEqual(k, token) {
            found = i
        }
        return found >= 0 ? found : nil
    }

    /// Admin calls: the admin token when one is set, else any API key, else open.
    public func authorizeAdmin(_ authorization: String?) -> Bool {
        if let adminToken {
            guard let token = Self.bearer(authorization) else { return false }
            return Self.constantTimeEqual(adminToken, token)
        }
        return isOpen || authenticate(authorization) != nil
    }

    static func bearer(_ header: String?) -> [UInt8]? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return Array(parts[1].trimmingCharacters(in: .whitespaces).utf8)
    }

    /// Compares every byte of the longer input; the result depends only on equality.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count) | UInt8(truncatingIfNeeded: (a.count ^ b.count) >> 8)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0 && a.count == b.count
    }
}
