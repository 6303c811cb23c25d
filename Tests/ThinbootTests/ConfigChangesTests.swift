import Testing

@testable import Thinboot

/// What `thinboot check --against OLD` prints and a reload logs: one line per change, and which of them a SIGHUP
/// applies.
@Suite struct ConfigChangesTests {
    private let old = """
        [tftp]
        listen = ["127.0.0.1:69"]
        root = "tftpboot"

        [[tftp.route]]
        path = "pxelinux.cfg/*"
        script = "pxe.lua"

        [nbd]
        listen = ["127.0.0.1:10809"]

        [[nbd.export]]
        name = "a"
        file = "a.img"

        [[nbd.export]]
        name = "b"
        file = "b.img"
        """

    private func changes(to new: String) throws -> ConfigChanges {
        ConfigChanges(
            from: try ThinbootConfig.parse(old, file: "/etc/thinboot/t.toml"),
            to: try ThinbootConfig.parse(new, file: "/etc/thinboot/t.toml"))
    }

    @Test func theSameConfigChangesNothing() throws {
        #expect(try changes(to: old).isEmpty)
    }

    @Test func namesEachChangeAndWhatAReloadApplies() throws {
        let new = """
            [serve]
            user = "thinboot"

            [tftp]
            listen = ["127.0.0.1:69", "127.0.0.1:1069"]
            root = "tftpboot"
            max_windowsize = 8

            [[tftp.route]]
            path = "ltsp/{arch}/lts.conf"
            script = "lts.lua"

            [nbd]
            listen = ["127.0.0.1:10809"]

            [[nbd.export]]
            name = "a"
            file = "a2.img"

            [[nbd.export]]
            name = "c"
            file = "c.img"

            [dhcp]
            proxy = true
            boot = "boot.lua"
            """
        let found = try changes(to: new)
        #expect(
            found.lines == [
                "[tftp] listen: +127.0.0.1:1069", "[tftp] transfer limits",
                "[[tftp.route]] +ltsp/{arch}/lts.conf -pxelinux.cfg/*", "[[nbd.export]] changed: a",
                "[[nbd.export]] added: c", "[[nbd.export]] removed: b", "[dhcp] added", "[serve] user or group",
            ])
        #expect(
            found.appliedOnReload == [
                "[tftp] listen: +127.0.0.1:1069", "[tftp] transfer limits",
                "[[tftp.route]] +ltsp/{arch}/lts.conf -pxelinux.cfg/*", "[[nbd.export]] changed: a",
                "[[nbd.export]] added: c", "[[nbd.export]] removed: b",
            ])
        #expect(
            found.needingRestart == ["[dhcp] added", "[serve] user or group"])
    }
}
