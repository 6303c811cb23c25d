import Foundation

/// A delayed, jittered or reordering link made by `scripts/linkshaper` (NFQUEUE: this kernel has no `netem`): it holds
/// what one namespace receives on one interface. Started by ``start(namespace:device:shape:)``, stopped by its PID with
/// ``stop()``, which returns what it measured.
public final class LinkShaper: Sendable {
    /// How the link treats each packet: every delay in milliseconds.
    public struct Shape: Sendable, CustomStringConvertible {
        /// Every packet is held this long...
        public var delay: Double
        /// ... plus a uniform amount in -jitter...+jitter (packets whose delays cross leave out of order, as netem's).
        public var jitter: Double = 0
        /// Jitter without reordering: no packet leaves before one that arrived earlier (a queue, not a scramble).
        public var keepOrder = false
        /// This share of packets (percent) is held `reorderExtra` longer, so the ones behind overtake them.
        public var reorderPercent: Double = 0
        public var reorderExtra: Double = 0
        /// Fixed, so a run can be replayed.
        public var seed: UInt64 = 1

        public init(
            delay: Double, jitter: Double = 0, keepOrder: Bool = false, reorderPercent: Double = 0,
            reorderExtra: Double = 0
        ) {
            self.delay = delay
            self.jitter = jitter
            self.keepOrder = keepOrder
            self.reorderPercent = reorderPercent
            self.reorderExtra = reorderExtra
        }

        var arguments: [String] {
            [
                "--delay", "\(delay)", "--jitter", "\(jitter)", "--reorder", "\(reorderPercent)", "--reorder-extra",
                "\(reorderExtra)", "--seed", "\(seed)",
            ] + (keepOrder ? ["--keep-order"] : [])
        }

        public var description: String {
            let reorder = reorderPercent > 0 ? ", \(reorderPercent) % held \(reorderExtra) ms longer" : ""
            return "delay \(delay) ms ± \(jitter) ms" + (keepOrder ? " in order" : "") + reorder
        }
    }

    /// The shaper's own count of what it did, from its last line.
    public struct Figures: Sendable, CustomStringConvertible {
        /// Packets it held (every one it saw) and let go.
        public var held = 0
        public var released = 0
        /// Let go at the stop before their time (they arrived within a delay of it): not in the delay figures.
        public var releasedEarly = 0
        /// The most held at once: more than one means delays overlap, as on a wire.
        public var maxHeld = 0
        /// Packets held `reorderExtra` longer, and packets that left after one that arrived later.
        public var heldLonger = 0
        public var outOfOrder = 0
        /// Milliseconds between arrival and release, of the packets let go on time.
        public var delayMin = 0.0
        public var delayMean = 0.0
        public var delayMax = 0.0
        /// Packets the kernel dropped instead of queueing them (queue or socket buffer full): 0 on a sound run.
        public var kernelDropped = 0

        public var description: String {
            "held \(held) (at most \(maxHeld) at once), \(outOfOrder) out of order, \(heldLonger) held longer, "
                + String(format: "delay %.2f/%.2f/%.2f ms", delayMin, delayMean, delayMax)
                + (releasedEarly > 0 ? ", \(releasedEarly) let go early at the stop" : "")
                + (kernelDropped > 0 ? ", \(kernelDropped) dropped by the kernel" : "")
        }

        init(line: Substring) {
            var fields: [Substring: Substring] = [:]
            for pair in line.split(separator: " ") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { fields[parts[0]] = parts[1] }
            }
            let int = { (key: Substring) in Int(fields[key] ?? "") ?? 0 }
            let double = { (key: Substring) in Double(fields[key] ?? "") ?? 0 }
            held = int("held")
            released = int("released")
            releasedEarly = int("released_early")
            maxHeld = int("max_held")
            heldLonger = int("held_longer")
            outOfOrder = int("out_of_order")
            delayMin = double("delay_min_ms")
            delayMean = double("delay_mean_ms")
            delayMax = double("delay_max_ms")
            kernelDropped = int("queue_dropped") + int("user_dropped")
        }
    }

    /// The shaper failed to start or to report.
    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// `scripts/linkshaper`, from this file's place in the repository.
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/linkshaper").path

    private let process: BackgroundProcess
    private let output: TemporaryDirectory

    /// The PID to stop it by.
    public var processIdentifier: Int32 { process.processIdentifier }

    private init(process: BackgroundProcess, output: TemporaryDirectory) {
        self.process = process
        self.output = output
    }

    /// Starts shaping what `namespace` receives on `device` (its only veth when nil), and returns once the shaper's
    /// rule is in: from then on every packet arriving there is held.
    public static func start(namespace: String, device: String? = nil, shape: Shape) async throws -> LinkShaper {
        let name: String
        if let device { name = device } else { name = try await onlyVeth(in: namespace) }
        let output = try TemporaryDirectory("linkshaper")
        let process = try BackgroundProcess(
            "ip",
            ["netns", "exec", namespace, "sh", "-c", #"exec "$0" "$@" >"$OUT" 2>&1"#, script, "--dev", name]
                + shape.arguments, environment: ["OUT": output.file("out")])
        let shaper = LinkShaper(process: process, output: output)
        // Bounded: the first start builds the C program (about a second).
        for _ in 0..<300 {
            if shaper.lines.contains(where: { $0.hasPrefix("linkshaper ready") }) { return shaper }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = await process.terminate(grace: .seconds(5))
        defer { output.remove() }
        throw Failure(message: "linkshaper did not start in \(namespace) on \(name): \(shaper.text.suffix(500))")
    }

    /// Stops it (SIGTERM by its PID: it lets every held packet go and removes its rule) and returns its figures.
    public func stop() async throws -> Figures {
        _ = await process.terminate(grace: .seconds(10))
        defer { output.remove() }
        guard let last = lines.last(where: { $0.hasPrefix("linkshaper done") }) else {
            throw Failure(message: "linkshaper ended without its figures: \(text.suffix(500))")
        }
        return Figures(line: last)
    }

    private var text: String { (try? String(contentsOfFile: output.file("out"), encoding: .utf8)) ?? "" }
    private var lines: [Substring] { text.split(separator: "\n") }

    /// The one veth interface of `namespace`.
    static func onlyVeth(in namespace: String) async throws -> String {
        let result = try await runTool("ip", ["-n", namespace, "-o", "link", "show", "type", "veth"])
        // "2: tbc1234@if3: <BROADCAST,...": the name ends at '@' or ':'.
        let names = result.stdoutText.split(separator: "\n").compactMap {
            $0.split(separator: " ").dropFirst().first?.split(whereSeparator: { $0 == "@" || $0 == ":" }).first
        }
        guard names.count == 1 else {
            throw Failure(message: "namespace \(namespace) has \(names.count) veth interfaces: pass the device")
        }
        return String(names[0])
    }
}
