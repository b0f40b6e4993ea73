import ArgumentParser
import Glibc
import NIOCore

/// Runs a server and turns "address already in use" into a message naming the address.
func naming(host: String, port: Int, flag: String = "--port", _ serve: () async throws -> Void) async throws {
    do {
        try await serve()
    } catch let e as IOError where e.errnoCode == EADDRINUSE {
        throw ValidationError("cannot listen on \(host):\(port): the address is already in use (pick another \(flag))")
    }
}
