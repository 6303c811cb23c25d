import ArgumentParser
import Foundation
import Thinboot

/// `thinboot status [--admin URL]`: the boot status table, read from a running server's `/status.json`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print each client seen lately: its stages, how long its boot took, its last error.")

    @Option(name: .long, help: "The admin listener's URL ([admin] listen).")
    var admin = "http://127.0.0.1:9108"

    func run() async throws {
        let body: [UInt8]
        do {
            body = try await AdminClient.get("/status.json", from: admin)
        } catch {
            throw CommandFailure(error.description)
        }
        let status: BootStatus
        do {
            status = try BootStatus.decode(Data(body))
        } catch {
            throw CommandFailure("\(admin)/status.json is not a Thinboot status (\(error))")
        }
        print(StatusTable.render(status, colour: isatty(STDOUT_FILENO) == 1), terminator: "")
    }
}
