import NIOConcurrencyHelpers
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps an ``NBDExportStore`` current without SIGHUP: an inotify watch on every image folder and on the folders
/// of configured images wakes it when a file is added, renamed or removed, and it looks again every second anyway
/// (a file that is still settling, an expiring version, a file system without inotify). Runs on a thread of its
/// own: a `stat`, a `readdir` and, for a new version, 128 KiB of reads must never wait on an event loop.
public final class ImageFolderWatcher: Sendable {
    private let store: NBDExportStore
    private let pool = NIOThreadPool(numberOfThreads: 1)
    private let stopping = NIOLockedValueBox(false)

    /// How often the store is looked at when no event arrives.
    static let interval: Int32 = 1000

    public init(store: NBDExportStore) {
        self.store = store
    }

    public func start() {
        pool.start()
        pool.submit { [self] state in
            guard case .active = state else { return }
            watch()
        }
    }

    /// Stops within a second.
    public func stop() async {
        stopping.withLockedValue { $0 = true }
        try? await pool.shutdownGracefully()
    }

    private func watch() {
        let inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        defer { if inotify >= 0 { close(inotify) } }
        var watched: [String: Int32] = [:]
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while !stopping.withLockedValue({ $0 }) {
            if inotify >= 0 { rewatch(inotify, &watched) }
            var descriptor = pollfd(fd: inotify, events: Int16(POLLIN), revents: 0)
            if inotify >= 0, poll(&descriptor, 1, Self.interval) > 0 {
                // The events only say "look again"; which file changed is found by looking.
                while buffer.withUnsafeMutableBytes({ read(inotify, $0.baseAddress!, $0.count) }) > 0 {}
            } else if inotify < 0 {
                usleep(UInt32(Self.interval) * 1000)
            }
            store.refresh()
        }
    }

    /// Watches the folders the store now needs and no others.
    private func rewatch(_ inotify: Int32, _ watched: inout [String: Int32]) {
        var wanted = Set(store.folders.map(\.folder))
        for definition in store.definitions {
            if let slash = definition.path.lastIndex(of: "/") {
                wanted.insert(slash == definition.path.startIndex ? "/" : String(definition.path[..<slash]))
            }
        }
        for (folder, handle) in watched where !wanted.contains(folder) {
            inotify_rm_watch(inotify, handle)
            watched[folder] = nil
        }
        let events = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB)
        for folder in wanted where watched[folder] == nil {
            // A folder that does not exist yet is looked at every second until it does.
            let handle = inotify_add_watch(inotify, folder, events)
            if handle >= 0 { watched[folder] = handle }
        }
    }
}
