/// The exports a handshake can choose from. The handshake state machine only asks; it never opens files, so it
/// stays testable with an in-memory directory.
public protocol NBDExportDirectory {
    /// Whatever the server needs to serve a chosen export (an opened image, for the real server).
    associatedtype Export

    /// The export a client gets for `name`: the export of that name, the default export for `""`, or the
    /// port's only export for any name on a legacy port. Nil for an unknown name.
    func export(named name: String) -> Export?
    /// What the handshake reports about `export`.
    func info(for export: Export) -> NBDExportInfo
    /// The exports `NBD_OPT_LIST` shows.
    func listing() -> [NBDExportInfo]
}
