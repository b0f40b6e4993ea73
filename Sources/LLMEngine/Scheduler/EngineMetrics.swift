import Metrics

/// The engine's metrics, under vLLM's names so routers and autoscalers that key on them work
/// unchanged (`vllm:num_requests_running`, `vllm:num_requests_waiting`, …).
struct EngineMetrics: Sendable {
    let running: Gauge
    let waiting: Gauge
    /// Fraction (0…1) of the KV cache memory reserved by running sequences (vLLM's name, even on CPU).
    let cacheUsage: Gauge
    let promptTokens: Counter
    /// Prompt tokens looked up in the prefix cache, and those found (vLLM's names).
    let prefixQueries: Counter
    let prefixHits: Counter
    let generationTokens: Counter
    let timeToFirstToken: Timer
    let interToken: Timer
    let queueTime: Timer
    let e2eLatency: Timer
    let modelName: String

    init(modelName: String) {
        self.modelName = modelName
        let dims = [("model_name", modelName)]
        running = Gauge(label: "vllm:num_requests_running", dimensions: dims)
        waiting = Gauge(label: "vllm:num_requests_waiting", dimensions: dims)
        cacheUsage = Gauge(label: "vllm:gpu_cache_usage_perc", dimensions: dims)
        promptTokens = Counter(label: "vllm:prompt_tokens_total", dimensions: dims)
        prefixQueries = Counter(label: "vllm:prefix_cache_queries_total", dimensions: dims)
        prefixHits = Counter(label: "vllm:prefix_cache_hits_total", dimensions: dims)
        generationTokens = Counter(label: "vllm:generation_tokens_total", dimensions: dims)
        timeToFirstToken = Timer(label: "vllm:time_to_first_token_seconds", dimensions: dims, preferredDisplayUnit: .seconds)
        interToken = Timer(label: "vllm:inter_token_latency_seconds", dimensions: dims, preferredDisplayUnit: .seconds)
        queueTime = Timer(label: "vllm:request_queue_time_seconds", dimensions: dims, preferredDisplayUnit: .seconds)
        e2eLatency = Timer(label: "vllm:e2e_request_latency_seconds", dimensions: dims, preferredDisplayUnit: .seconds)
        running.record(0)
        waiting.record(0)
    }

    func finished(_ reason: FinishReason, since arrival: ContinuousClock.Instant) {
        Counter(label: "vllm:request_success_total", dimensions: [("model_name", modelName), ("finished_reason", reason.rawValue)]).increment()
        e2eLatency.recordInterval(since: arrival)
    }
}
