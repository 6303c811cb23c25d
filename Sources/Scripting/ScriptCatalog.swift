import Files
import NIOConcurrencyHelpers
import Synchronization

/// The script sources every worker compiles from, shared by the pool. A source enters the catalog only after a
/// worker compiled it, so a script that no longer compiles keeps its previous version serving. Each entry has a
/// generation number; a worker whose compiled copy is older compiles the catalog's source again.
///
/// Whether a script file changed follows ``FileSighting``'s rule: an equal file version proves the same source only
/// if the file had settled when that source was read; otherwise the worker reads the file again and compares.
final class ScriptCatalog: Sendable {
    struct Entry: Sendable {
        /// The file version the good source was read at.
        var sighting: FileSighting
        var source: [UInt8]
        var generation: Int
        /// A newer source that did not compile, and where it was read: already reported, not tried again until the
        /// file holds something else.
        var failed: (sighting: FileSighting, source: [UInt8])?

        /// Whether a file now at `current` holds what this entry already knows (the good source or the failed one),
        /// without reading it.
        func isKnown(_ current: FileVersion?) -> Bool {
            sighting.provesUnchanged(current) || failed?.sighting.provesUnchanged(current) == true
        }
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    private let generations = Atomic<Int>(0)

    func entry(_ script: String) -> Entry? {
        entries.withLockedValue { $0[script] }
    }

    /// Records a source that compiled; returns its generation.
    func accept(_ script: String, sighting: FileSighting, source: [UInt8]) -> Int {
        let generation = generations.add(1, ordering: .relaxed).newValue
        entries.withLockedValue { $0[script] = Entry(sighting: sighting, source: source, generation: generation) }
        return generation
    }

    /// Records that the file, read again at `sighting`, still holds the good source: no recompiling.
    func confirm(_ script: String, sighting: FileSighting) {
        entries.withLockedValue { entries in
            guard var entry = entries[script] else { return }
            entry.sighting = sighting
            entry.failed = nil
            entries[script] = entry
        }
    }

    /// Records that `source`, read at `sighting`, did not compile. Returns false when this source was already known
    /// (log once).
    func reject(_ script: String, sighting: FileSighting, source: [UInt8]) -> Bool {
        entries.withLockedValue { entries in
            guard var entry = entries[script] else { return false }
            let known = entry.failed?.source == source
            entry.failed = (sighting, source)
            entries[script] = entry
            return !known
        }
    }
}
