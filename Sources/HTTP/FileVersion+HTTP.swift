import Files

extension FileVersion {
    /// A strong entity tag (quoted): device, inode, size and modification time in nanoseconds, so a file replaced
    /// by rename or rewritten in place gets a new one.
    var entityTag: String {
        "\"\(String(device, radix: 16))-\(String(inode, radix: 16))-\(String(size, radix: 16))-\(String(UInt64(bitPattern: Int64(modified)), radix: 16))\""
    }

    /// Whole seconds since the epoch of the last modification, for `Last-Modified` and `If-Modified-Since`.
    var modifiedSeconds: Int {
        modified >= 0 ? modified / 1_000_000_000 : (modified - 999_999_999) / 1_000_000_000
    }
}
