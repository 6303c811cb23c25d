import Logging
import NIOCore
import Testing

@testable import NBD

/// The connection's rules without a socket: what it writes, when it closes, how it frames what comes next.
@Suite final class ConnectionStateMachineTests {
    let fixture: ImageFixture
    let store: NBDExportStore
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    init() throws {
        fixture = try ImageFixture()
        store = NBDExportStore(exports: [NBDExportDefinition(name: "image", path: fixture.path)])
    }
    deinit { fixture.remove() }

    /// A machine past the oldstyle greeting (which starts transmission at once).
    func transmitting() -> NBDConnectionStateMachine {
        var machine = NBDConnectionStateMachine(
            directory: NBDListenerDirectory(store: store, scope: .legacy(exportName: "image"), logger: logger))
        guard case .startTransmission(let greeting, let framing) = machine.start(style: .oldstyle, logger: logger)
        else {
            Issue.record("oldstyle did not start transmission")
            return machine
        }
        #expect(greeting.readableBytes == 152)
        #expect(framing == .requests(refusesWrites: true))
        return machine
    }

    /// The error of a simple reply the action writes.
    func simpleError(_ action: NBDConnectionStateMachine.Action) -> UInt32? {
        guard case .write(let buffers) = action, var header = buffers.first,
            header.readInteger(as: UInt32.self) == NBDMagic.simpleReply
        else { return nil }
        return header.readInteger(as: UInt32.self)
    }

    func read(cookie: UInt64 = 1) -> NBDRequest {
        NBDRequest(command: .read, cookie: cookie, offset: 0, length: 4096)
    }

    @Test func newstyleGreetsAndFramesTheHandshake() {
        var machine = NBDConnectionStateMachine(
            directory: NBDListenerDirectory(store: store, scope: .allExports, logger: logger))
        guard case .write(let buffers) = machine.start(style: .newstyle, logger: logger) else {
            Issue.record("no greeting")
            return
        }
        #expect(buffers.first?.getInteger(at: 0, as: UInt64.self) == NBDMagic.server)
        #expect(machine.framing == .handshake)
        // Unknown client flags: the handshake machine closes, and nothing more is framed.
        guard case .closeAfterWriting = machine.receive(.clientFlags(NBDClientFlags(rawValue: 1 << 9))) else {
            Issue.record("unknown flags did not close")
            return
        }
        #expect(machine.framing == .ignored)
        #expect(machine.closed()["nbd.outcome"].map { "\($0)" }?.contains("flags") == true)
    }

    /// The connection's log line names the export without a version and the version it served, as the status page
    /// shows its root.
    @Test func theLogLineNamesTheExportAndTheVersionItServed() throws {
        var machine = transmitting()
        let served = try #require(try store.open(named: "image")).image.contentVersion
        let log = machine.closed()
        #expect(log["nbd.export"] == "image")
        #expect(log["nbd.version"] == "\(served.id)")
    }

    @Test func requestsAfterDisconnectAreCountedNotAnswered() {
        var machine = transmitting()
        #expect(simpleError(machine.receive(read())) == 0)
        guard
            case .closeAfterWriting = machine.receive(NBDRequest(command: .disconnect, cookie: 2, offset: 0, length: 0))
        else {
            Issue.record("DISC did not close after writing")
            return
        }
        guard case .none = machine.receive(read(cookie: 3)) else {
            Issue.record("a request after DISC was answered")
            return
        }
        let log = machine.closed()
        #expect(log["nbd.requests_after_disc"] == "1")
        #expect(log["nbd.outcome"] == "client disconnected (DISC)")
        #expect(log["nbd.requests"] == "2")
    }

    @Test func quiescingAnswersESHUTDOWNThenClosesAfterTheGrace() {
        var machine = transmitting()
        guard case .closeAfterGrace = machine.quiesce() else {
            Issue.record("quiesce did not wait for the grace period")
            return
        }
        #expect(simpleError(machine.receive(read())) == NBDErrorCode.shutdown.rawValue)
        guard case .close = machine.graceExpired() else {
            Issue.record("the grace period did not close")
            return
        }
        #expect(machine.closed()["nbd.outcome"] == "server shut down")
    }

    @Test func quiescingDuringTheHandshakeClosesAtOnce() {
        var machine = NBDConnectionStateMachine(
            directory: NBDListenerDirectory(store: store, scope: .allExports, logger: logger))
        _ = machine.start(style: .newstyle, logger: logger)
        guard case .close = machine.quiesce() else {
            Issue.record("quiesce during the handshake did not close")
            return
        }
        #expect(machine.closed()["nbd.outcome"] == "server shut down during the handshake")
    }

    @Test func halfCloseClosesAfterTheRepliesAndKeepsTheStatistics() {
        var machine = transmitting()
        _ = machine.receive(read())
        guard case .closeAfterWriting = machine.inputClosed() else {
            Issue.record("half-close did not close after writing")
            return
        }
        #expect(machine.framing == .ignored)
        let log = machine.closed()
        #expect(log["nbd.outcome"] == "client closed its side of the connection")
        #expect(log["nbd.bytes_read"] == "4096")
        #expect(log["nbd.export"] == "image")
    }

    @Test func aFramingErrorClosesWithItsReasonAndTheFirstReasonStays() {
        var machine = transmitting()
        guard case .close = machine.fail("bad magic") else {
            Issue.record("fail did not close")
            return
        }
        _ = machine.fail("connection error: reset")
        #expect(machine.closed()["nbd.outcome"] == "bad magic")
    }
}
