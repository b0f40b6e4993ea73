/// The autoscaler's bounded, time-ordered buffer of load samples, and the window averages over it.
///
/// Demand is treated as a step function (zero-order hold): each sample's value holds from its
/// time until the next sample, and the newest one holds until `now`. A window average is the
/// integral of that function over `[now − window, now]` divided by the covered time; time before
/// the first retained sample is not covered (so right after start-up the average is over what
/// has been seen). When the covered time is zero (only samples exactly at `now`), the plain mean
/// of the samples in the window is used instead.
struct DemandHistory: Sendable {
    /// Samples sorted by time; the live ones are `storage[head...]`.
    private var storage: [LoadSample] = []
    private var head = 0
    /// Samples older than this many seconds before the newest are dropped, except the newest of
    /// them, which still supplies the demand at the start of the longest window.
    let retention: Double
    /// A hard cap on the number of samples, whatever their rate; the oldest go first.
    let capacity: Int

    init(retention: Double, capacity: Int) {
        self.retention = retention
        self.capacity = max(2, capacity)
    }

    var count: Int { storage.count - head }

    /// Adds a sample in time order (a late sample is inserted where it belongs). Samples with a
    /// non-finite time or demand are ignored; negative demand counts as 0.
    mutating func append(_ sample: LoadSample) {
        guard sample.time.isFinite, sample.demand.isFinite else { return }
        let s = LoadSample(time: sample.time, demand: max(0, sample.demand))
        if let last = storage.last, count > 0, s.time < last.time {
            let i = upperBound(s.time)
            storage.insert(s, at: i)
        } else {
            storage.append(s)
        }
        prune(now: storage[storage.count - 1].time)
    }

    /// Drops samples that no window reaches any more, as seen from `now`.
    mutating func prune(now: Double) {
        let cutoff = now - retention
        while count >= 2, storage[head + 1].time <= cutoff { head += 1 }
        if count > capacity { head += count - capacity }
        if head > 64, head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }

    /// Index of the first live sample whose time is greater than `t` (`storage.count` if none).
    private func upperBound(_ t: Double) -> Int {
        var lo = head, hi = storage.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if storage[mid].time <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Index of the first live sample whose time is at least `t` (`storage.count` if none).
    private func lowerBound(_ t: Double) -> Int {
        var lo = head, hi = storage.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if storage[mid].time < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Whether some sample was taken within `[start, now]`.
    func hasSample(from start: Double, through now: Double) -> Bool {
        let i = lowerBound(start)
        return i < storage.count && storage[i].time <= now
    }

    /// The newest sample taken at or before `now`.
    func latest(atOrBefore now: Double) -> LoadSample? {
        let i = upperBound(now) - 1
        return i >= head ? storage[i] : nil
    }

    /// Time-weighted mean demand over `[now − window, now]` (see the type's comment); nil when no
    /// sample was taken at or before `now`.
    func average(over window: Double, now: Double) -> Double? {
        let start = now - window
        let end = upperBound(now)                  // samples after `now` are ignored
        var i = max(head, upperBound(start) - 1)   // the sample in force at `start`, if any
        var previous: LoadSample?
        var integral = 0.0, covered = 0.0
        var inWindowSum = 0.0, inWindowCount = 0
        while i < end {
            let s = storage[i]
            if let p = previous {
                let from = max(p.time, start)
                if s.time > from {
                    integral += p.demand * (s.time - from)
                    covered += s.time - from
                }
            }
            if s.time >= start {
                inWindowSum += s.demand
                inWindowCount += 1
            }
            previous = s
            i += 1
        }
        guard let last = previous else { return nil }
        let from = max(last.time, start)
        if now > from {
            integral += last.demand * (now - from)
            covered += now - from
        }
        if covered > 0 { return integral / covered }
        return inWindowCount > 0 ? inWindowSum / Double(inWindowCount) : last.demand
    }

    /// When the current run of exactly-zero demand began: the time of the first zero sample after
    /// the last non-zero one (or of the oldest retained sample when all are zero). Nil when the
    /// newest sample at or before `now` is non-zero, or there is none.
    func idleSince(now: Double) -> Double? {
        var i = upperBound(now) - 1
        guard i >= head, storage[i].demand == 0 else { return nil }
        while i > head, storage[i - 1].demand == 0 { i -= 1 }
        return storage[i].time
    }
}
