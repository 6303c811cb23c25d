/// What a route function returned.
public enum ScriptOutput: Sendable, Equatable {
    /// A string: served as the file, byte for byte.
    case bytes([UInt8])
    /// `thinboot.file(path)`: stream this file (the path as the host resolved it).
    case file(String)
    /// `thinboot.image_file(export, path)`: stream this file from inside the export's image (as the host
    /// normalised it).
    case imageFile(export: String, path: String)
    /// A table: its string fields with string keys (`{ file = "ipxe.efi", server = "10.0.0.5" }`); other
    /// entries are ignored. Only for calls with ``ScriptCallInfo/acceptsFields`` (DHCP boot scripts).
    case fields([String: [UInt8]])
    /// nil: the script does not answer this request.
    case nothing
}
