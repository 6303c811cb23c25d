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

    @Test func everyTOMLTypeBecomesAScriptValue() throws {
        let value = try DataFileCache.parseTOML(
            """
            text = "a\\tb"
            count = -16
            mask = 0xff
            ratio = 2.5e3
            on = true
            day = 1979-05-27
            hour = 07:32:00.5
            utc = 1979-05-27T07:32:00Z
            local = 1979-05-27T00:32:00-07:30
            nested = { list = [1, "two", [3.0]], "dotted.key" = 'x' }
            """, name: "inventory.toml")
        #expect(value["text"] == "a\tb")
        #expect(value["count"] == -16)
        #expect(value["mask"] == 255)
        #expect(value["ratio"] == .number(2500))
        #expect(value["on"] == .boolean(true))
        #expect(value["day"] == "1979-05-27")
        #expect(value["hour"] == "07:32:00.500000000")
        #expect(value["utc"] == "1979-05-27T07:32:00Z")
        #expect(value["local"] == "1979-05-27T00:32:00-07:30")
        #expect(value["nested"]["list"] == .list([1, "two", .list([.number(3)])]))
        #expect(value["nested"]["dotted.key"] == "x")
    }

    /// An inventory saved by a Windows editor starts with a UTF-8 byte order mark, which toml++ skips: the check
    /// before it refused the file as "a non-ASCII character outside a string".
    @Test func aByteOrderMarkAtTheStartIsNotAStrayCharacter() throws {
        let value = try DataFileCache.parseTOML(
            "\u{FEFF}[groups.lab]\nimage = \"trusty-amd64\"\n", name: "inventory.toml")
        #expect(value["groups"]["lab"]["image"] == "trusty-amd64")
        #expect {
            try DataFileCache.parseTOML("a = 1\n\u{FEFF}b = 2\n", name: "inventory.toml")
        } throws: { error in
            (error as? ScriptFileError)?.message.hasPrefix("inventory.toml:2: a non-ASCII character") == true
        }
    }

    @Test func aNULByteIsAnErrorNotTheEndOfTheFile() {
        #expect {
            try DataFileCache.parseTOML("a = 1\n\u{0}b = [\n", name: "inventory.toml")
        } throws: { error in
            (error as? ScriptFileError)?.message.hasPrefix("inventory.toml:2:") == true
        }
    }

    @Test func badTOMLNamesFileAndLine() {
        #expect {
            try DataFileCache.parseTOML("a = 1\nb = \n", name: "inventory.toml")
        } throws: { error in
            (error as? ScriptFileError)?.message.hasPrefix("inventory.toml:2:") == true
        }
    }

    /// toml++ aborted the process on these; the check before it names the line (and says to quote a key only
    /// where that helps).
    @Test(arguments: [
        (
            "[groups.lab]\nimage = \"x\"\n[ `a]\n",
            "inventory.toml:3: a table name must start with a letter, a digit, _, - or a quote, not '`'; quote the key"
        ),
        ("a = 1\nb = [1,\n}]\n", "inventory.toml:3: a '}' inside an array, where a value, ',' or ']' belongs"),
    ])
    func whatTOMLPlusPlusAbortedOnNamesFileAndLine(text: String, message: String) {
        #expect {
            try DataFileCache.parseTOML(text, name: "inventory.toml")
        } throws: { error in
            (error as? ScriptFileError)?.message == message
        }
    }
}
