/// The PXE sub-options carried in option 43 (PXE 2.1 spec, table 2-1) that a ProxyDHCP server writes or reads.
public enum PXEVendorOptions {
    /// Sub-option 6, PXE_DISCOVERY_CONTROL.
    public static let discoveryControl: UInt8 = 6
    /// Sub-option 71, PXE_BOOT_ITEM: the boot server type and layer a port-4011 request asks for.
    public static let bootItem: UInt8 = 71
    /// Sub-option 255 ends the list.
    public static let end: UInt8 = 255

    /// Discovery control bit 3: a boot file in the offer is downloaded at once — no menu, no discovery of boot
    /// servers. Bits 0 and 1 (no broadcast, no multicast discovery) are set with it, as dnsmasq does for
    /// menus, so firmware that ignores bit 3 still does not go looking elsewhere.
    public static let useBootFileInOffer: UInt8 = 0b0000_1011

    /// Option 43 telling the firmware to take the file from this offer.
    public static func bootFileFromOffer() -> [UInt8] {
        [discoveryControl, 1, useBootFileInOffer, end]
    }

    /// The PXE_BOOT_ITEM a port-4011 request carries in its option 43 (4 bytes: type, layer), if any.
    public static func bootItem(in vendorSpecific: [UInt8]) -> [UInt8]? {
        var index = 0
        // Each step moves past a sub-option header at least, so this ends within the option's length.
        while index < vendorSpecific.count {
            let code = vendorSpecific[index]
            if code == end { return nil }
            if code == 0 {
                index += 1
                continue
            }
            guard index + 1 < vendorSpecific.count else { return nil }
            let length = Int(vendorSpecific[index + 1])
            guard index + 2 + length <= vendorSpecific.count else { return nil }
            if code == bootItem, length == 4 { return Array(vendorSpecific[index + 2..<index + 6]) }
            index += 2 + length
        }
        return nil
    }
}
