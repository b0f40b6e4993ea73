/// Formats a number for decision reasons with one decimal ("64.0", "17.6"), without Foundation.
func formatNumber(_ x: Double) -> String {
    guard x.isFinite else { return "\(x)" }
    let r = (x * 10).rounded() / 10 + 0  // `+ 0` turns -0.0 into 0.0
    return "\(r)"
}

/// Formats a duration for decision reasons: whole seconds as "60s", others as "2.5s".
func formatSeconds(_ x: Double) -> String {
    if x.isFinite, x == x.rounded(), abs(x) < 1e15 { return "\(Int(x))s" }
    return "\(formatNumber(x))s"
}

/// "1 replica", "3 replicas".
func formatReplicas(_ n: Int) -> String { n == 1 ? "1 replica" : "\(n) replicas" }
