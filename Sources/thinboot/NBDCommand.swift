import ArgumentParser
import Logging
import NBD
import Thinboot

/// `thinboot nbd …`: NBD tools that run without the full server.
struct NBDCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nbd",
        abstract: "NBD tools.",
        subcommands: [NBDInetdCommand.self]
    )
}

/// `thinboot nbd inetd FILE | --config F --export NAME`: one export on stdin/stdout, for an inetd line such as
/// `2001 stream tcp nowait nobody /usr/sbin/tcpd thinboot nbd inetd /opt/ltsp-trusty/images/amd64.img`.
struct NBDInetdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inetd",
        abstract: "Serve one export on stdin/stdout (started by inetd for each connection)."
    )

    @Argument(help: "The image file to serve read-only.")
    var file: String?

    @Option(name: .long, help: "The TOML config file to take the export from.")
    var config: String?

    @Option(name: .long, help: "The export name in the config's [[nbd.export]] list.")
    var export: String?

    @Flag(name: .long, help: "Speak the oldstyle handshake (nbdrootd's) instead of fixed newstyle.")
    var oldstyle = false

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        switch (file, config, export) {
        case (.some, nil, nil), (nil, .some, .some): break
        default: throw ValidationError("give either FILE, or --config FILE --export NAME")
        }
    }

    func run() async throws {
        let logger = logging.bootstrap(label: "thinboot.nbd")
        let definition: NBDExportDefinition
        var style: NBDHandshakeStyle = oldstyle ? .oldstyle : .newstyle
        if let file {
            definition = NBDExportDefinition(name: file, path: file)
        } else {
            let settings = try ThinbootConfig.load(path: config!)
            guard let match = settings.nbd?.exports.first(where: { $0.name == export! }) else {
                throw ValidationError("\(config!): no [[nbd.export]] named \"\(export!)\"; `thinboot check` lists them")
            }
            definition = match.definition
            if match.port != nil && match.legacyStyle == .oldstyle { style = .oldstyle }
        }
        try await NBDStandardIOServer.serve(export: definition, style: style, logger: logger)
    }
}
