/// The server's side of RFC 2347 option negotiation for a read: which of the requested options it accepts, with
/// which values, and the transfer parameters that follow.
///
/// Rules (RFC 2347, 2348, 2349, 7440 and DESIGN.md):
/// - Only requested options are answered, in the client's order; unknown options are ignored.
/// - `blksize` 8...65464: granted as the request capped by the configured maximum and by the path MTU.
/// - `timeout` 1...255 seconds: echoed unchanged up to the configured `maxTimeout`; above it the option is left out
///   of the OACK (RFC 2349 lets a server decline it: an echo must be exact) and the server's own timeout applies.
/// - `tsize`: answered with the exact size of what will be sent (after netascii conversion); declined for empty
///   content, which curl cannot take.
/// - `windowsize` 1...65535: granted as the request capped by the configured maximum.
/// - A value that is not a decimal number, or below its range (or `timeout` above it), fails negotiation with
///   ERROR 8; a `blksize`/`windowsize` above what the server grants is simply capped.
/// - Nothing accepted: no OACK, DATA 1 follows the request directly (RFC 1350 behaviour).
public struct TFTPOptionNegotiation: Sendable, Hashable {
    /// The server's caps.
    public struct Limits: Sendable, Hashable {
        /// The largest block size granted (`max_blksize`).
        public var maxBlockSize: Int
        /// The largest window granted (`max_windowsize`).
        public var maxWindowSize: Int
        /// Seconds between retransmissions when the client did not ask for `timeout`.
        public var defaultTimeout: Int
        /// The largest `timeout` accepted (`max_timeout`); a larger one is declined.
        public var maxTimeout: Int

        /// Caps as `[tftp]` sets them (defaults are its defaults; `maxTimeout` defaults to RFC 2349's 255, no cap).
        public init(
            maxBlockSize: Int = 65464, maxWindowSize: Int = 64, defaultTimeout: Int = 1,
            maxTimeout: Int = TFTPOptionNegotiation.timeoutRange.upperBound
        ) {
            self.maxBlockSize = maxBlockSize
            self.maxWindowSize = maxWindowSize
            self.defaultTimeout = defaultTimeout
            self.maxTimeout = maxTimeout
        }
    }

    /// RFC 1350's block size, used when `blksize` is not negotiated.
    public static let defaultBlockSize = 512
    /// RFC 2348's range.
    public static let blockSizeRange = 8...65464
    /// RFC 2349's range.
    public static let timeoutRange = 1...255
    /// RFC 7440's range.
    public static let windowSizeRange = 1...65535

    /// Bytes per DATA block.
    public let blockSize: Int
    /// Blocks sent before waiting for an ACK.
    public let windowSize: Int
    /// Seconds to wait for an ACK before retransmitting.
    public let timeout: Int
    /// What goes into the OACK; empty means no OACK.
    public let acknowledged: [TFTPOption]

    /// Whether the client asked for `tsize` and gets it (used to tell a size probe from an aborted transfer).
    public var answersTransferSize: Bool { acknowledged.contains { $0.name == TFTPOption.transferSize } }

    /// Negotiates `requested` for content of `transferSize` bytes (as sent, after any netascii conversion).
    /// - Parameter pathBlockSizeLimit: the largest block that fits the MTU of the interface the request came in
    ///   on (see ``blockSizeLimit(mtu:ipv6:)``), or nil if unknown.
    public init(
        requested: [TFTPOption], limits: Limits, pathBlockSizeLimit: Int? = nil, transferSize: Int
    ) throws(TFTPOptionError) {
        var blockSize = Self.defaultBlockSize
        var windowSize = 1
        var timeout = limits.defaultTimeout
        var acknowledged: [TFTPOption] = []
        for option in requested {
            switch option.name {
            case TFTPOption.blockSize:
                let asked = try Self.number(option, atLeast: Self.blockSizeRange.lowerBound)
                var granted = min(asked, Self.blockSizeRange.upperBound, limits.maxBlockSize)
                if let pathBlockSizeLimit { granted = min(granted, pathBlockSizeLimit) }
                blockSize = max(granted, Self.blockSizeRange.lowerBound)
                acknowledged.append(TFTPOption(option.name, String(blockSize)))
            case TFTPOption.timeout:
                let asked = try Self.number(option, atLeast: Self.timeoutRange.lowerBound)
                guard asked <= Self.timeoutRange.upperBound else {
                    throw TFTPOptionError(option: option, expected: Self.timeoutRange)
                }
                // A client that may stay silent for minutes holds its slot for minutes: decline, keep ours.
                guard asked <= limits.maxTimeout else { continue }
                timeout = asked
                acknowledged.append(TFTPOption(option.name, String(asked)))
            case TFTPOption.transferSize:
                _ = try Self.number(option, atLeast: 0)
                // curl (7.88) rejects "tsize 0" in an OACK as invalid; declining the option for empty content is
                // allowed (RFC 2347) and costs a client nothing: the transfer is one empty block.
                guard transferSize > 0 else { continue }
                acknowledged.append(TFTPOption(option.name, String(transferSize)))
            case TFTPOption.windowSize:
                let asked = try Self.number(option, atLeast: Self.windowSizeRange.lowerBound)
                windowSize = max(1, min(asked, Self.windowSizeRange.upperBound, limits.maxWindowSize))
                acknowledged.append(TFTPOption(option.name, String(windowSize)))
            default:
                continue  // RFC 2347: options the server does not know are ignored
            }
        }
        self.blockSize = blockSize
        self.windowSize = windowSize
        self.timeout = timeout
        self.acknowledged = acknowledged
    }

    /// The largest `blksize` whose DATA datagram fits one packet on a link of `mtu` bytes: minus the IP header
    /// (20 bytes IPv4, 40 bytes IPv6), the UDP header (8) and the TFTP header (4).
    public static func blockSizeLimit(mtu: Int, ipv6: Bool) -> Int {
        mtu - (ipv6 ? 52 : 32)
    }

    private static func number(_ option: TFTPOption, atLeast minimum: Int) throws(TFTPOptionError) -> Int {
        let value = option.value.utf8
        guard !value.isEmpty, value.count <= 18,
            value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let number = Int(option.value)
        else { throw TFTPOptionError(option: option, expected: nil) }
        guard number >= minimum else { throw TFTPOptionError(option: option, expected: minimum...Int.max) }
        return number
    }
}

/// A requested option the server cannot honour; the client gets ERROR 8 with ``description``.
public struct TFTPOptionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The option as the client sent it.
    public let option: TFTPOption
    /// The accepted range, or nil when the value is not a number at all.
    public let expected: ClosedRange<Int>?

    /// An error about `option`; `expected` nil means the value is not a number.
    public init(option: TFTPOption, expected: ClosedRange<Int>?) {
        self.option = option
        self.expected = expected
    }

    public var description: String {
        switch expected {
        case nil: "option \(option.name) value \"\(option.value)\" is not a decimal number"
        case let range? where range.upperBound == Int.max:
            "option \(option.name) value \(option.value) is below \(range.lowerBound)"
        case let range?:
            "option \(option.name) value \(option.value) is outside \(range.lowerBound)..\(range.upperBound)"
        }
    }

    /// The refusal the server sends for it: ERROR 8 (RFC 2347).
    public var refusal: TFTPRefusal {
        TFTPRefusal(code: .optionNegotiationFailed, message: description, outcome: .refused)
    }
}
