import ArgumentParser
import Foundation
import Logging
import TFTP
import Thinboot

/// `thinboot render --config F --mac M --ip I [--arch A] PATH`: runs the route for PATH offline and prints
/// exactly the bytes the server would send that client.
struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print what the TFTP server would send a client for PATH (generated or static)."
    )

    @Option(help: "The TOML config file.") var config: String
    @Option(help: "The client's MAC, as the server would learn it from the neighbour table.") var mac: String
    @Option(help: "The client's IP address.") var ip: String
    @Option(help: "The client's architecture, as the server would learn it from the boot loader fetched.")
    var arch: String?
    @Option(help: "The server address the client reaches (for nbdroot=; default: 127.0.0.1).")
    var server: String = "127.0.0.1"
    @Option(help: "Render as this protocol asks: tftp or http (a GET; routes limited to the other are skipped).")
    var `protocol`: String = "tftp"
    @OptionGroup var logging: LoggingOptions
    @Argument(help: "The path the client asks for (pxelinux.cfg/01-52-54-00-12-34-56).") var path: String

    func validate() throws {
        guard MACAddress(parsing: mac) != nil else { throw ValidationError("--mac must look like 52:54:00:12:34:56") }
        guard `protocol` == "tftp" || `protocol` == "http" else { throw ValidationError("--protocol is tftp or http") }
    }

    func run() async throws {
        let logger = logging.bootstrap(label: "thinboot")
        let settings = try ThinbootConfig.load(path: config)
        guard let tftp = settings.tftp else {
            throw CommandFailure("\(config): no [tftp] section: nothing to render")
        }
        let router = try Router.make(config: settings, tftp: tftp, logger: logger)
        do {
            let fields: BootRequest.ProtocolFields =
                `protocol` == "http"
                ? .http(method: "GET", headers: [:], query: [:]) : .tftp(mode: "octet", options: [:])
            let request = BootRequest(
                path: try TFTPPath.normalise(path), ip: ip, port: 0, localIP: server, fields: fields)
            let content = try await router.answer(request, knownMAC: MACAddress(parsing: mac), knownArch: arch)
            switch content {
            case .bytes(let bytes):
                FileHandle.standardOutput.write(Data(bytes.readableBytesView))
            case .file(let file):
                FileHandle.standardOutput.write(Data(try file.readWhole()))
            }
        } catch let refusal as BootRefusal {
            let error = refusal.tftp
            throw CommandFailure("\(path): the client would get ERROR \(error.code.rawValue) (\(error.message))")
        }
    }
}
