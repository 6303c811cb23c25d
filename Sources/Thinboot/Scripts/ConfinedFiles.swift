import TFTP

/// A folder files are opened from without ever leaving it (the TFTP root, the config folder). `StaticRoot`
/// is the real one; the router and the script host only need this much.
public protocol ConfinedFiles: Sendable {
    /// Opens a regular file by its normalised path relative to the folder, or refuses as TFTP would.
    func open(relativePath: String) throws(TFTPRefusal) -> OpenedFile

    /// What a TFTP client gets for the file at `relativePath`: `StaticRoot` answers small unchanged files from
    /// memory.
    func content(at relativePath: String) throws(TFTPRefusal) -> TFTPContent
}

extension ConfinedFiles {
    /// The file, opened.
    public func content(at relativePath: String) throws(TFTPRefusal) -> TFTPContent {
        .file(try open(relativePath: relativePath))
    }
}

extension OpenedFile {
    /// Reads the whole file from its descriptor (from the start, whatever was read before).
    func readAll(limit: Int) throws(ScriptFileError) -> [UInt8] {
        guard size <= limit else { throw ScriptFileError("\(path) is \(size) bytes, over the limit of \(limit)") }
        return readAll()
    }
}

/// A file a script asked for could not be used.
struct ScriptFileError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
