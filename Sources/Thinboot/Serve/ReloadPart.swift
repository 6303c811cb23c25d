/// One running server's share of a SIGHUP reload (``ReloadService``): TFTP's listeners and limits, HTTP's, NBD's,
/// ProxyDHCP, the admin listener.
struct ReloadPart: Sendable {
    /// What `reload.applied` calls it ("http limits and listeners").
    let name: String
    /// Serves what `config` says of this part from now on; true when that changed something. Throws, changing
    /// nothing of this part, when the new settings cannot be served (an address taken, a script that does not
    /// compile): the other parts still apply theirs.
    let apply: @Sendable (ThinbootConfig) async throws -> Bool

    init(_ name: String, apply: @escaping @Sendable (ThinbootConfig) async throws -> Bool) {
        self.name = name
        self.apply = apply
    }
}
