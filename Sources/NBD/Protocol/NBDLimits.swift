/// The bounds Thinboot puts on what a client may send, each with the rule it comes from.
public enum NBDLimits {
    /// `doc/proto.md`, "Conventions": a string "MUST be no longer than 4096 bytes" (export names, queries).
    public static let maximumStringLength = 4096
    /// The most option data one option may carry. The largest legal option is `SET_META_CONTEXT` with a
    /// 4096-byte name and a few 4096-byte queries; anything larger is a lie about the length, and the spec
    /// lets the server disconnect rather than buffer it ("the server MAY ... terminate the session").
    public static let maximumOptionLength = 64 * 1024
    /// Options per handshake. The spec sets no number; a client that keeps the handshake going forever only
    /// holds a connection slot. `nbdinfo --list --json` sends about three options per export, so this leaves
    /// room for many exports.
    public static let maximumOptionCount = 1024
    /// Meta-context queries in one option: more than the contexts that exist times a generous factor.
    public static let maximumMetaContextQueries = 128
    /// The largest READ or WRITE accepted, as nbdkit's `MAX_REQUEST_SIZE` (64 MiB). A WRITE over it cannot be
    /// drained safely and ends the connection; a READ over it gets `EINVAL`.
    public static let maximumRequestLength: UInt32 = 64 * 1024 * 1024
    /// The maximum block size advertised in `NBD_INFO_BLOCK_SIZE` ("Block size constraints": clients send at
    /// most this much per request; 32 MiB is what qemu and nbdkit advertise).
    public static let advertisedMaximumBlockSize: UInt32 = 32 * 1024 * 1024
    /// The preferred block size advertised: one page, the unit the page cache and the mapping work in.
    public static let advertisedPreferredBlockSize: UInt32 = 4096
    /// Descriptors in one `BLOCK_STATUS` reply; the client asks again for the rest ("the server MAY return
    /// fewer descriptors than would cover the whole range").
    public static let maximumBlockStatusExtents = 4096
}
