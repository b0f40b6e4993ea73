import Autoscaler

/// Drives an `Autoscaler` with a synthetic load trace on an injected clock: every `step` seconds
/// it records one sample, asks for a decision and applies it. New replicas become ready after
/// `readyDelay` seconds; removed ones leave at once.
struct Simulation {
    struct Step {
        var time: Double
        var demand: Double
        var currentBefore: Int
        var readyBefore: Int
        var decision: ScaleDecision
    }

    var scaler: Autoscaler
    var time: Double
    var current: Int
    var readyDelay: Double
    var step: Double
    private(set) var steps: [Step] = []
    /// Times at which each requested replica becomes ready, one entry per replica.
    private var readyAt: [Double]

    init(_ configuration: AutoscalerConfiguration = AutoscalerConfiguration(), replicas: Int,
         startTime: Double = 1000, readyDelay: Double = 0, step: Double = 1) {
        scaler = Autoscaler(configuration: configuration)
        time = startTime
        current = replicas
        self.readyDelay = readyDelay
        self.step = step
        readyAt = Array(repeating: -Double.infinity, count: replicas)
    }

    var ready: Int { readyAt.filter { $0 <= time }.count }
    var last: Step { steps[steps.count - 1] }

    /// Runs for `seconds` seconds of trace with demand `load(time)`, returning the steps taken.
    @discardableResult
    mutating func run(_ seconds: Double, load: (Double) -> Double) -> [Step] {
        let end = time + seconds
        var taken: [Step] = []
        while time < end - 1e-9 {
            time += step
            let d = load(time)
            scaler.record(LoadSample(time: time, demand: d))
            let (before, readyBefore) = (current, ready)
            let decision = scaler.decide(now: time, currentReplicas: current, readyReplicas: readyBefore)
            apply(decision.desiredReplicas)
            let s = Step(time: time, demand: d, currentBefore: before, readyBefore: readyBefore, decision: decision)
            taken.append(s)
            steps.append(s)
        }
        return taken
    }

    /// Runs with a constant demand.
    @discardableResult
    mutating func run(_ seconds: Double, demand: Double) -> [Step] {
        run(seconds) { _ in demand }
    }

    private mutating func apply(_ desired: Int) {
        if desired > current {
            readyAt += Array(repeating: time + readyDelay, count: desired - current)
        } else if desired < current {
            readyAt.sort()
            readyAt.removeLast(current - desired)  // the newest (least ready) go first
        }
        current = desired
    }
}
