import ArgumentParser
import Foundation
import Logging
import Thinboot

/// `thinboot check --config F`: validates the config, compiles every route script, lists routes and exports.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract:
            "Validate the config, compile every script, list the routes, the NBD exports, the ProxyDHCP and the lease files."
    )

    @Option(help: "The TOML config file.") var config: String
    @Option(
        help: ArgumentHelp(
            "A copy of the config serve runs with: print what a SIGHUP reload with --config would change.",
            valueName: "OLD"))
    var against: String?
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = logging.bootstrap(label: "thinboot")
        let settings = try ThinbootConfig.load(path: config)
        var report: [String] = ["\(config): config is valid"]
        if let tftp = settings.tftp {
            let router = try Router.make(config: settings, tftp: tftp, logger: logger)
            let errors = await router.checkScripts()
            if let first = errors.first {
                for error in errors.dropFirst() { FileHandle.standardError.write(Data("\(error)\n".utf8)) }
                throw CommandFailure(first.description)
            }
            report.append(
                "tftp: root \(tftp.root), listening on \(tftp.listen.map(\.description).joined(separator: ", "))")
            for route in tftp.routes {
                report.append("  route \(route.path) -> \(route.script) (compiled)")
            }
            if tftp.routes.isEmpty { report.append("  no routes: every file comes from the root") }
            for route in tftp.routes where route.protocols != nil {
                report.append("  route \(route.path) only for \(route.protocols!.sorted().joined(separator: ", "))")
            }
        }
        if let http = settings.http {
            let advertise = http.advertise.map { ", URLs from \($0)" } ?? ""
            report.append(
                "http: the tftp root and routes, listening on \(http.listen.map(\.description).joined(separator: ", "))\(advertise)"
            )
        }
        if let nbd = settings.nbd {
            let server = nbd.advertise ?? "SERVER"
            report.append("nbd: listening on \(nbd.listen.map(\.description).joined(separator: ", "))")
            for folder in nbd.imageFolders {
                report.append("  image folder \(folder.folder): every *.img, named \(folder.prefix)NAME")
            }
            // The store's own lines (`version published`) would only repeat what the report says.
            var quiet = logger
            quiet.logLevel = .warning
            for export in nbd.exportStatuses(logger: quiet) {
                let pinned = export.version.map { ", pinned nbdroot=\(server),\(export.name)@\($0),nbd0" } ?? ""
                report.append("  export \(export.summary), nbdroot=\(server),\(export.name),nbd0\(pinned)")
            }
        }
        if let dhcp = settings.dhcp {
            let script = try BootScript.make(config: settings, dhcp: dhcp, logger: logger)
            do {
                try await script.check()
            } catch {
                throw CommandFailure(error.description)
            }
            let interfaces = dhcp.interfaces.isEmpty ? "all interfaces" : dhcp.interfaces.joined(separator: ", ")
            report.append("dhcp: ProxyDHCP on \(interfaces), ports 67 and 4011")
            report.append("  boot \(dhcp.boot) (compiled)")
        }
        if let clients = settings.clients, !clients.leases.isEmpty {
            report.append("clients: MACs from \(clients.leases.count) lease file(s), for clients across routers")
            for file in LeaseFiles(paths: clients.leases, logger: logger).summaries() {
                let state =
                    file.problem
                    ?? "\(file.format?.rawValue ?? "empty"), \(file.live) live lease\(file.live == 1 ? "" : "s")"
                report.append("  leases \(file.path): \(state)")
            }
        }
        if let against {
            let changes = ConfigChanges(from: try ThinbootConfig.load(path: against), to: settings)
            report.append(
                changes.isEmpty ? "reload: no change from \(against)" : "reload: from \(against), a SIGHUP would")
            for line in changes.appliedOnReload { report.append("  apply   \(line)") }
            for line in changes.needingRestart { report.append("  restart \(line) (only a restart applies it)") }
        }
        print(report.joined(separator: "\n"))
    }
}
