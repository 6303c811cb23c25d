import Files

extension OpenedFile {
    /// Up to `count` bytes from `offset` (fewer where the file ends): super blocks and partition tables.
    func bytes(at offset: Int, count: Int) throws(FileReadError) -> [UInt8] {
        var failure: FileReadError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(FileReadError) {
                initialized = try read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }
}
