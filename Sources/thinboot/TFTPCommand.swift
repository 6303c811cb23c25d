import ArgumentParser

/// `thinboot tftp …`: the bundled client, to test what any boot client would get.
struct TFTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tftp",
        abstract: "A TFTP client: fetch a file, or see what a PXE client would be served.",
        subcommands: [TFTPGetCommand.self, TFTPProbeCommand.self]
    )
}
