import ArgumentParser
import Logging
import Thinboot

#if canImport(Glibc)
    import Glibc
#endif

/// `thinboot serve --config FILE [--only tftp|http|nbd|dhcp]`: runs the servers in the foreground, logging to stderr.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run every server the config enables (TFTP, HTTP, NBD, ProxyDHCP), or only one of them."
    )

    @Option(name: .long, help: "The TOML config file.")
    var config: String

    @Option(name: .long, help: "Run only this server: tftp, http, nbd or dhcp.")
    var only: ServerRole?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = logging.bootstrap(label: "thinboot")
        Self.raiseDescriptorLimit(logger: logger)
        let settings = try ThinbootConfig.load(path: config)
        // As root this re-executes serve as the [serve] user: nothing is bound or opened before it.
        try ServeAccount.settle(settings.serve, logger: logger)
        let roles = only.map { Set([$0]) } ?? Set(ServerRole.allCases)
        let activated = ActivatedSockets.take(logger: logger)
        try await ThinbootServer(config: settings, roles: roles, logger: logger, activated: activated).run()
    }
}

extension ServeCommand {
    /// Lifts the soft limit on open descriptors to the hard one, as servers do: every transfer, spare transfer
    /// socket and NBD connection holds one, and the usual soft limit of 1024 is reached long before the hard one.
    static func raiseDescriptorLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(CInt(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        let soft = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        if setrlimit(CInt(RLIMIT_NOFILE.rawValue), &limit) != 0 {
            logger.notice("cannot raise the open file limit", metadata: ["limit": "\(soft)"])
        }
    }
}

extension ServerRole: ExpressibleByArgument {}
