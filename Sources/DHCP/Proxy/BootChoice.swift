/// What the boot script decided for one client.
public enum BootChoice: Sendable, Hashable {
    /// A file fetched by TFTP from `server` (nil: the proxy's next server).
    case file(String, server: IPv4Address?)
    /// An `http://` URL: the boot URI of UEFI HTTP boot, or the script iPXE chains to.
    case url(String)
    /// No answer at all: another server (or none) boots this client.
    case silent

    /// The longest boot file name: `file` is 128 bytes and must end with a NUL for the firmware's C string.
    public static let maxFileLength = 127
}
