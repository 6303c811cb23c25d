import Files
import NIOConcurrencyHelpers
import NIOCore

/// Files extracted from images, by image version and path: each is extracted once, however many requests ask at
/// the same time (the first extracts, the others wait for its result), then served from memory or from its copy on
/// disk until evicted. Bounded as ``ImageCacheSettings`` says, least recently used first.
final class ImageFileCache: Sendable {
    /// An image version (the file's identity and times) and a normalised path inside it.
    struct Key: Hashable, Sendable {
        let image: FileVersion
        let partition: Int?
        let path: String
    }

    /// What a request finds: the content, an extraction to wait for, or the extraction it must run itself.
    enum Lookup {
        case ready(BootContent)
        case waiting
        case extract
    }

    private struct Entry {
        let content: BootContent
        var used: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Requests waiting for an extraction in progress, by key.
        var pending: [Key: [@Sendable (Result<BootContent, ImageError>) -> Void]] = [:]
        var memoryBytes = 0
        var diskBytes = 0
        var clock: UInt64 = 0
    }

    let settings: ImageCacheSettings
    private let state = NIOLockedValueBox(State())

    init(settings: ImageCacheSettings) {
        self.settings = settings
    }

    /// The cached content for `key`; else registers `waiter` (called once with the result) and says whether the
    /// caller must extract (it is the first) or another request already is.
    func lookup(_ key: Key, waiter: @escaping @Sendable (Result<BootContent, ImageError>) -> Void) -> Lookup {
        state.withLockedValue { state in
            if var entry = state.entries[key] {
                state.clock += 1
                entry.used = state.clock
                state.entries[key] = entry
                return .ready(entry.content)
            }
            if state.pending[key] != nil {
                state.pending[key]!.append(waiter)
                return .waiting
            }
            state.pending[key] = [waiter]
            return .extract
        }
    }

    /// Stores what the extraction for `key` gave (when it succeeded) and answers everyone waiting for it.
    func finish(_ key: Key, with result: Result<BootContent, ImageError>) {
        let waiters = state.withLockedValue { state in
            if case .success(let content) = result { store(content, for: key, in: &state) }
            return state.pending.removeValue(forKey: key) ?? []
        }
        for waiter in waiters { waiter(result) }
    }

    /// Bytes held now: in memory and in the folder (for tests and `thinboot check`).
    var usage: (memory: Int, disk: Int, files: Int) {
        state.withLockedValue { ($0.memoryBytes, $0.diskBytes, $0.entries.count) }
    }

    private func store(_ content: BootContent, for key: Key, in state: inout State) {
        state.clock += 1
        state.entries[key] = Entry(content: content, used: state.clock)
        add(content, to: &state, sign: 1)
        // Oldest first, never the entry just stored.
        while state.memoryBytes > settings.memoryBytes || state.diskBytes > settings.diskBytes {
            let candidates = state.entries.filter { $0.key != key }
            guard let oldest = candidates.min(by: { $0.value.used < $1.value.used }) else { break }
            state.entries[oldest.key] = nil
            add(oldest.value.content, to: &state, sign: -1)
        }
    }

    private func add(_ content: BootContent, to state: inout State, sign: Int) {
        switch content {
        case .bytes: state.memoryBytes += sign * content.size
        case .file: state.diskBytes += sign * content.size
        }
    }
}
