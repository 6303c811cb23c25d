import Foundation
import Scripting
import TestSupport
import Testing

@testable import Thinboot

@Suite struct DataFileTests {
    @Test func csvWithHeaderQuotesAndCRLF() throws {
        let value = try DataFileCache.parseCSV(
            "mac,group,note\r\n52:54:00:00:00:01,lab,\"has, comma\"\r\n52:54:00:00:00:02,office,\"say \"\"hi\"\"\"\r\n",
            name: "clients.csv")
        #expect(
            value
                == .list([
                    .record(["mac": "52:54:00:00:00:01", "group": "lab", "note": "has, comma"]),
                    .record(["mac": "52:54:00:00:00:02", "group": "office", "note": "say \"hi\""]),
                ]))
    }

    @Test func tomlBecomesNestedTables() throws {
        let value = try DataFileCache.parseTOML(
            "[groups.lab]\nimage = \"trusty-amd64\"\nscreens = 2\n[[clients]]\nmac = \"52:54:00:00:00:01\"\n",
            name: "inventory.toml")
        #expect(value["groups"]["lab"]["image"] == "trusty-amd64")
        #expect(value["groups"]["lab"]["screens"] == 2)
        #expect(value["clients"] == .list([.record(["mac": "52:54:00:00:00:01"])]))
    }

    @Test func badTOMLNamesFileAndLine() {
        #expect {
            try DataFileCache.parseTOML("a = 1\nb = \n", name: "inventory.toml")
        } throws: { error in
            (error as? ScriptFileError)?.message.hasPrefix("inventory.toml:2:") == true
        }
    }

    /// toml++ aborted the process on this; the check before it names the line instead.
    @Test func tableNameThatStartsNoKeyNamesFileAndLine() {
        #expect {
            try DataFileCache.parseTOML("[groups.lab]\nimage = \"x\"\n[ `a]\n", name: "inventory.toml")
        } throws: { error in
            (error as? ScriptFileError)?.message
                == "inventory.toml:3: a table name must start with a letter, a digit, _, - or a quote, not '`'; quote the key"
        }
    }
}

/// `thinboot.data` re-reads an inventory rewritten at the same size with its modification time kept (`cp -p`,
/// `rsync -t`, a clock tick coarser than the two writes): the change time still tells.
@Suite struct DataFileReloadTests {
    @Test func anInventoryRewrittenAtTheSameSizeAndModificationTimeIsReadAgain() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("tftpboot/.keep", "")
        let inventory = try directory.write("inventory.toml", "label = \"one\"\n")
        try directory.write("label.lua", "return function(req) return thinboot.data('inventory.toml').label end\n")
        let config = try directory.write(
            "thinboot.toml", "[tftp]\nroot = \"tftpboot\"\n[[tftp.route]]\npath = \"label/*\"\nscript = \"label.lua\"\n"
        )
        let router = try makeRouter(configFile: config)
        #expect(text(of: try await router.content(for: try readRequest("label/a"))) == "one")

        try rewriteKeepingModificationTime(inventory, "label = \"two\"\n")

        // Another path: the generated answer for label/a is kept for a few seconds.
        #expect(text(of: try await router.content(for: try readRequest("label/b"))) == "two")
    }
}
