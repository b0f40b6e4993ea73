import ArgumentParser
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
    @Option(help: "GGUF model file (default: the bundled SmolLM2-135M-Instruct, pulled on first use).") public var model: String?
    @Option(help: "Compute threads per engine (default: the cores shared out among the replicas).") public var threads: Int?
    @Option(help: "Gateway YAML configuration (its backends are added to the started engines).") public var config: String?
    @Argument(parsing: .postTerminator, help: "Further flags passed to every engine, after --.")
    public var engineArguments: [String] = []

    public init() {}

    public func validate() throws {
        guard (1...64).contains(replicas) else { throw ValidationError("--replicas must be between 1 and 64") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    public func run() async throws {
        let logger = Logger(label: "scalellm.up")
        let modelPath = try model ?? ModelStore().pull(log: { printError($0) })
        // Fail here, not in a restart loop of engines, when the file is not a readable GGUF.
        do { _ = try GGUFFile(path: modelPath) } catch { throw ValidationError("cannot load model '\(modelPath)': \(error)") }
        let perEngine = threads ?? max(1, EngineConfiguration.defaultThreads / replicas)
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
        for _ in 0..<replicas {
            let enginePort = try FreePort.find()
            supervisor.start(arguments: ["engine", "--port", String(enginePort), "--model", modelPath, "--threads", String(perEngine)]
                             + engineArguments)
            gateway.backends.append(BackendConfiguration(url: "http://127.0.0.1:\(enginePort)"))
        }
        logger.info("started \(replicas) engine(s) with \(perEngine) thread(s) each; gateway on http://\(host):\(port)")
        do {
            try await naming(host: host, port: port) {
                try await GatewayServer.run(gateway, configPath: config, logger: Logger(label: "scalellm.gateway"))
            }
        } catch {
            supervisor.stopAll()
            throw error
        }
        supervisor.stopAll()
    }
}

/// Starts engine processes, restarts one that dies (after a second), and stops them all on exit.
final class EngineSupervisor: Sendable {
    let executable: String
    let logger: Logger
    private let processes = Mutex<[Process]>([])
    private let stopping = Atomic<Bool>(false)

    init(executable: String, logger: Logger) {
        self.executable = executable
        self.logger = logger
    }

    /// Starts an engine; one that dies is restarted after 1 s, doubling up to 30 s while it keeps
    /// dying within a minute of its start.
    func start(arguments: [String], delay: Double = 1) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let started = ContinuousClock.now
        p.terminationHandler = { [weak self] proc in
            guard let self, !self.stopping.load(ordering: .relaxed) else { return }
            self.processes.withLock { $0.removeAll { $0 === proc } }
            let next = ContinuousClock.now - started < .seconds(60) ? min(delay * 2, 30) : 1
            self.logger.warning("engine \(arguments.joined(separator: " ")) exited with \(proc.terminationStatus); restarting in \(Int(delay)) s")
            Thread.sleep(forTimeInterval: delay)
            if !self.stopping.load(ordering: .relaxed) { self.start(arguments: arguments, delay: next) }
        }
        do {
            try p.run()
            processes.withLock { $0.append(p) }
        } catch {
            logger.error("cannot start engine: \(error)")
        }
    }

    /// SIGTERM to every engine (each drains), then waits for them.
    func stopAll() {
        stopping.store(true, ordering: .relaxed)
        let all = processes.withLock { $0 }
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
