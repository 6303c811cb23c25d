import Foundation
import HTTP
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Timeouts and connection limits: slow and idle clients are cut off, others are served meanwhile, and past the
/// limits the answer is 503.
@Suite(.serialized) struct LimitsTests {
    let root: TemporaryDirectory
    let provider: TestProvider

    init() throws {
        root = try makeRoot()
        provider = TestProvider(root: root.path)
    }

    @Test func slowHeaderIsCutOffWithoutBlockingOthers() async throws {
        var configuration = HTTPServerConfiguration(listen: [])
        configuration.headerTimeout = .seconds(2)
        try await withHTTPServer(provider: provider, configuration: configuration) { port in
            let slow = try RawHTTPConnection(port: port)
            let request = Array("GET /boot.ipxe HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris\r\n\r\n".utf8)
            var sent = 0
            var cutOff = false
            // One byte a second; the server must close before the head is complete (at most 6 bytes in 2 s).
            for byte in request {
                do {
                    try slow.send([byte])
                } catch {
                    cutOff = true
                    break
                }
                sent += 1
                // Others are served while the slow head is pending.
                let other = try RawHTTPConnection(port: port)
                try other.send("GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try other.response().status == 200)
                var ready = pollfd(fd: slow.descriptor, events: Int16(POLLIN), revents: 0)
                if poll(&ready, 1, 1000) == 1, slow.isClosedByServer() {
                    cutOff = true
                    break
                }
            }
            #expect(cutOff)
            #expect(sent < request.count)
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        var configuration = HTTPServerConfiguration(listen: [])
        configuration.idleTimeout = .seconds(1)
        try await withHTTPServer(provider: provider, configuration: configuration) { port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send("GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.response().status == 200)
            var ready = pollfd(fd: connection.descriptor, events: Int16(POLLIN), revents: 0)
            #expect(poll(&ready, 1, 5000) == 1)
            #expect(connection.isClosedByServer())
        }
    }

    @Test func thousandIdleConnectionsAreHeldAndTheNextGets503() async throws {
        try raiseDescriptorLimit(to: 4096)
        var configuration = HTTPServerConfiguration(listen: [])
        configuration.maxConnections = 1000
        configuration.maxConnectionsPerClient = 1000
        try await withHTTPServer(provider: provider, configuration: configuration) { port in
            var held: [RawHTTPConnection] = []
            for _ in 0..<1000 { held.append(try RawHTTPConnection(port: port)) }
            // Every connection was accepted and counted before the next one: ask on the last and the first.
            try held[999].send("GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try held[999].response().status == 200)
            let refused = try RawHTTPConnection(port: port)
            try refused.send("GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
            let busy = try refused.response()
            #expect(busy.status == 503)
            #expect(busy.header("retry-after") == "1")
            #expect(refused.isClosedByServer())
            try held[0].send("GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try held[0].response().status == 200)
            // One closed: a new connection is served again.
            held.removeLast()
            var served = false
            for _ in 0..<50 where !served {
                let again = try RawHTTPConnection(port: port)
                try again.send("GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
                served = try again.response().status == 200
                if !served { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(served)
        }
    }

    @Test func perClientLimit() async throws {
        var configuration = HTTPServerConfiguration(listen: [])
        configuration.maxConnectionsPerClient = 3
        try await withHTTPServer(provider: provider, configuration: configuration) { port in
            let held = try (0..<3).map { _ in try RawHTTPConnection(port: port) }
            try held[2].send("GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try held[2].response().status == 200)
            let fourth = try RawHTTPConnection(port: port)
            try fourth.send("GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try fourth.response().status == 503)
        }
    }

    private func raiseDescriptorLimit(to wanted: rlim_t) throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_cur < wanted else { return }
        limit.rlim_cur = min(wanted, limit.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        try #require(limit.rlim_cur >= 2100, "the hard descriptor limit \(limit.rlim_max) is too low for this test")
    }
}
