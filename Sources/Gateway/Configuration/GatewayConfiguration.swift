import Foundation
import ServerSupport
import Yams

/// Everything the gateway can be told, from flags or a YAML file (`scalellm gateway --config FILE`).
/// Keys in YAML are snake_case; every field has a default, so a file names only what it changes.
public struct GatewayConfiguration: Codable, Sendable, Equatable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Engine replicas to start with (more can be added at run time through the admin API or a reload).
    public var backends: [BackendConfiguration] = []
    public var healthCheck = HealthCheckConfiguration()
    public var routing = RoutingConfiguration()
    public var loadLevels = LoadLevelConfiguration()
    public var admission = AdmissionConfiguration()
    public var retries = RetryConfiguration()
    public var limits = LimitsConfiguration()
    /// API keys accepted as `Authorization: Bearer KEY`; none means the gateway is open.
    public var apiKeys: [String] = []
    /// A file with more API keys, one per line (`#` comments allowed).
    public var apiKeyFile: String?
    /// Admin endpoints (`/admin/...`) need this bearer token when set; otherwise they accept API keys.
    public var adminToken: String?
    /// Finds more replicas at run time (Kubernetes pods).
    public var discovery: DiscoveryConfiguration?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case host, port, backends, routing, admission, retries, limits
        case healthCheck = "health_check", loadLevels = "load_levels", apiKeys = "api_keys"
        case apiKeyFile = "api_key_file", adminToken = "admin_token", discovery
    }

    // Each key is decoded with its concrete type: Yams reports a wrong scalar ("port: lots") as a
    // type mismatch only through the concrete overloads, not through a generic helper.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        backends = try c.decodeIfPresent([BackendConfiguration].self, forKey: .backends) ?? backends
        healthCheck = try c.decodeIfPresent(HealthCheckConfiguration.self, forKey: .healthCheck) ?? healthCheck
        routing = try c.decodeIfPresent(RoutingConfiguration.self, forKey: .routing) ?? routing
        loadLevels = try c.decodeIfPresent(LoadLevelConfiguration.self, forKey: .loadLevels) ?? loadLevels
        admission = try c.decodeIfPresent(AdmissionConfiguration.self, forKey: .admission) ?? admission
        retries = try c.decodeIfPresent(RetryConfiguration.self, forKey: .retries) ?? retries
        limits = try c.decodeIfPresent(LimitsConfiguration.self, forKey: .limits) ?? limits
        apiKeys = try c.decodeIfPresent([String].self, forKey: .apiKeys) ?? apiKeys
        apiKeyFile = try c.decodeIfPresent(String.self, forKey: .apiKeyFile)
        adminToken = try c.decodeIfPresent(String.self, forKey: .adminToken)
        discovery = try c.decodeIfPresent(DiscoveryConfiguration.self, forKey: .discovery)
    }

    /// Reads a YAML file; errors name the file and the key at fault.
    public static func load(path: String) throws -> GatewayConfiguration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError("cannot read config file '\(path)'")
        }
        return try parse(yaml: text, source: path)
    }

    public static func parse(yaml: String, source: String = "config") throws -> GatewayConfiguration {
        let config: GatewayConfiguration
        do {
            config = try YAMLDecoder().decode(GatewayConfiguration.self, from: yaml.isEmpty ? "{}" : yaml)
        } catch let e as DecodingError {
            throw ConfigurationError("\(source): \(ConfigurationError.describe(e))")
        } catch {
            throw ConfigurationError("\(source): not valid YAML: \(error)")
        }
        try config.validate()
        return config
    }

    /// Checks ranges and orderings that the types alone do not.
    public func validate() throws {
        guard (0...65535).contains(port) else { throw ConfigurationError("port must be between 0 and 65535") }
        for b in backends { _ = try b.endpoint() }
        try loadLevels.validate()
        guard healthCheck.intervalMs >= 10 else { throw ConfigurationError("health_check.interval_ms must be at least 10") }
        guard healthCheck.healthyThreshold >= 1, healthCheck.unhealthyThreshold >= 1 else {
            throw ConfigurationError("health_check thresholds must be at least 1")
        }
        guard admission.queueSize >= 0, admission.timeoutMs >= 0, admission.maxInflightPerReplica >= 1,
              admission.coldStartTimeoutMs >= 0 else {
            throw ConfigurationError("admission.queue_size, timeout_ms and cold_start_timeout_ms must be >= 0, max_inflight_per_replica >= 1")
        }
        guard retries.maxRetries >= 0, retries.backoffMs >= 0 else { throw ConfigurationError("retries values must be >= 0") }
        guard limits.maxBodyBytes >= 1024 else { throw ConfigurationError("limits.max_body_bytes must be at least 1024") }
        guard limits.maxConnections >= 1 else { throw ConfigurationError("limits.max_connections must be at least 1") }
        if let k = discovery?.kubernetes {
            guard !k.labelSelector.isEmpty else { throw ConfigurationError("discovery.kubernetes.label_selector must not be empty") }
            guard (1...65535).contains(k.port) else { throw ConfigurationError("discovery.kubernetes.port must be between 1 and 65535") }
        }
        guard routing.prefixBlockChars >= 1, routing.prefixBlocks >= 1 else {
            throw ConfigurationError("routing.prefix_block_chars and prefix_blocks must be at least 1")
        }
    }
}

