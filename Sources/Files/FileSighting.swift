/// A file's version as seen when its bytes were read, and whether it can vouch for them later: the freshness rule
/// of every cache of file contents (small static files, parsed data files, compiled scripts).
///
/// Bytes read from a file are still its bytes while its version is unchanged, *provided the version had settled
/// when the bytes were read*. File times are only as fine as the kernel's clock tick (FAT keeps steps of 2 s), so a
/// rewrite at the same size within the tick of the version read would otherwise look like no change (git's
/// "racily clean" files). A sighting that has not settled proves nothing: its holder reads the file again.
public struct FileSighting: Sendable, Hashable {
    /// The version the bytes were read at.
    public let version: FileVersion
    /// Whether the file had been left alone at least the settle time when it was read.
    public let settled: Bool

    /// `version`, seen now (or at `now`, nanoseconds since the epoch), with bytes read at it.
    public init(_ version: FileVersion, settle: Duration = FileVersion.settle, now: Int = FileVersion.now()) {
        self.version = version
        settled = version.isSettled(for: settle, at: now)
    }

    /// Whether a file now at `current` still holds the bytes read at this sighting.
    public func provesUnchanged(_ current: FileVersion?) -> Bool {
        settled && current == version
    }
}
