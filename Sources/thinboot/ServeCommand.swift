import ArgumentParser
import Logging
import Thinboot

/// `thinboot serve --config FILE [--only tftp|nbd]`: runs the servers in the foreground, logging to stderr.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run every server the config enables (TFTP, NBD), or only one of them."
    )

    @Option(name: .long, help: "The TOML config file.")
    var config: String

    @Option(name: .long, help: "Run only this server: tftp or nbd.")
    var only: ServerRole?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = logging.bootstrap(label: "thinboot")
        let settings = try ThinbootConfig.load(path: config)
        let roles = only.map { Set([$0]) } ?? Set(ServerRole.allCases)
        try await ThinbootServer(config: settings, roles: roles, logger: logger).run()
    }
}

extension ServerRole: ExpressibleByArgument {}
