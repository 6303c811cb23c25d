/// What the transmission phase needs to know from the handshake.
public struct NBDNegotiation: Sendable, Equatable {
    /// The name the client asked for (the export may answer to another canonical name).
    public var requestedName: String
    /// Whether replies use structured chunks (`NBD_OPT_STRUCTURED_REPLY` was acknowledged).
    public var structuredReplies: Bool
    /// The context id for `base:allocation` if the client selected it, else nil (BLOCK_STATUS is then EINVAL).
    public var allocationContextID: UInt32?
}
