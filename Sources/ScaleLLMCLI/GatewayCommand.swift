import ArgumentParser
import Gateway
import Logging

/// `scalellm gateway`: the OpenAI-compatible ingress in front of engine replicas.
public struct GatewayCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Route OpenAI API requests over engine replicas, switching policy by load level.",
        discussion: """
            Flags override the YAML file given with --config (see docs/gateway.md for every key). \
            SIGHUP or POST /admin/reload re-reads the file's backend list.
            """)

    @Option(help: "YAML configuration file.") public var config: String?
    @Option(help: "Address to listen on (default 127.0.0.1).") public var host: String?
    @Option(help: "Port to listen on (default 8080; 0 picks a free one).") public var port: Int?
    @Option(help: "Engine replica URL, http://host:port (repeatable).") public var backend: [String] = []
    @Option(help: "One routing policy for every load level: round_robin, random, least_outstanding, power_of_two, prefix_affinity, session_affinity.")
    public var policy: String?
    @Option(help: "File of API keys, one per line (also $SCALELLM_API_KEYS, comma-separated).") public var apiKeyFile: String?
    @Option(help: "Log level (trace, debug, info, notice, warning, error).") public var logLevel: String = "info"

    public init() {}

    public func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if let policy, RoutingPolicy(rawValue: policy) == nil {
            throw ValidationError("--policy '\(policy)' is not one of \(RoutingPolicy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level '\(logLevel)' is not a log level") }
        _ = try makeConfiguration()
    }

    func makeConfiguration() throws -> GatewayConfiguration {
        do {
            var c = try config.map { try GatewayConfiguration.load(path: $0) } ?? GatewayConfiguration()
            if let host { c.host = host }
            if let port { c.port = port }
            c.backends += backend.map { BackendConfiguration(url: $0) }
            if let policy { c.routing.policy = RoutingPolicy(rawValue: policy) }
            if let apiKeyFile { c.apiKeyFile = apiKeyFile }
            try c.validate()
            _ = try APIKeys.load(c)
            return c
        } catch let e as ConfigurationError {
            throw ValidationError(e.description)
        }
    }

    public func run() async throws {
        var logger = Logger(label: "scalellm.gateway")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let configuration = try makeConfiguration()
        try await naming(host: configuration.host, port: configuration.port) {
            try await GatewayServer.run(configuration, configPath: config, logger: logger)
        }
    }
}
