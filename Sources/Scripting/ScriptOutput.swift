/// What a route function returned.
public enum ScriptOutput: Sendable, Equatable {
    /// A string: served as the file, byte for byte.
    case bytes([UInt8])
    /// `thinboot.file(path)`: stream this file (the path as the host resolved it).
    case file(String)
    /// nil: the script does not answer this request.
    case nothing
}
