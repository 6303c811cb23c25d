/// Why `serve` could not become its `[serve] user`: it stops rather than serve as root by accident.
public struct PrivilegeDropError: Error, CustomStringConvertible, Sendable {
    public let description: String

    static func unknownUser(_ name: String) -> PrivilegeDropError {
        PrivilegeDropError(
            description:
                "[serve] user \"\(name)\" does not exist: create it (`useradd --system \(name)`) or name another")
    }

    static func unknownGroup(_ name: String) -> PrivilegeDropError {
        PrivilegeDropError(
            description:
                "[serve] group \"\(name)\" does not exist: create it (`groupadd --system \(name)`) or name another")
    }

    static func notRoot(user: String, uid: UInt32) -> PrivilegeDropError {
        PrivilegeDropError(
            description:
                "[serve] user = \"\(user)\" needs serve to start as root (it runs as uid \(uid)): start it as root, or"
                + " under systemd set User=\(user) in the unit")
    }

    static func failed(step: String, errno: Int32) -> PrivilegeDropError {
        PrivilegeDropError(description: "cannot drop privileges: \(step) failed (\(String(cString: strerror(errno))))")
    }

    static func stillPrivileged(_ what: String) -> PrivilegeDropError {
        PrivilegeDropError(description: "privilege drop did not hold: \(what); refusing to serve")
    }
}

#if canImport(Glibc)
    import Glibc
#endif
