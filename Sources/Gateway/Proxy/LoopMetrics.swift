import Metrics

/// The handles of the per-request series, cached per event loop for its exchanges: looked up
/// without a lock, by small keys (route, status, policy) instead of label strings hashed behind
/// the process-wide cache, which cost ~3 % of the proxy's cycles at c=64. Loop-confined.
final class LoopMetrics {
    typealias Route = ProxyHandler.Route

    private struct RequestKey: Hashable {
        let route: Route, status: Int, policy: RoutingPolicy?
    }
    private struct DecisionKey: Hashable {
        let policy: RoutingPolicy, reason: String
    }
    private var requests: [RequestKey: Counter] = [:]
    private var decisions: [DecisionKey: Counter] = [:]
    /// By route: [chat, completions] (an array index is cheaper than a dictionary lookup here).
    private var durations: [Timer?] = [nil, nil]
    private var firstBytes: [Timer?] = [nil, nil]

    /// Counts an answered request; `policy` nil when none routed it.
    func request(_ route: Route, status: Int, policy: RoutingPolicy?) {
        Self.cached(&requests, RequestKey(route: route, status: status, policy: policy)) {
            GatewayMetrics.requestCounter(route: route.rawValue, status: status, policy: policy?.rawValue ?? "none")
        }.increment()
    }

    func routing(policy: RoutingPolicy, reason: String) {
        Self.cached(&decisions, DecisionKey(policy: policy, reason: reason)) {
            GatewayMetrics.routingCounter(policy: policy, reason: reason)
        }.increment()
    }

    func duration(_ route: Route, seconds: Duration) {
        Self.timer(&durations, route) { GatewayMetrics.durationTimer(route: $0) }
            .recordNanoseconds(GatewayMetrics.nanos(seconds))
    }

    func timeToFirstByte(_ route: Route, seconds: Duration) {
        Self.timer(&firstBytes, route) { GatewayMetrics.timeToFirstByteTimer(route: $0) }
            .recordNanoseconds(GatewayMetrics.nanos(seconds))
    }

    private static func cached<Key: Hashable>(_ cache: inout [Key: Counter], _ key: Key, _ make: () -> Counter) -> Counter {
        if let h = cache[key] { return h }
        let h = make()
        cache[key] = h
        return h
    }

    private static func timer(_ cache: inout [Timer?], _ route: Route, _ make: (String) -> Timer) -> Timer {
        let i = route == .chat ? 0 : 1
        if let t = cache[i] { return t }
        let t = make(route.rawValue)
        cache[i] = t
        return t
    }
}
