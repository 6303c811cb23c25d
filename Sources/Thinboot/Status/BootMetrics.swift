import BootEvents
import CoreMetrics
import Metrics
import NIOConcurrencyHelpers
import Prometheus

/// The Prometheus metrics of `/metrics`, made with swift-metrics over swift-prometheus's registry (one registry
/// per server, no process-wide bootstrap). Counted once per transfer, request, connection or DHCP answer, from
/// the ``BootEvent`` that ends it, never per block (NBD bytes also as the status sees a connection's grow). Labels
/// come from small fixed sets — outcome, status, kind, command, arch, and the export and script names of the
/// config — never a file name, a MAC or an IP.
public final class BootMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let counters = NIOLockedValueBox<[Key: CoreMetrics.Counter]>([:])
    private let timers = NIOLockedValueBox<[Key: CoreMetrics.Timer]>([:])
    private let meters = NIOLockedValueBox<[Key: CoreMetrics.Meter]>([:])

    /// A metric and its label values.
    private struct Key: Hashable {
        var name: String
        var labels: [String]
    }

    /// Transfers take milliseconds (a config) to minutes (an initrd on a busy link); boots take seconds to minutes.
    static let transferBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
        .seconds(15), .seconds(60), .seconds(300),
    ]
    static let bootBuckets: [Duration] = [
        .seconds(5), .seconds(10), .seconds(20), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
        .seconds(600),
    ]

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.transferBuckets
        factory.durationHistogramBuckets["thinboot_boot_duration_seconds"] = Self.bootBuckets
        self.factory = factory
        // Present from the start, so a dashboard shows 0 rather than no data.
        meter("thinboot_tftp_transfers_in_flight").set(0)
        meter("thinboot_clients_booting").set(0)
    }

    /// The text exposition for `/metrics`.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    func record(_ event: BootEvent) {
        switch (event.source, event.phase) {
        case (.tftp, .started):
            meter("thinboot_tftp_transfers_in_flight").increment()
        case (.tftp, _):
            if event.phase == .finished { meter("thinboot_tftp_transfers_in_flight").decrement() }
            counter("thinboot_tftp_transfers_total", ["outcome": event.outcome]).increment()
            if event.bytes > 0 { counter("thinboot_tftp_bytes_sent_total").increment(by: Int64(event.bytes)) }
            if event.retransmits > 0 {
                counter("thinboot_tftp_retransmits_total").increment(by: Int64(event.retransmits))
            }
            if let kind = event.kind, event.outcome == "ok" {
                timer("thinboot_tftp_transfer_duration_seconds", ["kind": kind.rawValue]).record(
                    duration: event.duration)
            }
        case (.http, _):
            counter("thinboot_http_requests_total", ["status": String(event.status ?? 0)]).increment()
            if event.bytes > 0 { counter("thinboot_http_bytes_sent_total").increment(by: Int64(event.bytes)) }
            if let kind = event.kind {
                timer("thinboot_http_request_duration_seconds", ["kind": kind.rawValue]).record(
                    duration: event.duration)
            }
        case (.nbd, .started):
            let export = event.path ?? "-"
            meter("thinboot_nbd_connections", ["export": export]).increment()
            counter("thinboot_nbd_connections_total", ["export": export]).increment()
        case (.nbd, _):
            let export = event.path ?? "-"
            meter("thinboot_nbd_connections", ["export": export]).decrement()
            nbdRead(export: export, bytes: event.bytes)
            for command in event.commands {
                let ok = command.count - command.failed
                if ok > 0 {
                    counter(
                        "thinboot_nbd_requests_total", ["export": export, "command": command.command, "outcome": "ok"]
                    ).increment(by: Int64(ok))
                }
                if command.failed > 0 {
                    counter(
                        "thinboot_nbd_requests_total",
                        ["export": export, "command": command.command, "outcome": "error"]
                    ).increment(by: Int64(command.failed))
                }
            }
        case (.dhcp, _):
            counter("thinboot_dhcp_answers_total", ["arch": event.arch ?? "unknown", "outcome": event.outcome])
                .increment()
        }
    }

    /// Bytes READ replies carried on connections to `export`: at the connection's end, and before it for what the
    /// boot status saw in flight (``BootTracker/status()``).
    func nbdRead(export: String, bytes: Int) {
        guard bytes > 0 else { return }
        counter("thinboot_nbd_bytes_read_total", ["export": export]).increment(by: Int64(bytes))
    }

    /// One run of a script (`script` is its name in the config, not a path), `outcome` `ok` or `error`.
    public func scriptRan(script: String, outcome: String, duration: Duration) {
        counter("thinboot_script_runs_total", ["script": script, "outcome": outcome]).increment()
        timer("thinboot_script_duration_seconds", ["script": script]).record(duration: duration)
    }

    func setBooting(_ count: Int) {
        meter("thinboot_clients_booting").set(count)
    }

    func bootCompleted(seconds: Double) {
        timer("thinboot_boot_duration_seconds").record(duration: .nanoseconds(Int64(seconds * 1e9)))
    }

    /// Label pairs in a fixed order (sorted by name), so one metric always has the same label names.
    private static func key(_ name: String, _ labels: KeyValuePairs<String, String>) -> (Key, [(String, String)]) {
        let pairs = labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return (Key(name: name, labels: pairs.map(\.1)), pairs)
    }

    private func counter(_ name: String, _ labels: KeyValuePairs<String, String> = [:]) -> CoreMetrics.Counter {
        Self.metric(name, labels, in: counters) { CoreMetrics.Counter(label: name, dimensions: $0, factory: factory) }
    }

    private func timer(_ name: String, _ labels: KeyValuePairs<String, String> = [:]) -> CoreMetrics.Timer {
        Self.metric(name, labels, in: timers) { CoreMetrics.Timer(label: name, dimensions: $0, factory: factory) }
    }

    private func meter(_ name: String, _ labels: KeyValuePairs<String, String> = [:]) -> CoreMetrics.Meter {
        Self.metric(name, labels, in: meters) { CoreMetrics.Meter(label: name, dimensions: $0, factory: factory) }
    }

    /// The metric of this name and labels from `table`, made by `make` (with the sorted label pairs) the first time.
    private static func metric<Metric>(
        _ name: String, _ labels: KeyValuePairs<String, String>, in table: NIOLockedValueBox<[Key: Metric]>,
        make: ([(String, String)]) -> Metric
    ) -> Metric {
        let (key, pairs) = Self.key(name, labels)
        return table.withLockedValue { metrics in
            if let metric = metrics[key] { return metric }
            let metric = make(pairs)
            metrics[key] = metric
            return metric
        }
    }
}
