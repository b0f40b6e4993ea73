import Metrics
import Prometheus

/// The process-wide Prometheus registry behind swift-metrics (bootstrapped once).
public enum MetricsBootstrap {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        let latency: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(40),
                                   .milliseconds(60), .milliseconds(80), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                   .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(20), .seconds(60)]
        factory.defaultDurationHistogramBuckets = latency
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}
