import Files
import Logging
import NIOConcurrencyHelpers

/// What TFTP and HTTP answer from, swapped whole on a SIGHUP reload: the static root and the router (routes, their
/// scripts' pool and limits, the arch table, and what scripts see of the config — exports, the HTTP URL).
///
/// A request reads the snapshot once, when it comes in, and keeps it: a transfer or a script call that started
/// before a reload ends with the settings it started with, and every request after the swap gets the new ones.
/// The replaced router is held for ``retireGrace`` so calls still queued on its pool are served, then released
/// (its pool closes when the last reference goes).
final class LiveRouting: Sendable {
    /// One consistent set of what requests are answered from.
    struct Snapshot: Sendable {
        let root: StaticRoot
        /// Nil when the config has no routes: every file comes from the root.
        let router: Router?
    }

    /// How long a replaced router's pool keeps serving calls queued before the swap.
    static let retireGrace: Duration = .seconds(60)

    private let current: NIOLockedValueBox<Snapshot>

    init(_ snapshot: Snapshot) { current = NIOLockedValueBox(snapshot) }

    var snapshot: Snapshot { current.withLockedValue { $0 } }

    /// Puts `snapshot` in place for every request from now on.
    func replace(with snapshot: Snapshot) {
        let old = current.withLockedValue { current in
            let old = current
            current = snapshot
            return old
        }
        Task {
            try? await Task.sleep(for: Self.retireGrace)
            withExtendedLifetime(old) {}
        }
    }

    /// Graceful shutdown: calls still queued on the current pool fail at once (see ``ScriptPoolService``).
    func shutdownScripts() { snapshot.router?.pool.shutdown() }
}
