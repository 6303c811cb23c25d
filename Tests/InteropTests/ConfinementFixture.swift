import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A TFTP root with every shape a confinement check must handle, and the answers real clients must get for it.
enum ConfinementFixture {
    /// The file every "served" name leads to.
    static let served = patternBytes(count: 777, seed: 21)

    /// Fills `root`: `served.bin`, `sub/inner.bin` (same bytes), a symlink inside the root, symlinks out of it
    /// (absolute and by `..`), a folder and a FIFO.
    static func populate(_ root: TemporaryDirectory) throws {
        try root.write("served.bin", served)
        try root.write("sub/inner.bin", served)
        let manager = FileManager.default
        try manager.createSymbolicLink(atPath: root.file("inlink"), withDestinationPath: "sub/inner.bin")
        try manager.createSymbolicLink(atPath: root.file("outlink"), withDestinationPath: "/etc/hostname")
        try manager.createSymbolicLink(atPath: root.file("uplink"), withDestinationPath: "../outside.bin")
        try manager.createSymbolicLink(atPath: root.file("sub/uplink"), withDestinationPath: "../../outside.bin")
        guard mkfifo(root.file("fifo"), 0o644) == 0 else { throw FixtureFailure(what: "mkfifo") }
    }

    /// Names that must give `served.bin`'s bytes.
    static let servedNames = ["served.bin", "/served.bin", "inlink", "sub/inner.bin", "./sub/./inner.bin"]

    /// A name the server must refuse, the TFTP error code and a part of the message the client must show.
    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var code: Int
        var message: String
        var testDescription: String { name }
    }

    static let refusals = [
        Refusal(name: "missing.bin", code: 1, message: "File not found"),
        Refusal(name: "/etc/hostname", code: 1, message: "File not found"),
        Refusal(name: "../served.bin", code: 2, message: "Access violation"),
        Refusal(name: "sub/../../served.bin", code: 2, message: "Access violation"),
        Refusal(name: "..\\served.bin", code: 2, message: "Access violation"),
        Refusal(name: "sub\\..\\..\\served.bin", code: 2, message: "Access violation"),
        Refusal(name: "sub", code: 2, message: "is a directory"),
        Refusal(name: "outlink", code: 2, message: "symlink leads outside the root"),
        Refusal(name: "uplink", code: 2, message: "path leaves the root"),
        Refusal(name: "sub/uplink", code: 2, message: "path leaves the root"),
        Refusal(name: "fifo", code: 2, message: "not a regular file"),
    ]

    struct FixtureFailure: Error { let what: String }
}
