/// One `host:port` a server listens on: `0.0.0.0:69`, `[::]:69`, `127.0.0.1:6969`.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, with IPv6 hosts in brackets. Returns nil with nothing to say: the caller names the key.
    public init?(parsing text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return nil }  // bare IPv6 without brackets is ambiguous
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Reads a list of listen addresses from `key`, with a message that shows the expected form.
    static func list(_ key: String, in table: ConfigTable, default fallback: [String]) throws(ConfigError)
        -> [ListenAddress]
    {
        let texts = try table.stringArray(key) ?? fallback
        var addresses: [ListenAddress] = []
        for (index, text) in texts.enumerated() {
            guard let address = ListenAddress(parsing: text) else {
                throw table.error(
                    "\(key)[\(index)]", "\"\(text)\" is not host:port (write \"0.0.0.0:69\" or \"[::]:69\")")
            }
            addresses.append(address)
        }
        return addresses
    }
}
