/// What the handshake tells a client about one export.
public struct NBDExportInfo: Sendable, Hashable {
    /// The canonical name (`NBD_INFO_NAME`, `NBD_REP_SERVER`).
    public var name: String
    /// A human-readable description (`NBD_INFO_DESCRIPTION`), empty for none.
    public var description: String
    /// The size in bytes.
    public var size: UInt64
    /// The transmission flags, `hasFlags` included.
    public var flags: NBDTransmissionFlags

    public init(name: String, description: String, size: UInt64, flags: NBDTransmissionFlags) {
        self.name = name
        self.description = description
        self.size = size
        self.flags = flags
    }
}
