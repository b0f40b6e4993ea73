// A fast stub engine replica for gateway tests and benchmarks (see StubBackend).
// usage: scalellm-stub [--port P] [--events N] [--delay-ms MS] [--event-delay-ms MS] [--status CODE] [--model NAME] [--flush-each-event 0|1] [--threads N]
import Foundation
import Hummingbird
import NIOPosix
import StubBackend

var behaviour = StubBackend.Behaviour()
var port = 8001
/// Event-loop threads; nil: one per core (NIO's shared group).
var threads: Int?
var args = CommandLine.arguments.dropFirst()
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("scalellm-stub: \(message)\n".utf8))
    exit(2)
}
while let flag = args.popFirst() {
    guard let value = args.popFirst() else { fail("\(flag) needs a value") }
    func int() -> Int {
        guard let v = Int(value) else { fail("\(flag) needs an integer, got '\(value)'") }
        return v
    }
    switch flag {
    case "--port": port = int()
    case "--events": behaviour.events = int()
    case "--delay-ms": behaviour.delayMs = int()
    case "--event-delay-ms": behaviour.eventDelayMs = int()
    case "--status": behaviour.status = int()
    case "--model": behaviour.model = value
    case "--flush-each-event": behaviour.flushEachEvent = int() != 0
    case "--threads":
        let n = int()
        guard n >= 1 else { fail("--threads needs at least 1, got \(n)") }
        threads = n
    default: fail("unknown flag \(flag)")
    }
}
let stub = StubBackend(behaviour)
let bindPort = port
let app = Application(router: stub.makeRouter(), server: stub.server(), configuration: .init(address: .hostname("127.0.0.1", port: bindPort), serverName: "scalellm-stub"),
                      onServerRunning: { channel in
                          FileHandle.standardOutput.write(Data("stub listening on \(channel.localAddress?.port ?? bindPort)\n".utf8))
                      },
                      eventLoopGroupProvider: threads.map { .shared(MultiThreadedEventLoopGroup(numberOfThreads: $0)) } ?? .singleton)
try await app.runService()
