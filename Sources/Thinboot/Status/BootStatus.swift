import Foundation

/// What `/status.json` holds, `/status` draws and `thinboot status` prints: every client seen lately with the
/// stages of its last boot, and the transfers and connections in flight. Times are seconds since 1970 (UTC).
public struct BootStatus: Sendable, Codable, Equatable {
    /// One client: one row of the table, one lane of the timeline.
    public struct Client: Sendable, Codable, Equatable {
        /// `aa:bb:cc:dd:ee:ff`, once any protocol learned it.
        public var mac: String?
        /// How the MAC was learned: `dhcp`, `path`, `query`, `leases`, `neighbour table` (by this server's own
        /// events, or by the route that found it for this IP).
        public var macSource: String?
        public var ip: String?
        /// The protocol the IP was seen on: `tftp`, `http`, `nbd`.
        public var ipSource: String?
        /// `x86-bios`, `x86_64-efi`, ...
        public var arch: String?
        /// How the architecture was learned: `dhcp` (option 93) or `boot loader` (the file it fetched).
        public var archSource: String?
        /// The NBD export the root came from, and its version when it has one.
        public var image: String?
        public var imageVersion: String?
        /// The stages of the last boot, in the order of ``BootStage``.
        public var stages: [Stage]
        /// Seconds from the first stage to the NBD root (power-on to root connected), once connected.
        public var bootSeconds: Double?
        /// The last request of this client that failed.
        public var lastFailure: Failure?
        public var firstSeen: Double
        public var lastSeen: Double
        /// Still booting: seen lately and no root yet.
        public var booting: Bool
    }

    /// A stage reached: when first, by which protocol and file, and the route that generated it.
    public struct Stage: Sendable, Codable, Equatable {
        /// ``BootStage`` raw value: `dhcp`, `loader`, `config`, `kernel`, `initrd`, `root`, `lts.conf`.
        public var stage: String
        public var title: String
        public var at: Double
        /// How long its transfer took, when it was one.
        public var seconds: Double?
        public var source: String
        public var path: String?
        public var route: String?
    }

    public struct Failure: Sendable, Codable, Equatable {
        public var at: Double
        public var source: String
        /// `not found`, `script error`, `timed out`, an HTTP status, ...
        public var outcome: String
        public var path: String?
        public var message: String?
    }

    /// A TFTP transfer or NBD connection in flight.
    public struct Transfer: Sendable, Codable, Equatable {
        public var source: String
        public var client: String
        public var mac: String?
        /// The file, or the NBD export.
        public var path: String?
        public var bytes: Int
        public var size: Int?
        public var retransmits: Int
        public var started: Double
        /// Bytes per second since the start.
        public var rate: Double
    }

    /// When this status was taken.
    public var now: Double
    /// Newest first.
    public var clients: [Client]
    public var transfers: [Transfer]

    /// Decodes `/status.json`.
    public static func decode(_ data: Data) throws -> BootStatus {
        try JSONDecoder().decode(BootStatus.self, from: data)
    }

    /// `/status.json`.
    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? Array(encoder.encode(self))) ?? Array("{}".utf8)
    }
}
