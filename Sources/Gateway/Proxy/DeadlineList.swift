import NIOCore

/// A node of a `DeadlineList`. The list's links live in the node, so arming a deadline allocates nothing.
public protocol DeadlineListNode: AnyObject {
    var deadlineLinks: DeadlineLinks<Self> { get set }
    /// The deadline passed before the node was disarmed.
    func deadlinePassed()
}

/// A node's place in its `DeadlineList`.
public struct DeadlineLinks<Node: AnyObject> {
    var deadline = NIODeadline.distantFuture
    var armed = false
    var next: Node?
    unowned(unsafe) var prev: Node?

    public init() {}
}

/// Deadlines of one event loop's objects, in a list sorted by deadline, with one timer for the
/// earliest. The gateway arms one per proxied request (`limits.upstream_timeout_ms`); every
/// request gets the same timeout, so a new deadline goes at the tail and arming or disarming is
/// a few pointer writes. A scheduled task per request (a promise, a heap entry and a cancellation)
/// cost ~3 % of the proxy's cycles. Loop-confined: call it on its event loop only.
public final class DeadlineList<Node: DeadlineListNode> {
    private let eventLoop: any EventLoop
    private var head: Node?
    private unowned(unsafe) var tail: Node?
    private var timer: Scheduled<Void>?
    private var timerDeadline = NIODeadline.distantFuture

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// The number of armed deadlines (walks the list).
    public var count: Int {
        var n = 0
        var node = head
        while let x = node { n += 1; node = x.deadlineLinks.next }
        return n
    }

    /// Arms `node`'s deadline (moving it if it was armed); `deadlinePassed()` is called on it once
    /// the deadline passes, unless `disarm` comes first. The list keeps the node alive until then.
    public func arm(_ node: Node, at deadline: NIODeadline) {
        disarm(node)
        // From the tail back to the first deadline not later: one step while the timeout is unchanged.
        var before = tail
        while let b = before, b.deadlineLinks.deadline > deadline { before = b.deadlineLinks.prev }
        let after = before == nil ? head : before!.deadlineLinks.next
        node.deadlineLinks.deadline = deadline
        node.deadlineLinks.armed = true
        node.deadlineLinks.prev = before
        node.deadlineLinks.next = after
        if let before { before.deadlineLinks.next = node } else { head = node }
        if let after { after.deadlineLinks.prev = node } else { tail = node }
        if deadline < timerDeadline { schedule(at: deadline) }
    }

    /// Clears `node`'s deadline, if armed.
    public func disarm(_ node: Node) {
        guard node.deadlineLinks.armed else { return }
        let prev = node.deadlineLinks.prev, next = node.deadlineLinks.next
        node.deadlineLinks = DeadlineLinks()
        if let next { next.deadlineLinks.prev = prev } else { tail = prev }
        if let prev { prev.deadlineLinks.next = next } else { head = next }
    }

    private func schedule(at deadline: NIODeadline) {
        timer?.cancel()
        timerDeadline = deadline
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.fire() }
    }

    /// Expires every passed deadline, then waits for the next one. It fires early when the node it
    /// was set for was disarmed, and then only moves on to the new earliest deadline.
    private func fire() {
        timer = nil
        timerDeadline = .distantFuture
        let now = eventLoop.now
        while let node = head, node.deadlineLinks.deadline <= now {
            disarm(node)
            node.deadlinePassed()  // may arm again, which schedules the timer
        }
        if let node = head, node.deadlineLinks.deadline < timerDeadline { schedule(at: node.deadlineLinks.deadline) }
    }
}
