/// The body of an RRQ or WRQ: what file, in which mode, with which options.
public struct TFTPRequest: Sendable, Hashable {
    /// The file name exactly as sent (bytes, not yet normalised: see ``TFTPPath``).
    public var filename: [UInt8]
    /// The transfer mode (names are case-insensitive on the wire).
    public var mode: TFTPMode
    /// The options in the order sent, names lowercased; a repeated option keeps its first value.
    public var options: [TFTPOption]

    /// A request for `filename` as raw bytes.
    public init(filename: [UInt8], mode: TFTPMode = .octet, options: [TFTPOption] = []) {
        self.filename = filename
        self.mode = mode
        self.options = options
    }

    /// A request for `filename` as text (UTF-8 on the wire).
    public init(filename: String, mode: TFTPMode = .octet, options: [TFTPOption] = []) {
        self.init(filename: Array(filename.utf8), mode: mode, options: options)
    }

    /// The value of option `name` (lowercase), if the request carries it.
    public func option(_ name: String) -> String? {
        options.first { $0.name == name }?.value
    }
}

/// One option name/value pair of RFC 2347.
public struct TFTPOption: Sendable, Hashable, CustomStringConvertible {
    /// The option name, lowercase when decoded (option names are case-insensitive).
    public var name: String
    /// The value as text (numbers in decimal).
    public var value: String

    /// An option `name` (send it lowercase) with `value`.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// RFC 2348 block size.
    public static let blockSize = "blksize"
    /// RFC 2349 timeout in seconds.
    public static let timeout = "timeout"
    /// RFC 2349 transfer size.
    public static let transferSize = "tsize"
    /// RFC 7440 window size.
    public static let windowSize = "windowsize"

    public var description: String { "\(name)=\(value)" }
}
