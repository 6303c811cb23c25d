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
                "[[nbd.export]] added: c", "[[nbd.export]] removed: b", "[dhcp] added",
                "[serve] user: nobody -> thinboot",
            ])
        #expect(found.appliedOnReload == Array(found.lines.dropLast()))
        #expect(found.needingRestart == ["[serve] user: nobody -> thinboot"])
    }

    @Test func listenersLimitsDHCPAndAdminApplyAndSectionsAddedWaitForARestart() throws {
        let before = """
            [tftp]
            root = "tftpboot"

            [http]
            listen = ["127.0.0.1:8080"]

            [nbd]
            listen = ["127.0.0.1:10809"]

            [dhcp]
            proxy = true
            boot = "boot.lua"

            [admin]
            listen = ["127.0.0.1:9108"]
            """
        let after = """
            [serve]
            group = "netboot"

            [tftp]
            root = "tftpboot"

            [http]
            listen = ["127.0.0.1:8081"]
            idle_timeout = 5

            [nbd]
            listen = ["127.0.0.1:10809", "127.0.0.1:10810"]
            max_connections = 10
            keep_replaced = 60

            [[nbd.images]]
            folder = "/srv/images"

            [dhcp]
            proxy = true
            interfaces = ["br0"]
            boot = "boot2.lua"
            next_server = "10.0.0.5"

            [admin]
            listen = ["127.0.0.1:9108"]
            allow = ["10.0.0.0/8"]
            clients = 10
            """
        let found = ConfigChanges(
            from: try ThinbootConfig.parse(before, file: "/etc/thinboot/t.toml"),
            to: try ThinbootConfig.parse(after, file: "/etc/thinboot/t.toml"))
        #expect(
            found.appliedOnReload == [
                "[http] listen: +127.0.0.1:8081 -127.0.0.1:8080", "[http] limits and timeouts",
                "[nbd] listen: +127.0.0.1:10810", "[nbd] limits", "[[nbd.images]] added: /srv/images",
                "[dhcp] interfaces: all -> br0", "[dhcp] boot: /etc/thinboot/boot.lua -> /etc/thinboot/boot2.lua",
                "[dhcp] next_server: - -> 10.0.0.5", "[admin] allow: 10.0.0.0/8",
            ])
        #expect(
            found.needingRestart == [
                "[nbd] keep_replaced", "[admin] clients, history_hours or stages", "[serve] group: - -> netboot",
            ])
        let dropped = ConfigChanges(
            from: try ThinbootConfig.parse(before, file: "/etc/thinboot/t.toml"),
            to: try ThinbootConfig.parse("[tftp]\nroot = \"tftpboot\"\n", file: "/etc/thinboot/t.toml"))
        #expect(dropped.appliedOnReload == ["[dhcp] removed"])
        #expect(dropped.needingRestart == ["[http] removed", "[nbd] removed", "[admin] removed"])
    }
}
