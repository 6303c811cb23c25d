import Files

/// A file sent as netascii, converted as its windows go out: the transfer holds an encoder per block of its
/// current window and 32 KiB of the file, never the converted file, whatever its size.
///
/// A block's bytes depend on everything before it (each LF or CR before it adds a byte), so the encoder is kept
/// as it stood at the start of each block of the last window and of the block after it: a resent window, a
/// window restarted after an earlier ACK, or the rest of a stalled window starts from one of those and produces
/// exactly the bytes it produced before. Any other block is reached by converting again from the nearest kept
/// point, or the start.
///
/// Only the engine thread that runs the transfer touches it once the transfer started, which is why the
/// unchecked `Sendable` is sound.
final class NetasciiStream: @unchecked Sendable {
    let file: OpenedFile
    /// The converted size, from the counting pass.
    let size: Int
    private let readAhead = ReadAhead()
    /// The encoder at the start of blocks `firstCheckpointBlock`, `firstCheckpointBlock + 1`, …
    private var checkpoints = [Netascii.Encoder()]
    private var firstCheckpointBlock = 1

    init(file: OpenedFile, size: Int) {
        self.file = file
        self.size = size
    }

    /// Converts the payloads of `blocks` into `memory`, the first at `offset`, each next one `stride` bytes
    /// further; false when the file no longer holds the bytes it had when counted.
    func writePayloads(
        _ blocks: ClosedRange<Int>, blockSize: Int, into memory: UnsafeMutableRawBufferPointer, offset: Int,
        stride: Int
    ) -> Bool {
        guard var encoder = encoder(atBlock: blocks.lowerBound, blockSize: blockSize) else { return false }
        // Points before this window are never asked for again: the window only moves forward.
        checkpoints.removeFirst(blocks.lowerBound - firstCheckpointBlock)
        firstCheckpointBlock = blocks.lowerBound
        var slot = offset
        for block in blocks {
            let start = (block - 1) * blockSize
            let length = max(0, min(blockSize, size - start))
            guard convert(into: UnsafeMutableRawBufferPointer(rebasing: memory[slot..<slot + length]), &encoder)
            else { return false }
            let next = block + 1 - firstCheckpointBlock
            if next < checkpoints.count { checkpoints[next] = encoder } else { checkpoints.append(encoder) }
            slot += stride
        }
        return true
    }

    /// The encoder at the start of `block`: a kept one, or one converted forward from the nearest kept one (or the
    /// start) with the output thrown away.
    private func encoder(atBlock block: Int, blockSize: Int) -> Netascii.Encoder? {
        let index = block - firstCheckpointBlock
        if index >= 0, index < checkpoints.count { return checkpoints[index] }
        var from = 1
        var encoder = Netascii.Encoder()
        if index >= checkpoints.count {
            from = firstCheckpointBlock + checkpoints.count - 1
            encoder = checkpoints[checkpoints.count - 1]
        }
        var remaining = (block - from) * blockSize
        let scratchSize = 4096
        let reached = withUnsafeTemporaryAllocation(byteCount: scratchSize, alignment: 16) { scratch in
            while remaining > 0 {
                let piece = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<min(scratchSize, remaining)])
                guard convert(into: piece, &encoder) else { return false }
                remaining -= piece.count
            }
            return true
        }
        guard reached else { return nil }
        checkpoints = [encoder]
        firstCheckpointBlock = block
        return encoder
    }

    /// Fills `output` with converted bytes; false when the file ends (or cannot be read) before it is full.
    private func convert(into output: UnsafeMutableRawBufferPointer, _ encoder: inout Netascii.Encoder) -> Bool {
        var written = 0
        while written < output.count {
            // At the end of the file the encoder may still hold the second half of a pair: empty input lets it out.
            let input =
                readAhead.bytes(of: file, at: encoder.inputOffset) ?? UnsafeRawBufferPointer(start: nil, count: 0)
            let produced = encoder.encode(input, into: UnsafeMutableRawBufferPointer(rebasing: output[written...]))
            guard produced > 0 else { return false }
            written += produced
        }
        return true
    }
}
