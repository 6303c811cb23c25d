import Files
import Foundation
import NIOCore
import TestSupport
import Testing

@testable import TFTP

@Suite("Static root confinement")
struct StaticRootTests {
    private func withRoot(_ body: (TemporaryDirectory, StaticRoot) throws -> Void) throws {
        let folder = try TemporaryDirectory("static-root")
        defer { folder.remove() }
        try makeConfinementTree(in: folder)
        try body(folder, try StaticRoot(path: folder.file("root")))
    }

    @Test func opensFilesAndSymlinksThatStayInside() throws {
        try withRoot { _, root in
            for path in ["boot/pxelinux.0", "inside", "boot/up", "bootdir/pxelinux.0"] {
                let content = try root.content(at: path)
                #expect(content.size == 1234, "\(path)")
            }
        }
    }

    @Test(arguments: [
        ("missing", TFTPErrorCode.fileNotFound),
        ("boot/missing", .fileNotFound),
        ("boot/pxelinux.0/x", .fileNotFound),
        ("boot", .accessViolation),
        ("bootdir", .accessViolation),
        ("fifo", .accessViolation),
        ("absolute", .accessViolation),
        ("climb", .accessViolation),
        ("loop", .accessViolation),
        ("../secret", .accessViolation),
        ("parent/secret", .accessViolation),
        ("parent/\u{301}x", .accessViolation),
    ])
    func refusesWithTheRightCode(_ path: String, _ code: TFTPErrorCode) throws {
        try withRoot { _, root in
            let request = TFTPReadRequest(
                path: path, mode: .octet, options: [:], client: try SocketAddress(ipAddress: "127.0.0.1", port: 2070),
                local: try SocketAddress(ipAddress: "127.0.0.1", port: 69))
            #expect(refusal { try root.answer(for: request) }?.code == code, "\(path)")
        }
    }

    @Test func missingRootIsAnErrorThatNamesIt() {
        #expect(throws: StaticRootError.self) { try StaticRoot(path: "/nonexistent/thinboot-root") }
        do {
            _ = try StaticRoot(path: "/nonexistent/thinboot-root")
        } catch {
            #expect(error.description.contains("/nonexistent/thinboot-root"))
        }
    }
}
