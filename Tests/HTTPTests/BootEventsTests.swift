import BootEvents
import HTTP
import NIOConcurrencyHelpers
import TestSupport
import Testing

/// What each request tells the boot status: the path as routed, and the `mac=` iPXE put in the query.
@Suite(.serialized) struct BootEventsTests {
    final class RecordedEvents: BootEventSink {
        private let events = NIOLockedValueBox<[BootEvent]>([])
        var all: [BootEvent] { events.withLockedValue { $0 } }
        func record(_ event: BootEvent) { events.withLockedValue { $0.append(event) } }
    }

    /// `thinboot.url` writes the @ of `NAME@VERSION` as %40: the event names the file the route served.
    @Test func anEventCarriesTheDecodedPathAndTheQueryMAC() async throws {
        let root = try makeRoot()
        let provider = TestProvider(root: root.path, generated: ["images/trusty@01234567/vmlinuz": [1, 2, 3]])
        let events = RecordedEvents()
        try await withHTTPServer(provider: provider, events: events) { port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send(
                "GET //images/trusty%4001234567/./vmlinuz?mac=52-54-00-00-00-0a&arch=x86_64 HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            #expect(try connection.response().status == 200)
            try connection.send("GET /a%00b?mac=x HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.response().status == 403)
        }
        let recorded = events.all
        try #require(recorded.count == 2)
        #expect(recorded[0].path == "images/trusty@01234567/vmlinuz")
        #expect(recorded[0].queryMAC == "52-54-00-00-00-0a")
        #expect(recorded[0].status == 200)
        // A target that could not be decoded is shown as sent, without its query.
        #expect(recorded[1].path == "a%00b")
        #expect(recorded[1].queryMAC == nil)
        #expect(recorded[1].status == 403)
    }
}
