import Synchronization

/// The script sources every worker compiles from, shared by the pool. A source enters the catalog only after a
/// worker compiled it, so a script that no longer compiles keeps its previous version serving. Each entry has a
/// version number; a worker whose compiled copy is older compiles the catalog's source again.
final class ScriptCatalog: Sendable {
    struct Entry: Sendable {
        /// The stamp of the file the good source was read from.
        var stamp: FileStamp
        var source: [UInt8]
        var version: Int
        /// A newer stamp whose source did not compile: already reported, not tried again until it changes.
        var failedStamp: FileStamp?
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let versions = Atomic<Int>(0)

    func entry(_ script: String) -> Entry? {
        entries.withLock { $0[script] }
    }

    /// Records a source that compiled; returns its version.
    func accept(_ script: String, stamp: FileStamp, source: [UInt8]) -> Int {
        let version = versions.add(1, ordering: .relaxed).newValue
        entries.withLock { $0[script] = Entry(stamp: stamp, source: source, version: version, failedStamp: nil) }
        return version
    }

    /// Records that the file at `stamp` did not compile. Returns false when this was already known (log once).
    func reject(_ script: String, stamp: FileStamp) -> Bool {
        entries.withLock { entries in
            guard var entry = entries[script], entry.failedStamp != stamp else { return false }
            entry.failedStamp = stamp
            entries[script] = entry
            return true
        }
    }
}
