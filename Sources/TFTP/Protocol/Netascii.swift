/// RFC 1350 netascii (RFC 764 NVT ASCII): line ends travel as CR LF and a bare CR as CR NUL.
///
/// The server converts whole contents before the transfer starts, because `tsize` must announce the converted
/// size; the client decodes block by block with ``Decoder``.
public enum Netascii {
    /// `bytes` with every LF turned into CR LF and every CR into CR NUL.
    public static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.underestimatedCount + bytes.underestimatedCount / 16)
        for byte in bytes {
            switch byte {
            case lineFeed: output.append(contentsOf: [carriageReturn, lineFeed])
            case carriageReturn: output.append(contentsOf: [carriageReturn, 0])
            default: output.append(byte)
            }
        }
        return output
    }

    /// The size ``encode(_:)`` would produce, without producing it.
    public static func encodedCount(_ bytes: some Sequence<UInt8>) -> Int {
        var count = 0
        for byte in bytes { count += (byte == lineFeed || byte == carriageReturn) ? 2 : 1 }
        return count
    }

    /// Decodes netascii arriving in pieces: a CR at the end of one piece is resolved by the next.
    public struct Decoder: Sendable {
        private var pendingCarriageReturn = false

        /// A decoder at the start of a stream.
        public init() {}

        /// Decodes one piece: CR LF becomes LF, CR NUL becomes CR; a CR before anything else is kept as is.
        public mutating func decode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
            var output: [UInt8] = []
            output.reserveCapacity(bytes.underestimatedCount)
            for byte in bytes {
                if pendingCarriageReturn {
                    pendingCarriageReturn = false
                    switch byte {
                    case lineFeed: output.append(lineFeed)
                    case 0: output.append(carriageReturn)
                    case carriageReturn:
                        output.append(carriageReturn)
                        pendingCarriageReturn = true
                    default: output.append(contentsOf: [carriageReturn, byte])
                    }
                } else if byte == carriageReturn {
                    pendingCarriageReturn = true
                } else {
                    output.append(byte)
                }
            }
            return output
        }

        /// Ends the stream: a CR still waiting for its partner is emitted as is.
        public mutating func finish() -> [UInt8] {
            defer { pendingCarriageReturn = false }
            return pendingCarriageReturn ? [carriageReturn] : []
        }
    }

    private static let carriageReturn: UInt8 = 0x0D
    private static let lineFeed: UInt8 = 0x0A
}
