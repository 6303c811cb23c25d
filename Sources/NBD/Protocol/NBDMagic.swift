/// The magic numbers of the NBD wire protocol (NetworkBlockDevice/nbd `doc/proto.md`, "Handshake" and
/// "Transmission"). All integers on the wire are big-endian.
public enum NBDMagic {
    /// `NBDMAGIC`, the first eight bytes the server sends in every handshake style.
    public static let server: UInt64 = 0x4E42_444D_4147_4943
    /// `IHAVEOPT`: the newstyle greeting's second word and the prefix of every client option.
    public static let option: UInt64 = 0x4948_4156_454F_5054
    /// The oldstyle greeting's second word (`cliserv_magic`).
    public static let oldstyle: UInt64 = 0x0000_4202_8186_1253
    /// The prefix of every option reply.
    public static let optionReply: UInt64 = 0x0003_E889_0455_65A9
    /// The prefix of every transmission request.
    public static let request: UInt32 = 0x2560_9513
    /// The prefix of a simple reply.
    public static let simpleReply: UInt32 = 0x6744_6698
    /// The prefix of a structured reply chunk.
    public static let structuredReply: UInt32 = 0x668E_33EF
}
