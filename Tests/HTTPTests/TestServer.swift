import BootEvents
import Files
import Foundation
import HTTP
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Serves files from a temp folder and a few generated paths, as the Thinboot router would: enough to test the
/// server's rules without the TFTP module.
struct TestProvider: HTTPBootProvider {
    let root: String
    /// Generated paths and their bytes.
    var generated: [String: [UInt8]] = [:]

    func answer(
        for request: HTTPBootRequest,
        completion: @escaping @Sendable (Result<HTTPBootAnswer, HTTPRefusal>) -> Void
    ) throws(HTTPRefusal) -> HTTPBootAnswer? {
        switch request.path {
        case "script-error":
            completion(.failure(.scriptError))
        case "slow":
            Task {
                try? await Task.sleep(for: .milliseconds(300))
                completion(.success(.bytes(Array("slow\n".utf8), contentType: nil)))
            }
        case "echo":
            let text = request.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
            completion(.success(.bytes(Array(text.utf8), contentType: "text/x-test")))
        default:
            // Generated paths answer later, from another thread, as a script's answer does.
            if let bytes = generated[request.path] {
                Task { completion(.success(.bytes(bytes, contentType: nil))) }
                return nil
            }
            return try staticFile(request.path)
        }
        return nil
    }

    /// The file at `path`, confined to the root as the Thinboot provider does it.
    private func staticFile(_ path: String) throws(HTTPRefusal) -> HTTPBootAnswer {
        do throws(ConfinedDirectoryError) {
            return .file(try ConfinedDirectory(path: root).open(path))
        } catch {
            switch error.kind {
            case .notFound, .failed(errno: ENAMETOOLONG): throw .notFound
            default: throw .forbidden()
            }
        }
    }
}

/// Collects log lines' metadata for assertions.
final class CapturedLogs: Sendable {
    private let lines = NIOLockedValueBox<[Logger.Metadata]>([])
    var all: [Logger.Metadata] { lines.withLockedValue { $0 } }
    func append(_ metadata: Logger.Metadata) { lines.withLockedValue { $0.append(metadata) } }

    var logger: Logger {
        Logger(label: "http-test") { _ in CapturingHandler(logs: self) }
    }
}

struct CapturingHandler: LogHandler {
    let logs: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        logs.append(metadata.merging(event.metadata ?? [:]) { $1 })
    }
}

/// Runs an ``HTTPServer`` on 127.0.0.1 port 0 in a service group for `body`, then shuts it down gracefully.
func withHTTPServer<T: Sendable>(
    provider: TestProvider, configuration: HTTPServerConfiguration = HTTPServerConfiguration(listen: []),
    logs: CapturedLogs = CapturedLogs(), events: any BootEventSink = IgnoredBootEvents(),
    _ body: @Sendable (Int) async throws -> T
) async throws -> T {
    var configuration = configuration
    configuration.listen = [(host: "127.0.0.1", port: 0)]
    let bound = AsyncStream<Int>.makeStream()
    let server = HTTPServer(
        configuration: configuration, provider: provider, logger: logs.logger, events: events,
        onBound: { addresses in
            bound.continuation.yield(addresses.first?.port ?? 0)
            bound.continuation.finish()
        })
    let group = ServiceGroup(services: [server], logger: Logger(label: "group") { _ in SwiftLogNoOpLogHandler() })
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        var iterator = bound.stream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            throw RawHTTPConnection.Failure(description: "no port")
        }
        let result: T
        do {
            result = try await body(port)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        while let next = try await tasks.next() { _ = next }
        return result
    }
}

/// A temp root with a few files.
func makeRoot() throws -> TemporaryDirectory {
    let root = try TemporaryDirectory("http-test")
    try root.write("boot/bootx64.efi", patternBytes(count: 300_000))
    try root.write("boot.ipxe", "#!ipxe\nchain http://example/x\n")
    try root.write("a/b/file.bin", patternBytes(count: 1000, seed: 7))
    return root
}
