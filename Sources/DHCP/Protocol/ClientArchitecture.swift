/// A client's firmware architecture from option 93 (RFC 4578 2.1, IANA "Processor Architecture Types"): the
/// code as sent, and the name boot scripts see as `req.arch`, in the same spelling as the TFTP side's boot
/// loader table (`x86-bios`, `x86_64-efi`, `arm64-efi`). A code without a name keeps its number.
public struct ClientArchitecture: Sendable, Hashable, CustomStringConvertible {
    public let code: UInt16

    public init(code: UInt16) { self.code = code }

    /// The name for `code`, nil when the registry has none Thinboot knows.
    public var name: String? { Self.names[code] }

    /// Whether the firmware boots over HTTP (UEFI HTTP boot, `HTTPClient` in option 60): it wants a URL.
    public var bootsOverHTTP: Bool { name?.hasSuffix("-http") ?? false }

    public var description: String { name ?? "arch \(code)" }

    /// Code → name. 7 and 9 are both x86-64 UEFI: RFC 4578 lists 7 as "EFI BC" and 9 as "EFI x86-64", the IANA
    /// registry swapped them, and firmware in the field sends either for the same machine (OVMF and iPXE send 7)
    /// — reading them differently is the classic endless boot loop. EBC has no firmware of its own to boot.
    public static let names: [UInt16: String] = [
        0: "x86-bios",
        6: "x86-efi",
        7: "x86_64-efi",
        9: "x86_64-efi",
        10: "arm32-efi",
        11: "arm64-efi",
        15: "x86-efi-http",
        16: "x86_64-efi-http",
        18: "arm32-efi-http",
        19: "arm64-efi-http",
        20: "x86-bios-http",
        21: "arm32-uboot",
        22: "arm64-uboot",
        23: "arm32-uboot-http",
        24: "arm64-uboot-http",
        25: "riscv32-efi",
        26: "riscv32-efi-http",
        27: "riscv64-efi",
        28: "riscv64-efi-http",
        29: "riscv128-efi",
        30: "riscv128-efi-http",
    ]
}
