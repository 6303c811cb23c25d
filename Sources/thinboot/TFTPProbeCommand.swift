import ArgumentParser
import Foundation
import TFTP
import Thinboot

/// `thinboot tftp probe --mac MAC [--uuid U] [--ip IP] HOST`: asks HOST for the names pxelinux would, in its
/// order, and prints the first file that answers. The tried names go to stderr, the content to stdout.
struct TFTPProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Walk pxelinux's config search order against HOST and print the file that answered."
    )

    @Option(help: "Server port.") var port: Int = 69
    @Option(help: "The client's MAC address (aa:bb:cc:dd:ee:ff).") var mac: String
    @Option(help: "The client's SMBIOS UUID, tried first as pxelinux does.") var uuid: String?
    @Option(help: "The client's IPv4 address, tried as uppercase hex shortened one digit at a time.") var ip: String?
    @Option(help: "The folder pxelinux.0 was loaded from (ltsp-trusty/i386); names are relative to it.")
    var folder: String = ""
    @Argument(help: "Server host name or address.") var host: String

    func validate() throws {
        guard MACAddress(parsing: mac) != nil else { throw ValidationError("--mac must look like 52:54:00:12:34:56") }
        if let ip, PXELinuxSearchOrder.names(mac: MACAddress(parsing: mac)!, ipv4: ip).count == 2 {
            throw ValidationError("--ip must be an IPv4 address such as 192.168.202.31")
        }
    }

    func run() throws {
        let client = TFTPClient(
            host: host, port: port, options: .init(blockSize: 1408, requestTransferSize: true))
        let names = PXELinuxSearchOrder.names(mac: MACAddress(parsing: mac)!, uuid: uuid, ipv4: ip, folder: folder)
        for name in names {
            var content: [UInt8] = []
            do {
                _ = try client.get(name) { content += $0 }
            } catch let error as TFTPClientError {
                if case .server(.fileNotFound, _) = error.kind {
                    FileHandle.standardError.write(Data("\(name): not found\n".utf8))
                    continue
                }
                throw CommandFailure("\(name): \(error)")
            }
            FileHandle.standardError.write(Data("\(name): answered, \(content.count) bytes\n".utf8))
            FileHandle.standardOutput.write(Data(content))
            return
        }
        throw CommandFailure("no pxelinux config answered (tried \(names.count) names)")
    }
}
