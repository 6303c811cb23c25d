import ServiceLifecycle

/// Stops the route scripts' pool when graceful shutdown starts: calls still waiting for a worker fail at once
/// (`Script error`), and those running end within `max_seconds`. Listed after the TFTP service, it is shut down
/// before it (the group goes in reverse order), so TFTP's wait for the transfers in flight never waits for a
/// queue of stuck scripts, and SIGTERM ends `serve` within its 10 s whatever the scripts do.
struct ScriptPoolService: Service {
    let routing: LiveRouting

    func run() async throws {
        // Returns when graceful shutdown starts, or throws when the group is cancelled: the pool stops either way.
        try? await gracefulShutdown()
        routing.shutdownScripts()
    }
}
