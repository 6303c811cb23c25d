import ArgumentParser
import Thinboot

@main
struct ThinbootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thinboot",
        abstract: "Network-boot service: a scriptable TFTP server, an NBD server and a TFTP client.",
        subcommands: [
            ServeCommand.self,
            CheckCommand.self,
            RenderCommand.self,
            TFTPCommand.self,
            NBDCommand.self,
            StatusCommand.self,
            DHCPCommand.self,
        ]
    )
}
