import Foundation
public import OrigamiRuntime
public import ServiceLifecycle

/// Runs the batch scheduler as a service: starts its thread, and on graceful shutdown lets the running generations
/// finish before it ends. Hummingbird shuts its HTTP server down first (it stops accepting connections and waits
/// for the in-flight responses), then this service.
public struct SchedulerService: Service {
    public let scheduler: BatchScheduler

    public init(scheduler: BatchScheduler) { self.scheduler = scheduler }

    public func run() async throws {
        scheduler.start()
        try? await gracefulShutdown()
        await scheduler.shutdown(drain: true)
    }
}

/// Bounds a graceful shutdown: placed last in the service group, it is told first; it stops the scheduler from
/// taking requests at once (they get 503) and, after `timeout`, ends the generations still running, so their
/// streams close cleanly (`finish_reason: "stop"`, then `[DONE]`) instead of holding the shutdown open.
public struct ShutdownDeadline: Service {
    public let scheduler: BatchScheduler
    public let timeout: Duration

    public init(scheduler: BatchScheduler, timeout: Duration) {
        self.scheduler = scheduler
        self.timeout = timeout
    }

    public func run() async throws {
        try? await gracefulShutdown()
        let scheduler = scheduler, timeout = timeout
        scheduler.stopAccepting()
        Task.detached {
            try? await Task.sleep(for: timeout)
            scheduler.cancelAll()
        }
    }
}
