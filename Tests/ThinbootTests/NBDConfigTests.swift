import NBD
import TestSupport
import Testing

@testable import Thinboot

@Suite struct NBDConfigTests {
    @Test func readsExportsWithEveryKey() throws {
        let config = try ThinbootConfig.parse(
            """
            [nbd]
            listen = ["0.0.0.0:10809", "[::]:10809"]
            advertise = "192.168.202.4"

            [[nbd.export]]
            name = "trusty-amd64"
            file = "images/amd64.img"
            description = "Ubuntu 14.04 amd64"
            default = true
            port = 2001

            [[nbd.export]]
            name = "lab"
            file = "/srv/lab.img"
            cow = true
            cow_max = "64M"
            port = 2002
            legacy = "oldstyle"
            """, file: "/etc/thinboot/thinboot.toml")
        let nbd = try #require(config.nbd)
        #expect(nbd.advertise == "192.168.202.4")
        let definitions = nbd.exports.map(\.definition)
        #expect(
            definitions == [
                NBDExportDefinition(
                    name: "trusty-amd64", path: "/etc/thinboot/images/amd64.img", description: "Ubuntu 14.04 amd64",
                    isDefault: true, legacyPort: 2001),
                NBDExportDefinition(
                    name: "lab", path: "/srv/lab.img", access: .copyOnWrite(limit: 64 << 20), legacyPort: 2002,
                    legacyStyle: .oldstyle),
            ])
        #expect(nbd.serverConfiguration().listen.map(\.port) == [10809, 10809])
    }

    @Test func readsConnectionLimitsWithTheServerDefaults() throws {
        let defaults = try #require(try ThinbootConfig.parse("[nbd]\n", file: "/srv/t.toml").nbd).serverConfiguration()
        #expect(defaults.maxConnections == NBDServerConfiguration.defaultMaxConnections)
        #expect(defaults.maxConnectionsPerClient == NBDServerConfiguration.defaultMaxConnectionsPerClient)
        #expect(defaults.maxQueuedReplyBytes == NBDServerConfiguration.defaultMaxQueuedReplyBytes)
        let set = try #require(
            try ThinbootConfig.parse(
                "[nbd]\nmax_connections = 100\nmax_connections_per_client = 4\nmax_queued_reply_bytes = \"1M\"\n",
                file: "/srv/t.toml"
            ).nbd
        ).serverConfiguration()
        #expect([set.maxConnections, set.maxConnectionsPerClient, set.maxQueuedReplyBytes] == [100, 4, 1 << 20])
        for (text, message) in [
            ("max_connections = 0", "nbd.max_connections: 0 is out of range"),
            ("max_queued_reply_bytes = 1024", "nbd.max_queued_reply_bytes: 1024 is out of range"),
        ] {
            #expect {
                try ThinbootConfig.parse("[nbd]\n\(text)\n", file: "/srv/t.toml")
            } throws: { "\($0)".contains(message) }
        }
    }

    @Test(arguments: [
        (
            "name = \"a\"\nfile = \"a\"\n[[nbd.export]]\nname = \"a\"\nfile = \"b\"",
            "nbd.export[1].name: \"a\" is already the name of nbd.export[0]"
        ),
        (
            "name = \"a\"\nfile = \"a\"\nport = 2001\n[[nbd.export]]\nname = \"b\"\nfile = \"b\"\nport = 2001",
            "nbd.export[1].port: port 2001 is already used by nbd.export[0]"
        ),
        ("name = \"a\"\nfile = \"a\"\nport = 10809", "nbd.export[0].port: port 10809 is already used by nbd.listen"),
        (
            "name = \"a\"\nfile = \"a\"\ndefault = true\n[[nbd.export]]\nname = \"b\"\nfile = \"b\"\ndefault = true",
            "nbd.export[1].default: nbd.export[0] is already the default"
        ),
        (
            "name = \"a\"\nfile = \"a\"\ncow = true\nreadonly = false",
            "nbd.export[0].readonly: cow = true never writes the image"
        ),
        ("name = \"a\"\nfile = \"a\"\ncow = true\ncow_max = \"lots\"", "nbd.export[0].cow_max: \"lots\" is not a size"),
        ("name = \"a\"\nfile = \"a\"\ncow_max = 100", "nbd.export[0].cow_max: only applies with cow = true"),
        (
            "name = \"a\"\nfile = \"a\"\nport = 2001\nlegacy = \"ancient\"",
            "nbd.export[0].legacy: \"ancient\" is not a handshake"
        ),
        ("name = \"a\"\nfile = \"a\"\nlegacy = \"oldstyle\"", "nbd.export[0].legacy: only applies to a legacy port"),
        ("name = \"\"\nfile = \"a\"", "nbd.export[0].name: must be 1 to 4087 bytes without `@`"),
        ("name = \"a@1\"\nfile = \"a\"", "nbd.export[0].name: must be 1 to 4087 bytes without `@`"),
        ("name = \"a\"\nfile = \"a\"\nport = 70000", "nbd.export[0].port: 70000 is out of range"),
        ("name = \"a\"\nfile = \"a\"\nreadonly = \"yes\"", "nbd.export[0].readonly: expected true or false"),
        ("name = \"a\"\nfile = \"a\"\nsize = 3", "nbd.export[0].size: unknown key"),
    ])
    func exportErrorsNameFileKeyAndProblem(export: String, expected: String) {
        #expect {
            try ThinbootConfig.parse("[nbd]\n[[nbd.export]]\n" + export + "\n", file: "/srv/t.toml")
        } throws: { error in
            "\(error)".hasPrefix("/srv/t.toml: " + expected)
        }
    }

    @Test func readsImageFoldersAndKeepReplaced() throws {
        let config = try ThinbootConfig.parse(
            """
            [nbd]
            keep_replaced = 60
            [[nbd.images]]
            folder = "images/trusty"
            prefix = "trusty-"
            [[nbd.images]]
            folder = "/opt/old"
            """, file: "/srv/t.toml")
        let nbd = try #require(config.nbd)
        #expect(nbd.keepReplaced == .seconds(60))
        #expect(
            nbd.imageFolders == [
                NBDImageFolder(folder: "/srv/images/trusty", prefix: "trusty-"), NBDImageFolder(folder: "/opt/old"),
            ])
        #expect(try ThinbootConfig.parse("[nbd]\n", file: "/srv/t.toml").nbd?.keepReplaced == .seconds(900))
        for (text, message) in [
            ("keep_replaced = -1", "nbd.keep_replaced: -1 is out of range"),
            ("[[nbd.images]]\nprefix = \"a\"", "nbd.images[0].folder"),
            ("[[nbd.images]]\nfolder = \"a\"\nprefix = \"x@\"", "nbd.images[0].prefix"),
            ("[[nbd.images]]\nfolder = \"a\"\nreadonly = true", "nbd.images[0].readonly: unknown key"),
        ] {
            #expect {
                try ThinbootConfig.parse("[nbd]\n\(text)\n", file: "/srv/t.toml")
            } throws: { "\($0)".contains(message) }
        }
    }

    @Test func exportStatusesGiveSizesOrTheProblem() throws {
        let config = try ThinbootConfig.parse(
            "[nbd]\n[[nbd.export]]\nname = \"a\"\nfile = \"/dev/null/missing.img\"\n", file: "/srv/t.toml")
        let status = try #require(config.nbd?.exportStatuses(logger: LogRecord().logger).first)
        #expect(status.size == nil)
        #expect(status.summary.contains("UNAVAILABLE"))
    }
}
