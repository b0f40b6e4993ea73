import ArgumentParser
import Autoscaler
import Foundation
import Gateway
import LLMEngine
import LLMModel
import Logging
import Synchronization

/// `scalellm up`: the whole stack on one machine — N engine processes on free loopback ports and
/// the gateway in front. Ctrl-C (or SIGTERM) drains the gateway, then stops the engines.
public struct UpCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Run engines and the gateway on this machine (the local stack).")

    @Option(help: "Engine replicas to start.") public var replicas: Int = 1
    @Option(help: "Gateway port.") public var port: Int = 8080
    @Option(help: "Gateway address.") public var host: String = "127.0.0.1"
    @Option(help: "GGUF model file, or a name from `scalellm model list` (pulled on first use; default: smollm2-135m).") public var model: String?
    @Option(help: "Compute threads per engine (default: the cores shared out among the replicas).") public var threads: Int?
    @Option(help: "Gateway YAML configuration (its backends are added to the started engines).") public var config: String?
    @Flag(help: "Scale the engines with load (the operator's autoscaler, driving local processes).") public var autoscale = false
    @Option(help: "With --autoscale: fewest engines (0 needs --scale-to-zero).") public var minReplicas: Int = 1
    @Option(help: "With --autoscale: most engines.") public var maxReplicas: Int = 4
    @Option(help: "With --autoscale: target in-flight requests per engine.") public var target: Double = 8
    @Option(help: "With --autoscale: seconds of the stable averaging window.") public var stableWindow: Double = 60
    @Option(help: "With --autoscale: seconds of the panic window.") public var panicWindow: Double = 6
    @Option(help: "With --autoscale: seconds a scale-down waits (the largest recommendation in this window wins).")
    public var scaleDownDelay: Double = 300
    @Flag(help: "With --autoscale: stop every engine when idle; the gateway holds requests while the first starts.")
    public var scaleToZero = false
    @Argument(parsing: .postTerminator, help: "Further flags passed to every engine, after --.")
    public var engineArguments: [String] = []

    public init() {}

    public func validate() throws {
        guard (1...64).contains(replicas) else { throw ValidationError("--replicas must be between 1 and 64") }
        if autoscale {
            _ = try autoscalerConfiguration()
            guard maxReplicas <= 64 else { throw ValidationError("--max-replicas must be at most 64") }
            if minReplicas == 0 && !scaleToZero { throw ValidationError("--min-replicas 0 needs --scale-to-zero") }
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func autoscalerConfiguration() throws -> AutoscalerConfiguration {
        var c = AutoscalerConfiguration()
        c.minReplicas = minReplicas
        c.maxReplicas = maxReplicas
        c.targetPerReplica = target
        c.stableWindow = stableWindow
        c.panicWindow = panicWindow
        c.scaleDownStabilization = scaleDownDelay
        c.scaleToZero = scaleToZero
        c.scaleToZeroGracePeriod = min(30, stableWindow)
        do {
            try c.validate()
        } catch let e as AutoscalerConfigurationError {
            // The autoscaler names YAML keys (max_replicas); here they are flags (--max-replicas).
            let flag = { (word: Substring) -> String in
                word.contains("_") ? "--" + word.replacingOccurrences(of: "_", with: "-") : String(word)
            }
            let message = e.message.split(separator: " ").map(flag).joined(separator: " ")
            throw ValidationError("--\(e.key.replacingOccurrences(of: "_", with: "-")) \(message)")
        }
        return c
    }

    public func run() async throws {
        let logger = Logger(label: "scalellm.up")
        let modelPath = try ModelStore().resolve(model, log: { printError($0) })
        // Fail here, not in a restart loop of engines, when the file is not a readable GGUF.
        do { _ = try GGUFFile(path: modelPath) } catch { throw ValidationError("cannot load model '\(modelPath)': \(error)") }
        let initial = autoscale ? minReplicas : replicas
        let perEngine = threads ?? max(1, EngineConfiguration.defaultThreads / (autoscale ? maxReplicas : replicas))
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var gateway = GatewayConfiguration()
        do {
            if let config { gateway = try GatewayConfiguration.load(path: config) }
        } catch let e as ConfigurationError {
            throw ValidationError(e.description)
        }
        gateway.host = host
        gateway.port = port
        let supervisor = EngineSupervisor(executable: executable, logger: logger)
        let extra = engineArguments
        let arguments: @Sendable (Int) -> [String] = { enginePort in
            ["engine", "--port", String(enginePort), "--model", modelPath, "--threads", String(perEngine)] + extra
        }
        for _ in 0..<initial {
            let enginePort = try FreePort.find()
            supervisor.start(port: enginePort, arguments: arguments(enginePort))
            gateway.backends.append(BackendConfiguration(url: "http://127.0.0.1:\(enginePort)", pool: LocalAutoscaler.pool))
        }
        var scaling: AutoscalerConfiguration?
        if autoscale {
            scaling = try autoscalerConfiguration()
            if scaleToZero && gateway.admission.coldStartTimeoutMs == 0 { gateway.admission.coldStartTimeoutMs = 120_000 }
            logger.info("autoscaling \(minReplicas)...\(maxReplicas) engines at \(target) in-flight requests each")
        }
        let scalingConfiguration = scaling
        logger.info("started \(initial) engine(s) with \(perEngine) thread(s) each; gateway on http://\(host):\(port)")
        do {
            try await naming(host: host, port: port) {
                try await GatewayServer.run(gateway, configPath: config, logger: Logger(label: "scalellm.gateway"),
                                            extraServices: { core in
                    guard let scalingConfiguration else { return [] }
                    return [LocalAutoscaler(core: core, supervisor: supervisor, configuration: scalingConfiguration, interval: .seconds(1),
                                            engineArguments: arguments, logger: logger)]
                })
            }
        } catch {
            supervisor.stopAll()
            throw error
        }
        supervisor.stopAll()
    }
}

/// Starts engine processes, restarts one that dies (backing off), retires ones the autoscaler
/// removes, and stops them all on exit.
final class EngineSupervisor: Sendable {
    let executable: String
    let logger: Logger
    private struct Engine {
        var process: Process
        var retiring = false
    }
    private let engines = Mutex<[Int: Engine]>([:])
    private let stopping = Atomic<Bool>(false)

    init(executable: String, logger: Logger) {
        self.executable = executable
        self.logger = logger
    }

    /// Engines running or starting that are not being retired.
    var activeCount: Int { engines.withLock { $0.values.filter { !$0.retiring }.count } }
    var activePorts: [Int] { engines.withLock { $0.filter { !$0.value.retiring }.map(\.key) } }

    /// Starts an engine on `port`; one that dies is restarted after 1 s, doubling up to 30 s while
    /// it keeps dying within a minute of its start.
    func start(port: Int, arguments: [String], delay: Double = 1) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let started = ContinuousClock.now
        p.terminationHandler = { [weak self] proc in
            guard let self else { return }
            let restart = self.engines.withLock { e -> Bool in
                guard let engine = e[port], engine.process === proc else { return false }
                if engine.retiring || self.stopping.load(ordering: .relaxed) {
                    e[port] = nil
                    return false
                }
                return true
            }
            guard restart else { return }
            let next = ContinuousClock.now - started < .seconds(60) ? min(delay * 2, 30) : 1
            self.logger.warning("engine on port \(port) exited with \(proc.terminationStatus); restarting in \(Int(delay)) s")
            Thread.sleep(forTimeInterval: delay)
            let still = self.engines.withLock { $0[port].map { !$0.retiring } ?? false }
            if still && !self.stopping.load(ordering: .relaxed) { self.start(port: port, arguments: arguments, delay: next) }
        }
        engines.withLock { $0[port] = Engine(process: p) }
        do {
            try p.run()
        } catch {
            engines.withLock { $0[port] = nil }
            logger.error("cannot start engine: \(error)")
        }
    }

    /// Counts the engine out of the active ones (it is draining).
    func markRetiring(port: Int) {
        engines.withLock { $0[port]?.retiring = true }
    }

    /// Stops a drained engine for good (SIGTERM: it finishes anything left, then exits).
    func retire(port: Int) {
        let p = engines.withLock { e -> Process? in
            e[port]?.retiring = true
            return e[port]?.process
        }
        if let p, p.isRunning { p.terminate() }
    }

    /// SIGTERM to every engine (each drains), then waits for them.
    func stopAll() {
        stopping.store(true, ordering: .relaxed)
        let all = engines.withLock { $0.values.map(\.process) }
        for p in all where p.isRunning { p.terminate() }
        for p in all { p.waitUntilExit() }
    }
}

/// A free TCP port on the loopback interface (bound and released; the engine binds it next).
enum FreePort {
    static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("cannot open a socket to find a free port") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw ValidationError("cannot bind a loopback socket to find a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
