import ArgumentParser
import DHCP
import Foundation
import Thinboot

/// `thinboot dhcp probe --interface IF --mac MAC --arch ARCH [--user-class C] [--timeout S]`: broadcasts the
/// DISCOVER that firmware would send and prints every answer, one line each: who answered, the address
/// offered (none from a ProxyDHCP), the next server and the boot file.
struct DHCPProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Send a PXE DISCOVER as a firmware would and print every offer with its boot file and server."
    )

    @Option(help: "The interface to send on (needs root or CAP_NET_RAW/CAP_NET_BIND_SERVICE for port 68).")
    var interface: String
    @Option(help: "The client's MAC address (aa:bb:cc:dd:ee:ff).") var mac: String
    @Option(help: "Option 93: a name (x86-bios, x86_64-efi, arm64-efi, x86_64-efi-http, …) or a number.")
    var arch: String
    @Option(help: "Option 77, e.g. iPXE.") var userClass: String?
    @Option(help: "Seconds to collect offers.") var timeout: Double = 3

    func validate() throws {
        guard MACAddress(parsing: mac) != nil else { throw ValidationError("--mac must look like 52:54:00:12:34:56") }
        guard DHCPProbe.architectureCode(arch) != nil else {
            throw ValidationError("--arch: \"\(arch)\" is neither a known name (x86-bios, x86_64-efi, …) nor a number")
        }
        guard timeout > 0, timeout <= 60 else { throw ValidationError("--timeout must be 0...60 seconds") }
    }

    func run() throws {
        let probe = DHCPProbe(
            interface: interface, mac: MACAddress(parsing: mac)!.bytes, architecture: DHCPProbe.architectureCode(arch)!,
            userClass: userClass)
        let offers: [DHCPProbe.Offer]
        do {
            offers = try probe.run(timeoutSeconds: timeout)
        } catch {
            throw CommandFailure("\(error)")
        }
        for offer in offers {
            let kind = offer.yourAddress.isZero ? "proxy" : "dhcp"
            let address = offer.yourAddress.isZero ? "-" : "\(offer.yourAddress)"
            let file = offer.bootFile.isEmpty ? "-" : offer.bootFile
            print(
                "\(kind) server=\(offer.server) type=\(offer.type?.name ?? "?") address=\(address) "
                    + "next_server=\(offer.nextServer) file=\(file) vendor_class=\(offer.vendorClass ?? "-")")
        }
        guard !offers.isEmpty else { throw CommandFailure("no offer on \(interface) within \(timeout) s") }
    }
}
