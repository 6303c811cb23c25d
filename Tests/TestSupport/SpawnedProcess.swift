import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A server started with `posix_spawn` instead of Foundation's `Process`, and stopped and reaped by its PID, for
/// programs that close the descriptors they inherit while they run (`systemd-socket-activate` does before it execs
/// the service). Foundation learns that a child ended when a socket the child inherited closes, and then waits for
/// that PID on the one thread that watches every child: a live child closing it blocks that thread, and no other
/// tool the test runs is reaped again.
public final class SpawnedProcess: @unchecked Sendable {
    public let processIdentifier: pid_t
    private let lock = NSLock()
    /// The wait status, once reaped.
    private var waitStatus: Int32?

    /// Starts `executable` with `arguments` and this process's environment; stdin, stdout and stderr are /dev/null
    /// (redirect stderr in a shell to keep it), and no other descriptor of the test process is inherited.
    public init(_ executable: String, _ arguments: [String]) throws {
        let path = executable.hasPrefix("/") ? executable : try which(executable)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (descriptor, flags) in [(STDIN_FILENO, O_RDONLY), (STDOUT_FILENO, O_WRONLY), (STDERR_FILENO, O_WRONLY)] {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", flags, 0)
        }
        // Descriptors without close-on-exec (Foundation's pipes and sockets of other tools) stay with the test.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in open.compactMap(Int32.init) where descriptor > STDERR_FILENO {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let failed = withSignalsUnblocked { posix_spawn(&pid, path, &actions, nil, argv, environ) }
        guard failed == 0 else { throw SpawnFailure(executable: path, errno: failed) }
        processIdentifier = pid
    }

    /// Reaps the process if it has exited; true while it runs.
    public var isRunning: Bool { reap(blocking: false) == nil }

    /// Sends `signal` and waits up to `grace` for the process to exit (then SIGKILL): its exit status, or nil when
    /// it died by a signal or had to be killed. The wait polls on a Dispatch thread, off Swift's cooperative pool.
    public func terminate(signal: Int32 = SIGTERM, grace: Duration = .seconds(30)) async -> Int32? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: self.terminateBlocking(signal: signal, grace: grace))
            }
        }
    }

    /// Stops the process (SIGTERM, then SIGKILL after a second) and reaps it.
    public func stop() { _ = terminateBlocking(signal: SIGTERM, grace: .seconds(1)) }

    private func terminateBlocking(signal: Int32, grace: Duration) -> Int32? {
        if isRunning { kill(processIdentifier, signal) }
        for _ in 0..<Int(grace.components.seconds) * 100 where isRunning { usleep(10_000) }
        var killed = false
        if isRunning {
            killed = true
            kill(processIdentifier, SIGKILL)
        }
        guard let status = reap(blocking: true), !killed, status & 0x7f == 0 else { return nil }
        return (status >> 8) & 0xff
    }

    /// `waitpid` on this PID only, once; the wait status when it has exited.
    private func reap(blocking: Bool) -> Int32? {
        lock.withLock {
            if let waitStatus { return waitStatus }
            var status: Int32 = 0
            var result: pid_t
            repeat {
                result = waitpid(processIdentifier, &status, blocking ? 0 : WNOHANG)
            } while result < 0 && errno == EINTR
            guard result == processIdentifier else { return nil }
            waitStatus = status
            return status
        }
    }

    deinit { stop() }
}

/// `posix_spawn` failed.
public struct SpawnFailure: Error, CustomStringConvertible {
    public let executable: String
    public let errno: Int32
    public var description: String { "cannot start \(executable): \(String(cString: strerror(errno)))" }
}
