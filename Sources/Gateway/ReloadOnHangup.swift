import ServiceLifecycle
import UnixSignals

/// SIGHUP re-reads the config file's backend list (as `POST /admin/reload` does).
struct ReloadOnHangup: Service {
    let core: GatewayCore
    let path: String

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                _ = try reload(core, path: path)
            } catch {
                core.logger.error("reload of \(path) failed, pool unchanged: \(error)")
            }
        }
    }
}
