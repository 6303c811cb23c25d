import Foundation

/// `/status` as HTML: the clients table, a server-rendered SVG timeline (one lane per client, a bar per stage, so a
/// boot storm shows at a glance), the transfers in flight. Plain HTML and CSS; a few lines of script reload the
/// page's body every few seconds (no framework, nothing fetched from elsewhere). Every value is escaped.
public enum StatusPage {
    /// Seconds between refreshes.
    static let refreshSeconds = 5
    /// Lanes drawn in the timeline at most (the newest clients); the table lists every client.
    static let timelineLanes = 60

    public static func render(_ status: BootStatus) -> [UInt8] {
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Thinboot — boot status</title>
            <style>\(style)</style>
            </head><body>
            <div id="status">
            """
        html += body(status)
        html += """
            </div>
            <script>
            // Reload the status in place; keep the page as it is when the server does not answer.
            setInterval(async () => {
              try {
                const response = await fetch(location.pathname, {cache: "no-store"});
                if (!response.ok) return;
                const page = new DOMParser().parseFromString(await response.text(), "text/html");
                document.getElementById("status").replaceWith(page.getElementById("status"));
              } catch (e) {}
            }, \(refreshSeconds * 1000));
            </script>
            </body></html>

            """
        return Array(html.utf8)
    }

    static func body(_ status: BootStatus) -> String {
        let booting = status.clients.filter(\.booting).count
        let failed = status.clients.filter { $0.lastFailure != nil }.count
        var html = """
            <header><h1>Boot status</h1>
            <p class="summary">\(status.clients.count) client\(status.clients.count == 1 ? "" : "s") seen, \
            <b>\(booting)</b> booting now, \(failed) with a failure, \(status.transfers.count) transfer\
            \(status.transfers.count == 1 ? "" : "s") in flight — \(escape(clock(status.now))) UTC, \
            refreshed every \(refreshSeconds) s</p></header>
            """
        html += "<h2>Timeline</h2>"
        if let first = status.clients.flatMap({ $0.stages.map(\.at) }).min() {
            html += "<p class=\"caption\">Time since the first step drawn, at \(escape(clock(first))) UTC; "
            html += "one lane per client, newest on top; hover a bar for its file.</p>"
        }
        html += timeline(status)
        html += "<h2>Clients</h2>" + table(status)
        html += "<h2>In flight</h2>" + transfers(status)
        return html
    }

    static func table(_ status: BootStatus) -> String {
        guard !status.clients.isEmpty else { return "<p class=\"empty\">No client has asked for anything yet.</p>" }
        var html = """
            <table class="clients"><thead><tr><th>MAC</th><th>IP</th><th>Arch</th><th>Image</th>\
            <th>Stages (time since the first)</th><th>Boot took</th><th>Last failure</th></tr></thead><tbody>
            """
        for client in status.clients {
            let state = client.booting ? "booting" : client.bootSeconds != nil ? "booted" : "idle"
            html += "<tr class=\"\(state)\" data-mac=\"\(escape(client.mac ?? ""))\">"
            html += "<td class=\"mac\">\(cell(client.mac, source: client.macSource))</td>"
            html += "<td>\(cell(client.ip, source: client.ipSource))</td>"
            html += "<td>\(cell(client.arch, source: client.archSource))</td>"
            let image = client.image.map { name in client.imageVersion.map { "\(name)@\($0)" } ?? name }
            html += "<td>\(cell(image, source: nil))</td>"
            let first = client.stages.first?.at ?? client.firstSeen
            html += "<td><ol class=\"stages\">"
            for stage in client.stages {
                let detail = [stage.path, stage.route.map { "route \($0)" }].compactMap { $0 }.joined(separator: " · ")
                html += """
                    <li class="stage s-\(css(stage.stage))" title="\(escape(detail))">\
                    <span class="name">\(escape(stage.title))</span> \
                    <span class="at">+\(escape(duration(stage.at - first)))</span></li>
                    """
            }
            html += "</ol></td>"
            html +=
                "<td>\(client.bootSeconds.map { escape(duration($0)) } ?? (client.booting ? "<i>booting</i>" : "—"))</td>"
            if let failure = client.lastFailure {
                html += """
                    <td class="failure"><b>\(escape(failure.outcome))</b> \
                    <code>\(escape(failure.path ?? "-"))</code> <span class="source">(\(escape(failure.source)))</span>\
                    \(failure.message.map { "<br><span class=\"message\">\(escape($0))</span>" } ?? "")</td>
                    """
            } else {
                html += "<td>—</td>"
            }
            html += "</tr>"
        }
        return html + "</tbody></table>"
    }

    /// One lane per client (newest on top), a bar per stage from when it was reached to the next stage, on one
    /// time axis spanning the boots shown.
    static func timeline(_ status: BootStatus) -> String {
        let clients = status.clients.filter { !$0.stages.isEmpty }.prefix(timelineLanes)
        guard !clients.isEmpty else { return "<p class=\"empty\">No boot to draw yet.</p>" }
        let start = clients.flatMap { $0.stages.map(\.at) }.min() ?? status.now
        // To the last thing drawn (now, while a client still boots): finished boots fill the width.
        let last =
            clients.flatMap { client in
                client.stages.map { $0.at + ($0.seconds ?? 0) } + [client.lastFailure?.at].compactMap { $0 }
                    + (client.booting ? [status.now] : [])
            }.max() ?? status.now
        let end = max(last + (last - start) * 0.03, start + 1)
        let label = 150.0
        let width = 900.0
        let lane = 22.0
        let axis = 24.0
        let height = axis + lane * Double(clients.count) + 28
        let scale = (width - label - 10) / (end - start)
        var svg = """
            <svg class="timeline" viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" role="img" \
            aria-label="Boot timeline: one lane per client, one bar per stage">
            """
        // The axis: five ticks, as times since the first stage drawn.
        for tick in 0...4 {
            let x = label + Double(tick) * (width - label - 10) / 4
            let seconds = Double(tick) * (end - start) / 4
            // The last label ends at its tick, so it is not cut off at the edge.
            let anchor = tick == 4 ? "end" : "middle"
            svg += """
                <line class="tick" x1="\(f(x))" y1="\(f(axis - 4))" x2="\(f(x))" y2="\(f(height - 28))"/>\
                <text class="axis" x="\(f(x))" y="\(f(axis - 8))" text-anchor="\(anchor)">+\(escape(duration(seconds)))</text>
                """
        }
        for (index, client) in clients.enumerated() {
            let y = axis + Double(index) * lane
            svg += """
                <text class="lane" x="\(f(label - 8))" y="\(f(y + lane * 0.68))" text-anchor="end">\
                \(escape(client.mac ?? client.ip ?? "?"))</text>
                """
            let stages = client.stages
            for (position, stage) in stages.enumerated() {
                let from = stage.at
                let next = position + 1 < stages.count ? stages[position + 1].at : nil
                // A stage lasts until the next one; the last one as long as its own transfer (at least a sliver).
                let until = max(next ?? (from + (stage.seconds ?? 0)), from + (end - start) / 150)
                let x = label + (from - start) * scale
                let w = max(2, (until - from) * scale)
                svg += """
                    <rect class="bar s-\(css(stage.stage))" x="\(f(x))" y="\(f(y + 3))" width="\(f(w))" \
                    height="\(f(lane - 6))" rx="2"><title>\(escape(client.mac ?? client.ip ?? "?")) \
                    \(escape(stage.title)) at +\(escape(duration(from - start)))\
                    \(stage.path.map { " — " + escape($0) } ?? "")</title></rect>
                    """
            }
            if client.lastFailure != nil {
                let x = label + ((client.lastFailure?.at ?? start) - start) * scale
                svg += "<circle class=\"fail\" cx=\"\(f(x))\" cy=\"\(f(y + lane / 2))\" r=\"4\"/>"
            }
        }
        // The legend, in stage order.
        var x = label
        for stage in BootStage.allCases {
            svg += """
                <rect class="bar s-\(css(stage.rawValue))" x="\(f(x))" y="\(f(height - 18))" width="12" height="12" \
                rx="2"/><text class="legend" x="\(f(x + 16))" y="\(f(height - 8))">\(escape(stage.title))</text>
                """
            x += 16 + Double(stage.title.count) * 7 + 14
        }
        svg += "<circle class=\"fail\" cx=\"\(f(x + 6))\" cy=\"\(f(height - 12))\" r=\"4\"/>"
        svg += "<text class=\"legend\" x=\"\(f(x + 16))\" y=\"\(f(height - 8))\">failure</text>"
        return svg + "</svg>"
    }

    static func transfers(_ status: BootStatus) -> String {
        guard !status.transfers.isEmpty else { return "<p class=\"empty\">Nothing in flight.</p>" }
        var html = """
            <table class="transfers"><thead><tr><th>Protocol</th><th>Client</th><th>MAC</th><th>File or export</th>\
            <th>Progress</th><th>Rate</th><th>Retransmits</th><th>Running</th></tr></thead><tbody>
            """
        for transfer in status.transfers {
            html += """
                <tr><td>\(escape(transfer.source))</td><td>\(escape(transfer.client))</td>\
                <td>\(escape(transfer.mac ?? "—"))</td><td><code>\(escape(transfer.path ?? "-"))</code></td>\
                <td>\(escape(progress(transfer)))</td><td>\(escape(bytes(Int(transfer.rate))))/s</td>\
                <td>\(transfer.retransmits)</td><td>\(escape(duration(status.now - transfer.started)))</td></tr>
                """
        }
        return html + "</tbody></table>"
    }

    /// `1.2 MiB of 40.0 MiB (3%)`, or the bytes alone when the size is not known (an NBD connection).
    static func progress(_ transfer: BootStatus.Transfer) -> String {
        guard let size = transfer.size, size > 0 else { return bytes(transfer.bytes) }
        return "\(bytes(transfer.bytes)) of \(bytes(size)) (\(transfer.bytes * 100 / size)%)"
    }

    private static func cell(_ value: String?, source: String?) -> String {
        guard let value else { return "<span class=\"unknown\">unknown</span>" }
        guard let source else { return escape(value) }
        return "\(escape(value)) <span class=\"source\">(\(escape(source)))</span>"
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.2em 2em;color:#1d232a;background:#fafbfc}
        h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em;color:#444}
        .summary{margin:0;color:#555}table{border-collapse:collapse;width:100%;background:#fff}
        th,td{border-bottom:1px solid #e3e6ea;padding:.35em .6em;text-align:left;vertical-align:top}
        th{background:#eef1f4;font-weight:600}td.mac{font-family:ui-monospace,monospace;white-space:nowrap}
        tr.booting td:first-child{border-left:4px solid #e0a000}tr.booted td:first-child{border-left:4px solid #2e9e4f}
        tr.idle td:first-child{border-left:4px solid #bbb}
        .source,.unknown,.at,.message{color:#777;font-size:.9em}
        ol.stages{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.3em}
        li.stage{border-radius:3px;padding:0 .4em;color:#fff;white-space:nowrap}li.stage .at{color:#f2f2f2}
        td.failure b{color:#b3261e}code{font-size:.92em}
        .s-dhcp{background:#6b7a8f;fill:#6b7a8f}.s-loader{background:#3b6fb6;fill:#3b6fb6}
        .s-config{background:#7a4fb0;fill:#7a4fb0}.s-kernel{background:#c2601d;fill:#c2601d}
        .s-initrd{background:#b08a1a;fill:#b08a1a}.s-root{background:#2e8a4a;fill:#2e8a4a}
        .s-lts-conf{background:#1f8a8a;fill:#1f8a8a}
        svg.timeline{background:#fff;border:1px solid #e3e6ea;max-width:1100px}
        svg text{font:12px system-ui,sans-serif;fill:#333}svg text.lane{font-family:ui-monospace,monospace}
        svg text.axis{fill:#777}svg line.tick{stroke:#eceff2}svg circle.fail{fill:#b3261e}
        .empty{color:#777}.caption{margin:0 0 .4em;color:#666;font-size:.92em}
        """

    /// `lts.conf` → `lts-conf`: a stage name as a CSS class.
    private static func css(_ stage: String) -> String {
        stage.replacingOccurrences(of: ".", with: "-")
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// `0.4 s`, `12 s`, `3 min 05 s`, `2 h 10 min`.
    static func duration(_ seconds: Double) -> String {
        let seconds = max(0, seconds)
        if seconds < 10 { return String(format: "%.1f s", seconds) }
        if seconds < 60 { return "\(Int(seconds)) s" }
        if seconds < 3600 { return String(format: "%d min %02d s", Int(seconds) / 60, Int(seconds) % 60) }
        return String(format: "%d h %02d min", Int(seconds) / 3600, Int(seconds) % 3600 / 60)
    }

    static func bytes(_ count: Int) -> String {
        if count < 1 << 10 { return "\(count) B" }
        if count < 1 << 20 { return String(format: "%.1f KiB", Double(count) / 1024) }
        if count < 1 << 30 { return String(format: "%.1f MiB", Double(count) / 1_048_576) }
        return String(format: "%.2f GiB", Double(count) / 1_073_741_824)
    }

    /// `2026-12-01 23:05:27`.
    static func clock(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
