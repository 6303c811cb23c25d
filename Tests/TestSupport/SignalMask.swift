import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `body` (a spawn) with every signal unblocked on the calling thread, so the child starts as a shell or
/// systemd would start it.
///
/// A child inherits the signal mask of the thread that spawns it, and Foundation's `Process` does not reset it.
/// Tests spawn from Swift's cooperative pool, whose Dispatch threads block SIGALRM, SIGTERM, SIGHUP and most
/// others, so a peer inherited them blocked: tftp-hpa, which times out with `alarm`, then never resent a lost
/// RRQ and waited forever (the flood test's stall), and SIGTERM never reached a peer a test stopped.
public func withSignalsUnblocked<T>(_ body: () throws -> T) rethrows -> T {
    var none = sigset_t()
    sigemptyset(&none)
    var previous = sigset_t()
    pthread_sigmask(SIG_SETMASK, &none, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    return try body()
}
