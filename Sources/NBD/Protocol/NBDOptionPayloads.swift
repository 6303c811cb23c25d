import NIOCore

/// The data of `NBD_OPT_INFO` and `NBD_OPT_GO`: an export name and the information types asked for.
struct NBDExportRequest: Equatable {
    var name: String
    var requests: [NBDInfoType]

    /// Nil when the lengths inside the data lie or the name is not a valid string: the reply is `ERR_INVALID`.
    init?(parsing data: ByteBuffer) {
        var data = data
        guard let name = data.readNBDString(), let count = data.readInteger(as: UInt16.self),
            data.readableBytes == Int(count) * 2
        else { return nil }
        self.name = name
        requests = (0..<Int(count)).map { _ in NBDInfoType(rawValue: data.readInteger(as: UInt16.self)!) }
    }
}

/// The data of `NBD_OPT_LIST_META_CONTEXT` and `NBD_OPT_SET_META_CONTEXT`: an export name and queries.
struct NBDMetaContextRequest: Equatable {
    var exportName: String
    var queries: [String]

    /// Nil when lengths lie, a string is invalid, or there are more than `NBDLimits.maximumMetaContextQueries`.
    init?(parsing data: ByteBuffer) {
        var data = data
        guard let name = data.readNBDString(), let count = data.readInteger(as: UInt32.self),
            count <= NBDLimits.maximumMetaContextQueries
        else { return nil }
        var queries: [String] = []
        for _ in 0..<count {
            guard let query = data.readNBDString() else { return nil }
            queries.append(query)
        }
        guard data.readableBytes == 0 else { return nil }
        exportName = name
        self.queries = queries
    }
}

extension ByteBuffer {
    /// A 32-bit length and that many bytes of UTF-8 without NUL, at most `NBDLimits.maximumStringLength`.
    mutating func readNBDString() -> String? {
        guard let length = getInteger(at: readerIndex, as: UInt32.self), length <= NBDLimits.maximumStringLength,
            readableBytes >= 4 + Int(length)
        else { return nil }
        moveReaderIndex(forwardBy: 4)
        return readValidatedString(length: Int(length))
    }

    /// `length` bytes as a string, nil unless valid UTF-8 without NUL.
    mutating func readValidatedString(length: Int) -> String? {
        guard let bytes = readBytes(length: length), !bytes.contains(0) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }
}