/// A configuration problem, reported with the key or value at fault.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }

    static func describe(_ error: DecodingError) -> String {
        let path = JSONBody.codingPath
        switch error {
        case .typeMismatch(let t, let c): return "'\(path(c.codingPath))' has the wrong type (expected \(t))"
        case .valueNotFound(let t, let c): return "'\(path(c.codingPath))' is missing a value (expected \(t))"
        case .keyNotFound(let k, let c): return "'\(path(c.codingPath + [k]))' is required"
        case .dataCorrupted(let c): return "'\(path(c.codingPath))': \(c.debugDescription)"
        @unknown default: return "cannot be decoded"
        }
    }
}

/// One engine replica: its base URL and the pool it belongs to.
public struct BackendConfiguration: Codable, Sendable, Equatable, Hashable {
    public var url: String
    /// Pool label (e.g. "tp2"); replicas of a pool share a tensor-parallel degree.
    public var pool: String = "default"
    /// Tensor-parallel degree of this replica (1 = one worker).
    public var tensorParallel: Int = 1

    public init(url: String, pool: String = "default", tensorParallel: Int = 1) {
        self.url = url
        self.pool = pool
        self.tensorParallel = tensorParallel
    }

    enum CodingKeys: String, CodingKey { case url, pool, tensorParallel = "tensor_parallel" }

    public init(from decoder: any Decoder) throws {
        // A bare string is a URL.
        if let url = try? decoder.singleValueContainer().decode(String.self) {
            self.url = url
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        pool = try c.decodeIfPresent(String.self, forKey: .pool) ?? pool
        tensorParallel = try c.decodeIfPresent(Int.self, forKey: .tensorParallel) ?? tensorParallel
    }

    /// Host and port of `url`, which must be `http://host:port` (an optional trailing slash allowed).
    public func endpoint() throws -> Endpoint {
        try Endpoint(url: url)
    }
}

/// A replica's address: `http://host:port`.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public var description: String { "http://" + hostHeader }
    /// `host:port` as a Host header writes it (an IPv6 host in brackets).
    public var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(url: String) throws {
        guard let u = URLComponents(string: url), u.scheme == "http", let host = u.host, !host.isEmpty else {
            throw ConfigurationError("backend '\(url)' is not an http://host:port URL")
        }
        guard u.path.isEmpty || u.path == "/" else {
            throw ConfigurationError("backend '\(url)' must not have a path (the gateway forwards /v1/... itself)")
        }
        let port = u.port ?? 80
        guard (1...65535).contains(port) else { throw ConfigurationError("backend '\(url)' has port \(port) out of range") }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = port
    }
}

/// Active health checking of replicas.
public struct HealthCheckConfiguration: Codable, Sendable, Equatable {
    /// How often each replica's `/ready` and `/metrics` are read.
    public var intervalMs: Int = 1000
    public var timeoutMs: Int = 1000
    /// Consecutive successful checks before a down replica is up again.
    public var healthyThreshold: Int = 1
    /// Consecutive failed checks (or proxied failures) before an up replica is down.
    public var unhealthyThreshold: Int = 2
    /// Once down through proxied failures (the circuit breaker), no traffic for this long.
    public var breakerOpenMs: Int = 5000

    public init() {}
    enum CodingKeys: String, CodingKey {
        case intervalMs = "interval_ms", timeoutMs = "timeout_ms", healthyThreshold = "healthy_threshold"
        case unhealthyThreshold = "unhealthy_threshold", breakerOpenMs = "breaker_open_ms"
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        intervalMs = try c.decodeIfPresent(Int.self, forKey: .intervalMs) ?? intervalMs
        timeoutMs = try c.decodeIfPresent(Int.self, forKey: .timeoutMs) ?? timeoutMs
        healthyThreshold = try c.decodeIfPresent(Int.self, forKey: .healthyThreshold) ?? healthyThreshold
        unhealthyThreshold = try c.decodeIfPresent(Int.self, forKey: .unhealthyThreshold) ?? unhealthyThreshold
        breakerOpenMs = try c.decodeIfPresent(Int.self, forKey: .breakerOpenMs) ?? breakerOpenMs
    }
}

/// Routing knobs shared by the policies.
public struct RoutingConfiguration: Codable, Sendable, Equatable {
    /// A fixed policy for every load level (overrides `load_levels.*.policy`), or nil for dynamic routing.
    public var policy: RoutingPolicy?
    /// Prefix affinity hashes the prompt in blocks of this many characters...
    public var prefixBlockChars: Int = 128
    /// ...up to this many blocks.
    public var prefixBlocks: Int = 32
    /// Prefix affinity gives way to least-load when its replica has this many more requests in flight
    /// than the least loaded one.
    public var imbalanceGuard: Int = 8
    /// Requests with this header stick to one replica (consistent hashing over the ready replicas).
    public var sessionHeader: String = "x-session-id"

