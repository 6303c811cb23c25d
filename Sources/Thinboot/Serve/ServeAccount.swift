import CPrivilegeShims
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The account `serve` runs as. Started as root, `serve` becomes `[serve] user` (default `nobody`) before it opens
/// any socket, file, script or image, keeping only `CAP_NET_BIND_SERVICE`: ports 69, 67 and 80 bind as before,
/// now and on every reload, and a file only root may read gets ERROR 2 / 403 as with tftp-hpa. ProxyDHCP needs
/// nothing more (it sends out of an interface with `IP_PKTINFO`, which takes no capability).
///
/// Why before the sockets and not after: Linux keeps credentials and capabilities per thread, and by then the
/// runtime and SwiftNIO run many threads, each of which would have to drop its capabilities itself. Instead
/// `serve` changes ids on one thread and execs itself (``cpriv_become_and_exec``): the new image has that
/// thread's credentials on every thread, with the kept capability in its ambient set. The config file is read
/// again by the new image, so it must be readable by the user — as it must be for a SIGHUP reload anyway.
public enum ServeAccount {
    /// Tells the re-executed image which account it was meant to become, for its log line and its check.
    static let becameVariable = "THINBOOT_BECAME"
    /// The one capability kept.
    static let keptCapability: Int32 = 10  // CAP_NET_BIND_SERVICE

    /// Becomes the configured account if running as root (this call then does not return: the process
    /// re-executes itself as that user and comes back here, unprivileged); checks and logs the account otherwise.
    public static func settle(_ section: ServeSection, logger: Logger) throws(PrivilegeDropError) {
        if let became = getenv(becameVariable).map({ String(cString: $0) }) {
            unsetenv(becameVariable)
            try confirm(became, logger: logger)
            return
        }
        guard geteuid() == 0 else {
            if let name = section.user {
                let account = try Account(named: name, group: section.group)
                guard account.uid == getuid() else { throw .notRoot(user: name, uid: getuid()) }
            }
            return
        }
        let name = section.user ?? "nobody"
        let account = try Account(named: name, group: section.group)
        if account.uid == 0 {
            logger.warning(
                "serve keeps running as root: [serve] user names root; every script and file is read with root's rights",
                metadata: ["serve.user": "\(name)"])
            return
        }
        if section.user == nil {
            logger.notice(
                "started as root with no [serve] user: becoming nobody; set [serve] user to choose the account",
                metadata: ["serve.user": "nobody"])
        }
        setenv(becameVariable, name, 1)
        try becomeAndExec(account)
    }

    private static func becomeAndExec(_ account: Account) throws(PrivilegeDropError) {
        var step: Int32 = 0
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        let error = account.groups.withUnsafeBufferPointer { groups in
            arguments.withUnsafeBufferPointer { argv in
                cpriv_become_and_exec(
                    account.uid, account.gid, groups.baseAddress, groups.count, keptCapability, "/proc/self/exe",
                    argv.baseAddress, environ, &step)
            }
        }
        throw .failed(step: stepName(step), errno: error)
    }

    /// Checks, in the re-executed image, that the drop held: not root, root not reachable, no capability but the
    /// kept one. Then says who it runs as.
    private static func confirm(_ name: String, logger: Logger) throws(PrivilegeDropError) {
        guard getuid() != 0, geteuid() != 0, getgid() != 0, getegid() != 0 else {
            throw .stillPrivileged("uid \(getuid()), gid \(getgid())")
        }
        guard cpriv_root_is_unreachable() == 1 else { throw .stillPrivileged("setuid(0) succeeded") }
        let capabilities = cpriv_effective_capabilities()
        guard capabilities & ~(UInt64(1) << UInt64(keptCapability)) == 0 else {
            throw .stillPrivileged("capabilities \(String(capabilities, radix: 16)) are still effective")
        }
        logger.notice(
            "running as \(name)",
            metadata: [
                "serve.user": "\(name)", "serve.uid": "\(getuid())", "serve.gid": "\(getgid())",
                "serve.capabilities": "\(capabilities == 0 ? "none" : "CAP_NET_BIND_SERVICE")",
            ])
    }

    private static func stepName(_ step: Int32) -> String {
        switch UInt32(step) {
        case CPRIV_STEP_KEEPCAPS.rawValue: "keeping capabilities across setuid (prctl PR_SET_KEEPCAPS)"
        case CPRIV_STEP_BOUNDING_SET.rawValue: "shrinking the capability bounding set"
        case CPRIV_STEP_SETGROUPS.rawValue: "setgroups"
        case CPRIV_STEP_SETGID.rawValue: "setgid"
        case CPRIV_STEP_SETUID.rawValue: "setuid"
        case CPRIV_STEP_CHECK_IDS.rawValue: "checking the new ids"
        case CPRIV_STEP_CAPSET.rawValue: "keeping CAP_NET_BIND_SERVICE (capset)"
        case CPRIV_STEP_AMBIENT.rawValue: "raising CAP_NET_BIND_SERVICE into the ambient set"
        case CPRIV_STEP_NO_NEW_PRIVS.rawValue: "setting no_new_privs"
        case CPRIV_STEP_ROOT_REGAINED.rawValue: "checking that root cannot be regained"
        default: "re-executing serve as the new user"
        }
    }
}

extension ServeAccount {
    /// A user's ids from the account database: uid, the group (its own unless `[serve] group` names one) and its
    /// supplementary groups, as `login` would give them.
    struct Account {
        let uid: uid_t
        let gid: gid_t
        let groups: [gid_t]

        init(named name: String, group: String?) throws(PrivilegeDropError) {
            var entry = passwd()
            var buffer = [CChar](repeating: 0, count: 16384)
            var found: UnsafeMutablePointer<passwd>?
            guard getpwnam_r(name, &entry, &buffer, buffer.count, &found) == 0, found != nil else {
                throw .unknownUser(name)
            }
            uid = entry.pw_uid
            if let group {
                var groupEntry = Glibc.group()
                var groupFound: UnsafeMutablePointer<Glibc.group>?
                guard getgrnam_r(group, &groupEntry, &buffer, buffer.count, &groupFound) == 0, groupFound != nil
                else { throw .unknownGroup(group) }
                gid = groupEntry.gr_gid
            } else {
                gid = entry.pw_gid
            }
            var count: Int32 = 64
            var list = [gid_t](repeating: 0, count: Int(count))
            if getgrouplist(name, gid, &list, &count) < 0 {
                list = [gid_t](repeating: 0, count: Int(count))
                _ = getgrouplist(name, gid, &list, &count)
            }
            groups = Array(list.prefix(Int(max(count, 0))))
        }
    }
}
