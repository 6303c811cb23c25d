import Files
import Logging
import Testing

@testable import TFTP

/// The engine's state has no lock because only its thread touches it; in debug builds its methods check that.
@Suite struct EngineThreadCheckTests {
    /// An engine with no listening socket, its thread not started.
    static func engine() throws -> TransferEngine {
        let launcher = TransferLauncher(
            configuration: TFTPServerConfiguration(listen: []), provider: try StaticRoot(path: "/"),
            logger: Logger(label: "thinboot.test"),
            transfers: TransferRegistry(limits: TFTPServerConfiguration(listen: []).admissionLimits))
        return try TransferEngine(
            listening: ListeningSockets(descriptors: [], addresses: [], holders: 1),
            launcher: launcher, logger: Logger(label: "thinboot.test"))
    }

    #if DEBUG
        /// Called from a thread that is not the engine's (here: before its thread even started), an engine method
        /// stops the process with the assertion instead of racing the engine.
        @Test func engineMethodOffItsThreadStopsADebugBuild() async {
            await #expect(processExitsWith: .failure) {
                try EngineThreadCheckTests.engine().cutTransfers()
            }
        }
    #endif

    /// The same method posted to the engine runs on its thread and passes the check.
    @Test func engineMethodPostedToItsThreadRuns() async throws {
        let engine = try Self.engine()
        try engine.start(name: "tftp-test")
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            engine.post { engine in
                engine.cutTransfers()
                done.resume()
            }
        }
        engine.stop()
    }
}
