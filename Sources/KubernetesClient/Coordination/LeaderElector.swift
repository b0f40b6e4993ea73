import Foundation
import Logging
import Synchronization

/// Leader election through a coordination.k8s.io Lease, so that only one of several replicas of a
/// controller acts. The holder renews the lease every `retryPeriod`; others take it over once it has
/// not been renewed for `leaseDuration` (measured on their own clock, from when they saw it change).
/// A leader that stops releases the lease, so a successor takes over at once.
public final class LeaderElector: Sendable {
    /// Lease name, identity and timings.
    public struct Configuration: Sendable {
        public var leaseName: String
        public var namespace: String
        /// Unique per process: defaults to host name + process id.
        public var identity: String
        public var leaseDuration: Duration = .seconds(15)
        /// A leader that could not renew for this long stops leading.
        public var renewDeadline: Duration = .seconds(10)
        public var retryPeriod: Duration = .seconds(2)

        public init(leaseName: String, namespace: String, identity: String? = nil) {
            self.leaseName = leaseName
            self.namespace = namespace
            self.identity = identity ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        }
    }

    struct Observation {
        var record: Lease.Spec?
        var at = ContinuousClock.now
    }

    let client: KubeClient
    public let configuration: Configuration
    let logger: Logger
    private let observed = Mutex(Observation())
    private let leading = Atomic<Bool>(false)

    public init(client: KubeClient, configuration: Configuration, logger: Logger = Logger(label: "scalellm.leader")) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    public var isLeader: Bool { leading.load(ordering: .relaxed) }

    private var seconds: Int { Int(configuration.leaseDuration.components.seconds) }

    /// One attempt to take or renew the lease. True when this process holds it afterwards.
    public func tryAcquireOrRenew() async throws -> Bool {
        let c = configuration
        let now = Date()
        guard var lease = try await client.getIfPresent(Lease.self, name: c.leaseName, namespace: c.namespace) else {
            let spec = Lease.Spec(holderIdentity: c.identity, leaseDurationSeconds: seconds,
                                  acquireTime: KubeTime.micro(now), renewTime: KubeTime.micro(now), leaseTransitions: 0)
            do {
                _ = try await client.create(Lease(metadata: ObjectMeta(name: c.leaseName, namespace: c.namespace), spec: spec))
                observe(spec)
                return true
            } catch let e as KubeAPIError where e.isAlreadyExists {
                return false
            }
        }
        let spec = lease.spec ?? Lease.Spec()
        let observedAt = observe(spec)
        let holder = spec.holderIdentity ?? ""
        let duration = Duration.seconds(spec.leaseDurationSeconds ?? seconds)
        if !holder.isEmpty && holder != c.identity && ContinuousClock.now - observedAt < duration {
            return false // held by someone else and not expired
        }
        var next = spec
        if holder != c.identity {
            next.acquireTime = KubeTime.micro(now)
            next.leaseTransitions = (spec.leaseTransitions ?? 0) + 1
        }
        next.holderIdentity = c.identity
        next.leaseDurationSeconds = seconds
        next.renewTime = KubeTime.micro(now)
        lease.spec = next
        do {
            _ = try await client.update(lease)
            observe(next)
            return true
        } catch let e as KubeAPIError where e.isConflict {
            return false
        }
    }

    /// Records the lease as seen now when it changed; returns when it was last seen to change.
    @discardableResult
    private func observe(_ spec: Lease.Spec) -> ContinuousClock.Instant {
        observed.withLock { o in
            if o.record != spec {
                o.record = spec
                o.at = .now
            }
            return o.at
        }
    }

    /// Gives the lease up if this process holds it (the successor need not wait for it to expire).
    public func release() async {
        do {
            guard var lease = try await client.getIfPresent(Lease.self, name: configuration.leaseName,
                                                            namespace: configuration.namespace),
                  lease.spec?.holderIdentity == configuration.identity else { return }
            lease.spec?.holderIdentity = ""
            lease.spec?.leaseDurationSeconds = 1
            lease.spec?.renewTime = KubeTime.micro(Date())
            _ = try await client.update(lease)
            logger.info("released lease \(configuration.namespace)/\(configuration.leaseName)")
        } catch {
            logger.warning("could not release lease: \(error)")
        }
    }

    /// Campaigns until elected, runs `lead` while leading, and stops it when the lease is lost (then
    /// campaigns again). Returns when the calling task is cancelled, after releasing the lease.
    public func run(lead: @escaping @Sendable () async -> Void) async {
        let c = configuration
        while !Task.isCancelled {
            // Campaign.
            while !Task.isCancelled {
                if (try? await tryAcquireOrRenew()) == true { break }
                try? await Task.sleep(for: c.retryPeriod)
            }
            if Task.isCancelled { break }
            leading.store(true, ordering: .relaxed)
            logger.info("\(c.identity) became leader (lease \(c.namespace)/\(c.leaseName))")
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await lead() }
                var lastRenew = ContinuousClock.now
                while !Task.isCancelled {
                    try? await Task.sleep(for: c.retryPeriod)
                    if Task.isCancelled { break }
                    if (try? await tryAcquireOrRenew()) == true {
                        lastRenew = .now
                    } else if ContinuousClock.now - lastRenew > c.renewDeadline {
                        logger.warning("\(c.identity) lost the lease \(c.namespace)/\(c.leaseName)")
                        break
                    }
                }
                group.cancelAll()
            }
            leading.store(false, ordering: .relaxed)
        }
        // This task is cancelled by now; release from a fresh one so the request is not cancelled too.
        await Task { await release() }.value
    }
}
