import Gateway
import NIOCore
import NIOEmbedded
import Testing

/// The per-loop deadline list behind `limits.upstream_timeout_ms`, on an embedded loop's clock.
@Suite struct DeadlineListTests {
    final class Node: DeadlineListNode {
        let name: String
        var deadlineLinks = DeadlineLinks<Node>()
        var onPassed: () -> Void = {}
        init(_ name: String, _ log: Log) {
            self.name = name
            onPassed = { log.names.append(name) }
        }
        func deadlinePassed() { onPassed() }
    }

    final class Log { var names: [String] = [] }

    /// A list on an embedded loop's clock, and the log its nodes write to when their deadline passes.
    private func fixture() -> (EmbeddedEventLoop, DeadlineList<Node>, Log) {
        let loop = EmbeddedEventLoop()
        return (loop, DeadlineList<Node>(eventLoop: loop), Log())
    }

    @Test func expiresInDeadlineOrderAndSkipsDisarmed() {
        let (loop, list, log) = fixture()
        let start = loop.now
        let a = Node("a", log), b = Node("b", log), c = Node("c", log), d = Node("d", log)
        list.arm(a, at: start + .milliseconds(100))
        list.arm(b, at: start + .milliseconds(200))
        list.arm(c, at: start + .milliseconds(300))
        // An earlier deadline than the tail's (the timeout was lowered) goes in its place.
        list.arm(d, at: start + .milliseconds(150))
        #expect(list.count == 4)
        list.disarm(a)  // its timer still fires, and finds nothing due
        list.disarm(a)  // twice is harmless
        loop.advanceTime(by: .milliseconds(120))
        #expect(log.names.isEmpty)
        loop.advanceTime(by: .milliseconds(40))
        #expect(log.names == ["d"])
        loop.advanceTime(by: .milliseconds(200))
        #expect(log.names == ["d", "b", "c"])
        #expect(list.count == 0)
    }

    @Test func reArmingMovesTheDeadlineAndANodeMayArmAgainWhenItPasses() {
        let (loop, list, log) = fixture()
        let start = loop.now
        let a = Node("a", log), b = Node("b", log)
        list.arm(a, at: start + .milliseconds(50))
        list.arm(b, at: start + .milliseconds(100))
        list.arm(a, at: start + .milliseconds(500))  // moved behind b
        #expect(list.count == 2)
        var retries = 0
        b.onPassed = {
            log.names.append("b")
            retries += 1
            if retries < 3 { list.arm(b, at: loop.now + .milliseconds(100)) }  // a retry arms a new deadline
        }
        loop.advanceTime(by: .milliseconds(60))
        #expect(log.names.isEmpty)
        loop.advanceTime(by: .milliseconds(50))
        #expect(log.names == ["b"])
        loop.advanceTime(by: .milliseconds(100))
        #expect(log.names == ["b", "b"])
        loop.advanceTime(by: .milliseconds(100))
        #expect(log.names == ["b", "b", "b"])
        #expect(list.count == 1)
        loop.advanceTime(by: .milliseconds(300))
        #expect(log.names == ["b", "b", "b", "a"])
        #expect(list.count == 0)
    }

    @Test func theListKeepsAnArmedNodeAliveAndLetsItGoWhenDisarmed() {
        let (loop, list, log) = fixture()
        weak var weakNode: Node?
        do {
            let n = Node("n", log)
            weakNode = n
            list.arm(n, at: loop.now + .seconds(1))
        }
        #expect(weakNode != nil)
        list.disarm(weakNode!)
        #expect(weakNode == nil)
    }
}
