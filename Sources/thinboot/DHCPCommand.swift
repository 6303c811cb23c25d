import ArgumentParser

/// `thinboot dhcp …`: see what DHCP tells a PXE client before it powers on.
struct DHCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dhcp",
        abstract: "A PXE DHCP client: see every offer a booting client would get.",
        subcommands: [DHCPProbeCommand.self]
    )
}
