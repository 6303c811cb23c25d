/// One export as configured: which file, how it may be written, and where it is offered.
public struct NBDExportDefinition: Sendable, Hashable {
    /// The name clients ask for.
    public var name: String
    /// The image file, absolute.
    public var path: String
    /// Shown by `nbdinfo --list` (`NBD_INFO_DESCRIPTION`); empty for none.
    public var description: String
    /// Whether this export answers the empty name (`nbd-client` without `-N`).
    public var isDefault: Bool
    /// Refuse WRITE/TRIM/WRITE_ZEROES with `EPERM` (the default). Ignored when `copyOnWrite` is set.
    public var readOnly: Bool
    /// Give each connection its own overlay for writes, discarded at disconnect; the image is never written.
    public var copyOnWrite: Bool
    /// The most overlay bytes one connection may hold; writes past it get `ENOSPC`.
    public var copyOnWriteLimit: UInt64
    /// A legacy port serving only this export, or nil.
    public var legacyPort: Int?
    /// The handshake on the legacy port.
    public var legacyStyle: NBDHandshakeStyle

    /// The overlay cap when the config gives none: enough for a booting client's logs and tmp files.
    public static let defaultCopyOnWriteLimit: UInt64 = 256 * 1024 * 1024

    public init(
        name: String, path: String, description: String = "", isDefault: Bool = false, readOnly: Bool = true,
        copyOnWrite: Bool = false, copyOnWriteLimit: UInt64 = defaultCopyOnWriteLimit, legacyPort: Int? = nil,
        legacyStyle: NBDHandshakeStyle = .newstyle
    ) {
        self.name = name
        self.path = path
        self.description = description
        self.isDefault = isDefault
        self.readOnly = readOnly
        self.copyOnWrite = copyOnWrite
        self.copyOnWriteLimit = copyOnWriteLimit
        self.legacyPort = legacyPort
        self.legacyStyle = legacyStyle
    }

    /// Whether clients may write at all (to the file, or to their overlay).
    var acceptsWrites: Bool { copyOnWrite || !readOnly }

    /// The transmission flags for this export.
    var transmissionFlags: NBDTransmissionFlags {
        var flags: NBDTransmissionFlags = [.hasFlags, .sendFlush, .sendCache]
        if acceptsWrites {
            flags.formUnion([.sendTrim, .sendWriteZeroes, .sendFUA])
        } else {
            // Nothing changes under a read-only export, so any connection sees what any other sees.
            flags.formUnion([.readOnly, .canMultiConn])
        }
        return flags
    }
}