    public init() {}
    enum CodingKeys: String, CodingKey {
        case policy, prefixBlockChars = "prefix_block_chars", prefixBlocks = "prefix_blocks"
        case imbalanceGuard = "imbalance_guard", sessionHeader = "session_header"
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        policy = try c.decodeIfPresent(RoutingPolicy.self, forKey: .policy)
        prefixBlockChars = try c.decodeIfPresent(Int.self, forKey: .prefixBlockChars) ?? prefixBlockChars
        prefixBlocks = try c.decodeIfPresent(Int.self, forKey: .prefixBlocks) ?? prefixBlocks
        imbalanceGuard = try c.decodeIfPresent(Int.self, forKey: .imbalanceGuard) ?? imbalanceGuard
        sessionHeader = try c.decodeIfPresent(String.self, forKey: .sessionHeader) ?? sessionHeader
    }
}

/// Bounded waiting at the high load level instead of overrunning the replicas.
public struct AdmissionConfiguration: Codable, Sendable, Equatable {
    /// At the high level a replica takes at most this many requests at once; more wait in the queue.
    public var maxInflightPerReplica: Int = 64
    /// Requests allowed to wait; beyond it 429 with Retry-After.
    public var queueSize: Int = 256
    /// How long a request may wait before 429.
    public var timeoutMs: Int = 30000
    /// When no replica is ready (scaled to zero, or the first one still starting), hold requests this
    /// long for one to come up instead of answering 503 at once; 0 answers 503 at once. At most
    /// `queue_size` requests are held.
    public var coldStartTimeoutMs: Int = 0

    public init() {}
    enum CodingKeys: String, CodingKey {
        case maxInflightPerReplica = "max_inflight_per_replica", queueSize = "queue_size", timeoutMs = "timeout_ms"
        case coldStartTimeoutMs = "cold_start_timeout_ms"
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxInflightPerReplica = try c.decodeIfPresent(Int.self, forKey: .maxInflightPerReplica) ?? maxInflightPerReplica
        queueSize = try c.decodeIfPresent(Int.self, forKey: .queueSize) ?? queueSize
        timeoutMs = try c.decodeIfPresent(Int.self, forKey: .timeoutMs) ?? timeoutMs
        coldStartTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .coldStartTimeoutMs) ?? coldStartTimeoutMs
    }
}

/// Retrying on another replica before the first byte reached the client.
public struct RetryConfiguration: Codable, Sendable, Equatable {
    public var maxRetries: Int = 2
    /// Base backoff; each retry waits base * 2^attempt with full jitter.
    public var backoffMs: Int = 20

    public init() {}
    enum CodingKeys: String, CodingKey { case maxRetries = "max_retries", backoffMs = "backoff_ms" }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxRetries = try c.decodeIfPresent(Int.self, forKey: .maxRetries) ?? maxRetries
        backoffMs = try c.decodeIfPresent(Int.self, forKey: .backoffMs) ?? backoffMs
    }
}

/// Protection against large bodies, slow clients and greedy keys.
public struct LimitsConfiguration: Codable, Sendable, Equatable {
    public var maxBodyBytes: Int = 4 << 20
    /// Open client connections at most (new ones wait in the kernel's backlog).
    public var maxConnections: Int = 4096
    /// A client connection idle this long (no request, or a request that stopped sending) is closed.
    public var idleTimeoutMs: Int = 60000
    /// Per API key (or per client address when the gateway is open): requests per minute, 0 = unlimited.
    public var requestsPerMinute: Int = 0
    /// Per API key: prompt + completion tokens per minute (prompt estimated at 4 characters a token), 0 = unlimited.
    public var tokensPerMinute: Int = 0
    /// Upper bound on one proxied request, first byte to last.
    public var upstreamTimeoutMs: Int = 600_000

    public init() {}
    enum CodingKeys: String, CodingKey {
        case maxBodyBytes = "max_body_bytes", maxConnections = "max_connections", idleTimeoutMs = "idle_timeout_ms"
        case requestsPerMinute = "requests_per_minute", tokensPerMinute = "tokens_per_minute"
        case upstreamTimeoutMs = "upstream_timeout_ms"
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? maxBodyBytes
        maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections) ?? maxConnections
        idleTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .idleTimeoutMs) ?? idleTimeoutMs
        requestsPerMinute = try c.decodeIfPresent(Int.self, forKey: .requestsPerMinute) ?? requestsPerMinute
        tokensPerMinute = try c.decodeIfPresent(Int.self, forKey: .tokensPerMinute) ?? tokensPerMinute
        upstreamTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .upstreamTimeoutMs) ?? upstreamTimeoutMs
    }
}
