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
    /// Read-only (the default), copy-on-write per connection, or writable.
    public var access: NBDExportAccess
    /// A legacy port serving only this export, or nil.
    public var legacyPort: Int?
    /// The handshake on the legacy port.
    public var legacyStyle: NBDHandshakeStyle

    public init(
        name: String, path: String, description: String = "", isDefault: Bool = false,
        access: NBDExportAccess = .readOnly, legacyPort: Int? = nil,
        legacyStyle: NBDHandshakeStyle = .newstyle
    ) {
        self.name = name
        self.path = path
        self.description = description
        self.isDefault = isDefault
        self.access = access
        self.legacyPort = legacyPort
        self.legacyStyle = legacyStyle
    }

    /// Whether `name` can name an export: 1 to 4096 bytes, and no `@`, which separates `NAME@VERSION`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= NBDLimits.maximumStringLength - versionSuffixLength
            && !name.utf8.contains(UInt8(ascii: "@"))
    }

    /// `@` and eight hex digits, which a pinned name adds.
    static let versionSuffixLength = 9

    /// The transmission flags for this export.
    var transmissionFlags: NBDTransmissionFlags {
        var flags: NBDTransmissionFlags = [.hasFlags, .sendFlush, .sendCache]
        if access.acceptsWrites {
            flags.formUnion([.sendTrim, .sendWriteZeroes, .sendFUA])
        } else {
            // Nothing changes under a read-only export, so any connection sees what any other sees.
            flags.formUnion([.readOnly, .canMultiConn])
        }
        return flags
    }
}
