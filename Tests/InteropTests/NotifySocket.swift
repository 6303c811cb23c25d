import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The datagram socket systemd listens on for `sd_notify` (`NOTIFY_SOCKET`), made by a test: it collects every
/// message a service sends, as systemd would see them.
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let descriptor: CInt

    /// Binds a socket at `path`, writable by any user (serve sends from the account it dropped to).
    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard descriptor >= 0, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw NotifySocketFailure(what: "socket \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, chmod(path, 0o666) == 0 else { throw NotifySocketFailure(what: "bind \(path)") }
    }

    deinit { close(descriptor) }

    /// Waits up to `seconds` for the next message; nil when none came.
    func next(seconds: Int32 = 30) -> String? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, seconds * 1000) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count >= 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : nil
    }

    /// Reads messages (each up to 30 s apart) until one contains `line`; returns every message read, that one last,
    /// or nil if it never came.
    func messages(until line: String, limit: Int = 200) async -> [String]? {
        await withCheckedContinuation { continuation in
            // Blocking polls belong on a Dispatch thread, not Swift's cooperative pool.
            DispatchQueue.global().async {
                var seen: [String] = []
                for _ in 0..<limit {
                    guard let message = self.next() else { break }
                    seen.append(message)
                    if message.split(separator: "\n").contains(Substring(line)) {
                        continuation.resume(returning: seen)
                        return
                    }
                }
                continuation.resume(returning: nil)
            }
        }
    }
}

struct NotifySocketFailure: Error, CustomStringConvertible {
    let what: String
    var description: String { "cannot make the notify socket: \(what) (errno \(errno))" }
}
