import Foundation

/// `thinboot status`: the boot status as a terminal table, one line per client — MAC, IP, arch, the stages it
/// reached with their time since the first, the boot's duration and the last error. Plain text; `colour` adds
/// ANSI colour (a TTY only), which the table never needs to be read.
public enum StatusTable {
    public static func render(_ status: BootStatus, colour: Bool = false) -> String {
        guard !status.clients.isEmpty else { return "No client seen yet.\n" }
        let header = ["MAC", "IP", "ARCH", "IMAGE", "STAGES", "BOOT", "LAST ERROR"]
        var rows: [[String]] = []
        for client in status.clients {
            let first = client.stages.first?.at ?? client.firstSeen
            let stages = client.stages.map { "\($0.title) +\(StatusPage.duration($0.at - first))" }
            let image = client.image.map { name in client.imageVersion.map { "\(name)@\($0)" } ?? name }
            let boot = client.bootSeconds.map(StatusPage.duration) ?? (client.booting ? "booting" : "-")
            let failure = client.lastFailure.map { failure in
                [failure.source, failure.outcome, failure.path, failure.message].compactMap { $0 }.joined(
                    separator: " ")
            }
            rows.append([
                client.mac ?? "?", client.ip ?? "-", client.arch ?? "-", image ?? "-",
                stages.isEmpty ? "-" : stages.joined(separator: ", "), boot, failure ?? "-",
            ])
        }
        let widths = header.indices.map { column in
            max(header[column].count, rows.map { $0[column].count }.max() ?? 0)
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (column, cell) in cells.enumerated() {
                // The last column is not padded: no trailing blanks.
                text +=
                    column == cells.count - 1
                    ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0) + "  "
            }
            return text
        }
        var text = colour ? "\u{1B}[1m" + line(header) + "\u{1B}[0m\n" : line(header) + "\n"
        for (row, client) in zip(rows, status.clients) {
            let plain = line(row)
            if colour, client.lastFailure != nil {
                text += "\u{1B}[31m" + plain + "\u{1B}[0m\n"
            } else if colour, client.booting {
                text += "\u{1B}[33m" + plain + "\u{1B}[0m\n"
            } else {
                text += plain + "\n"
            }
        }
        if !status.transfers.isEmpty {
            text += "\n\(status.transfers.count) in flight:\n"
            for transfer in status.transfers {
                text +=
                    "  \(transfer.source) \(transfer.client) \(transfer.path ?? "-"): \(StatusPage.progress(transfer)), "
                    + "\(StatusPage.bytes(Int(transfer.rate)))/s, \(transfer.retransmits) retransmits, "
                    + "\(StatusPage.duration(status.now - transfer.started))\n"
            }
        }
        return text
    }
}
