import CoreMetrics
public import Prometheus

typealias Counter = CoreMetrics.Counter
typealias Gauge = CoreMetrics.Gauge
typealias Timer = CoreMetrics.Timer
typealias Recorder = CoreMetrics.Recorder
import OrigamiRuntime

/// The server's metrics, recorded through swift-metrics into its own Prometheus registry (not the process-wide
/// bootstrap, so several servers — tests — do not share counters) and written by `GET /metrics`.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let promptTokens: Counter
    let completionTokens: Counter
    let cancelled: Counter
    let timeToFirstToken: Timer
    let requestDuration: Timer
    let decodeRate: Recorder
    let queueDepth: Gauge
    let active: Gauge
    let throughput: Gauge

    public init() {
        registry = PrometheusCollectorRegistry()
        var f = PrometheusMetricsFactory(registry: registry)
        let seconds: [Duration] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60].map { Duration.milliseconds(Int64($0 * 1000)) }
        f.durationHistogramBuckets = ["origami_time_to_first_token_seconds": seconds, "origami_request_duration_seconds": seconds]
        f.valueHistogramBuckets = ["origami_decode_tokens_per_second": [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]]
        factory = f
        promptTokens = Counter(label: "origami_prompt_tokens_total", factory: f)
        completionTokens = Counter(label: "origami_completion_tokens_total", factory: f)
        cancelled = Counter(label: "origami_cancelled_requests_total", factory: f)
        timeToFirstToken = Timer(label: "origami_time_to_first_token_seconds", factory: f)
        requestDuration = Timer(label: "origami_request_duration_seconds", factory: f)
        decodeRate = Recorder(label: "origami_decode_tokens_per_second", aggregate: true, factory: f)
        queueDepth = Gauge(label: "origami_queue_depth", factory: f)
        active = Gauge(label: "origami_active_sequences", factory: f)
        throughput = Gauge(label: "origami_generated_tokens_per_second", factory: f)
    }

    /// Counts a finished HTTP request.
    func request(endpoint: String, status: Int) {
        Counter(label: "origami_requests_total", dimensions: [("endpoint", endpoint), ("status", String(status))], factory: factory)
            .increment()
    }

    /// Records a generation's tokens and timings.
    func generation(_ s: GenerationSummary) {
        promptTokens.increment(by: s.promptTokens)
        completionTokens.increment(by: s.completionTokens)
        if s.cancelled { cancelled.increment() }
        if let t = s.timeToFirstToken { timeToFirstToken.recordNanoseconds(Int64(t * 1e9)) }
        requestDuration.recordNanoseconds(Int64(s.totalSeconds * 1e9))
        if let rate = s.decodeTokensPerSecond { decodeRate.record(rate) }
    }

    /// The Prometheus text exposition, with the scheduler's gauges read now.
    func exposition(_ snapshot: BatchScheduler.Snapshot) -> String {
        queueDepth.record(snapshot.queued)
        active.record(snapshot.active)
        throughput.record(snapshot.recentTokensPerSecond)
        return registry.emitToString()
    }
}
