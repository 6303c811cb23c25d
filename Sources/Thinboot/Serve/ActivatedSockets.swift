import CSystemd
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The listening sockets a service manager passed (systemd socket activation: `LISTEN_FDS`, `LISTEN_PID`, and
/// `LISTEN_FDNAMES` from each socket's `FileDescriptorName=`). A server with sockets under its name serves those
/// instead of binding its `listen` addresses, so systemd can hold port 69 while Thinboot restarts and Thinboot
/// never needs a capability for it.
public struct ActivatedSockets: Sendable {
    /// The names a `.socket` unit gives, one per server (`dhcp` for both ProxyDHCP ports, told apart by port).
    public static let names = ["tftp", "http", "nbd", "dhcp", "admin"]

    private let byName: [String: [CInt]]

    /// No sockets: every server binds its own.
    public static let none = ActivatedSockets(byName: [:])

    init(byName: [String: [CInt]]) { self.byName = byName }

    /// Takes the sockets passed to this process, and clears the variables so nothing started later sees them.
    /// A socket with a name no server takes is closed and named in a warning.
    public static func take(logger: Logger) -> ActivatedSockets {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        guard count > 0 else { return .none }
        defer {
            for index in 0..<Int(count) { free(names?[index]) }
            free(names)
        }
        var byName: [String: [CInt]] = [:]
        for index in 0..<Int(count) {
            let descriptor = SD_LISTEN_FDS_START + CInt(index)
            let name = names?[index].map { String(cString: $0) } ?? "unknown"
            guard Self.names.contains(name) else {
                logger.warning(
                    "socket from systemd has no server's name: closing it; set FileDescriptorName= to one of \(Self.names.joined(separator: ", "))",
                    metadata: ["systemd.socket": "\(name)"])
                close(descriptor)
                continue
            }
            byName[name, default: []].append(descriptor)
        }
        logger.info(
            "sockets from systemd",
            metadata: [
                "systemd.sockets": "\(byName.keys.sorted().map { "\($0)×\(byName[$0]!.count)" }.joined(separator: ","))"
            ])
        return ActivatedSockets(byName: byName)
    }

    /// The sockets passed for `name` (empty when none: the server binds its own).
    public func sockets(for name: String) -> [CInt] { byName[name] ?? [] }

    /// Closes the sockets of servers this process does not run (`--only`), saying so.
    func closeUnused(running: Set<String>, logger: Logger) {
        for (name, descriptors) in byName where !running.contains(name) {
            logger.warning(
                "socket from systemd for a server not running here: closing it", metadata: ["systemd.socket": "\(name)"]
            )
            for descriptor in descriptors { close(descriptor) }
        }
    }
}
