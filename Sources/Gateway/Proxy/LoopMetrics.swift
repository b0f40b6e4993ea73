import Metrics

/// The handles of the per-request series, cached per event loop for its exchanges: looked up
/// without a lock, by small keys (route, status, policy) instead of label strings hashed behind
/// the process-wide cache, which cost ~3 % of the proxy's cycles at c=64. Loop-confined.
final class LoopMetrics {
    /// A proxied route, as a small key.
    enum Route: Int {
        case chat, completions

        var path: String { self == .chat ? ProxyHandler.chatRoute : ProxyHandler.completionsRoute }
    }

    private struct RequestKey: Hashable {
        let route: Route, status: Int, policy: RoutingPolicy?
    }
    private struct DecisionKey: Hashable {
        let policy: RoutingPolicy, reason: String
    }
    private var requests: [RequestKey: Counter] = [:]
    private var decisions: [DecisionKey: Counter] = [:]
    private var durations: [Timer?] = [nil, nil]
    private var firstBytes: [Timer?] = [nil, nil]

    /// Counts an answered request; `policy` nil when none routed it.
    func request(_ route: Route, status: Int, policy: RoutingPolicy?) {
        let key = RequestKey(route: route, status: status, policy: policy)
        if let c = requests[key] { return c.increment() }
        let c = GatewayMetrics.requestCounter(route: route.path, status: status, policy: policy?.rawValue ?? "none")
        requests[key] = c
        c.increment()
    }

    func routing(policy: RoutingPolicy, reason: String) {
        let key = DecisionKey(policy: policy, reason: reason)
        if let c = decisions[key] { return c.increment() }
        let c = GatewayMetrics.routingCounter(policy: policy, reason: reason)
        decisions[key] = c
        c.increment()
    }

    func duration(_ route: Route, seconds: Duration) {
        let t = durations[route.rawValue] ?? GatewayMetrics.durationTimer(route: route.path)
        durations[route.rawValue] = t
        t.recordNanoseconds(GatewayMetrics.nanos(seconds))
    }

    func timeToFirstByte(_ route: Route, seconds: Duration) {
        let t = firstBytes[route.rawValue] ?? GatewayMetrics.timeToFirstByteTimer(route: route.path)
        firstBytes[route.rawValue] = t
        t.recordNanoseconds(GatewayMetrics.nanos(seconds))
    }
}
