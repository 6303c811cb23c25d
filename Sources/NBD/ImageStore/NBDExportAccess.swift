/// How clients may change an export: one value, so no combination of switches can be illegal.
public enum NBDExportAccess: Sendable, Hashable {
    /// WRITE, TRIM and WRITE_ZEROES get `EPERM` (the default); refused payloads are drained, never kept.
    case readOnly
    /// Each connection writes to an overlay of its own, dropped at disconnect; the image is never written. An
    /// overlay holds at most `limit` bytes; writes past it get `ENOSPC`.
    case copyOnWrite(limit: UInt64)
    /// Writes go to the image file itself.
    case writable

    /// The overlay cap when the config gives none: enough for a booting client's logs and tmp files.
    public static let defaultCopyOnWriteLimit: UInt64 = 256 * 1024 * 1024

    /// Whether clients may write at all (to the file, or to their overlay).
    public var acceptsWrites: Bool { self != .readOnly }
}
