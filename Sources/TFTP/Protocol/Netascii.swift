/// RFC 1350 netascii (RFC 764 NVT ASCII): line ends travel as CR LF and a bare CR as CR NUL.
///
/// The server converts as it sends, block by block, with ``Encoder``: `tsize` comes from ``encodedCount(_:)`` over
/// the file first, so nothing converted is kept. The client decodes block by block with ``Decoder``.
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
    public static func encodedCount(_ bytes: UnsafeRawBufferPointer) -> Int {
        var count = bytes.count
        for byte in bytes where byte == lineFeed || byte == carriageReturn { count += 1 }
        return count
    }

    /// Converts a stream piece by piece into output pieces of any length: a block boundary may fall between the CR
    /// and the LF (or NUL) of one input byte, and the encoder carries that second half over to the next piece.
    ///
    /// An encoder is a small value: copy it at a block's start and encoding from the copy gives that block's bytes
    /// again, which is how a resent window reproduces exactly what it sent before.
    public struct Encoder: Sendable, Hashable {
        /// Input bytes consumed so far.
        public private(set) var inputOffset = 0
        /// The second half of the last consumed byte's pair, not yet written.
        private var pending: UInt8?

        /// An encoder at the start of the stream.
        public init() {}

        /// Writes up to `output.count` converted bytes from `input` (the stream's bytes from ``inputOffset``),
        /// returning how many it wrote. Fewer than `output.count` means `input` ran out.
        public mutating func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer)
            -> Int
        {
            var written = 0
            if let pending, !output.isEmpty {
                output[0] = pending
                self.pending = nil
                written = 1
            }
            var consumed = 0
            while written < output.count, consumed < input.count {
                let byte = input[consumed]
                consumed += 1
                let second: UInt8
                switch byte {
                case lineFeed: second = lineFeed
                case carriageReturn: second = 0
                default:
                    output[written] = byte
                    written += 1
                    continue
                }
                output[written] = carriageReturn
                written += 1
                if written < output.count {
                    output[written] = second
                    written += 1
                } else {
                    pending = second
                }
            }
            inputOffset += consumed
            return written
        }
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
