import Testing

@testable import Thinboot

@Suite struct ConfigTests {
    @Test func readsTFTPSectionAndResolvesPathsAgainstTheConfigFolder() throws {
        let config = try ThinbootConfig.parse(
            """
            [tftp]
            listen = ["127.0.0.1:6969", "[::1]:6969"]
            root = "tftpboot"
            max_windowsize = 16

            [[tftp.route]]
            path = "pxelinux.cfg/*"
            script = "scripts/pxelinux.lua"
            """, file: "/etc/thinboot/thinboot.toml")
        let tftp = try #require(config.tftp)
        #expect(tftp.listen == [ListenAddress(host: "127.0.0.1", port: 6969), ListenAddress(host: "::1", port: 6969)])
        #expect(tftp.root == "/etc/thinboot/tftpboot")
        #expect(tftp.server.maxWindowSize == 16)
        #expect(tftp.server.maxBlockSize == 65464)
        #expect(tftp.routes.map(\.script) == ["/etc/thinboot/scripts/pxelinux.lua"])
        #expect(config.nbd == nil)
    }

    @Test(arguments: [
        ("[tftp]\nroot = \"r\"\nblocksize = 3\n", "tftp.blocksize: unknown key"),
        ("[tftp]\nlisten = [\"0.0.0.0\"]\nroot = \"r\"\n", "tftp.listen[0]: \"0.0.0.0\" is not host:port"),
        ("[tftp]\nroot = \"r\"\nmax_blksize = 70000\n", "tftp.max_blksize: 70000 is out of range: use 8...65464"),
        ("[tftp]\nroot = 3\n", "tftp.root: expected a string"),
        ("[tftp]\n", "tftp.root: is required"),
        ("[tftp]\nroot = \"r\"\n[[tftp.route]]\npath = \"x\"\n", "tftp.route[0].script: is required"),
        ("", "nothing to serve"),
        ("[tftp\n", "not valid TOML at line 1"),
        // toml++ aborted the process on a non-ASCII table name (found by the config-loader fuzz target).
        ("[tftp]\nroot = \"r\"\n[\u{e9}]\n", "not valid TOML at line 3: a non-ASCII character outside a string"),
        ("# caf\u{e9}\n[tftp]\nroot = \"\u{e9}t\u{e9}\"\n\u{e9} = 1\n", "not valid TOML at line 4"),
        // toml++ aborted on a table name starting with a byte that starts no key (config-loader fuzz target).
        ("[tftp]\nroot = \"r\"\n[ `a]\n", "not valid TOML at line 3: a table name must start with a letter"),
        (
            "[tftp]\nroot = \"r\"\n\n  [[{x]]\n",
            "line 4: a table name must start with a letter, a digit, _, - or a quote, not '{'"
        ),
        ("[tftp]\nroot = \"\"\"a\"\"\"\"\n[\t+]\n", "not valid TOML at line 3: a table name must start"),
        (
            "[tftp]\nroot = \"r\"\n[\n",
            "line 3: a table name must start with a letter, a digit, _, - or a quote, not a control character"
        ),
        // toml++ 3.3 aborted on a '}' where an array expects a value (config-loader fuzz target).
        ("[tftp]\nroot = \"r\"\nlisten = [\"0.0.0.0:69\", }\n", "line 3: a '}' inside an array, where a value"),
        ("[tftp]\nroot = \"r\"\nlisten = [\n  # }\n  }\n", "not valid TOML at line 5: a '}' inside an array"),
        // toml++ aborted on a date, a space and a lone digit, even one with '=' for a dash (config-loader fuzz target).
        ("[tftp]\nroot = \"r\"\nrefresh = 2000-01-01 1\n", "not valid TOML at line 3: a date and a space must go on"),
        ("# g*\npos1= 2000-00-1= 4\n-00)0?", "not valid TOML at line 2: a date and a space must go on with a time"),
        ("a = [\n  2_000-01-01 7,\n]\n", "not valid TOML at line 2: a date and a space"),
        ("a = {b=1,c=2000-01-01 1}\n", "not valid TOML at line 1: a date and a space"),
        // And on a date, 'T' and no digit (config-loader fuzz target).
        ("d=0401-05-22tz:rAe", "not valid TOML at line 1: a date and 'T' must go on with a time"),
        ("a = [\n  2000-01-01T:00,\n]\n", "not valid TOML at line 2: a date and 'T' must go on"),
        ("a = 2000-01-01T", "not valid TOML at line 1: a date and 'T'"),
    ])
    func errorsNameFileKeyAndProblem(text: String, expected: String) {
        #expect {
            try ThinbootConfig.parse(text, file: "/srv/t.toml")
        } throws: { error in
            let message = "\(error)"
            return message.hasPrefix("/srv/t.toml: ") && message.contains(expected)
        }
    }

    @Test func nonASCIIInStringsAndCommentsIsFine() throws {
        let config = try ThinbootConfig.parse("# r\u{e9}pertoire\n[tftp]\nroot = \"r\u{e9}\"\n", file: "/srv/t.toml")
        #expect(config.tftp?.root == "/srv/r\u{e9}")
        #expect(TOMLText.problem(in: "a = '''\n\u{e9}\n'''\nb = \"\\\"\u{e9}\"\n[\"\u{e9}\"]\n") == nil)
        #expect(TOMLText.problem(in: "a = \"x\"\n[t]\n[\u{e9}]\n")?.line == 3)
    }

    /// Inside a value a `[` that starts a line is an array, not a table header: never refused.
    @Test func arraysAcrossLinesAreNotTableHeaders() throws {
        let text = """
            [tftp]
            listen = [
              "127.0.0.1:6969", # [ `not a header
            ]
            root = '''
            [ `not a header either
            '''
            [tftp.arch]
            """
        #expect(TOMLText.problem(in: text) == nil)
        #expect(
            try ThinbootConfig.parse(text, file: "/srv/t.toml").tftp?.root.contains("[ `not a header either") == true)
        #expect(TOMLText.problem(in: "a = [\n  [ +1 ],\n  [ {x = 1} ],\n  [[[2]]]\n]\n[ok]\n") == nil)
        #expect(TOMLText.problem(in: "a = [\n  {x = 1},\n  {y = [2, {z = \"}\"}]},\n]\nb = {c = [1]}\n") == nil)
    }

    /// A date, a space and a time is a date-time; a date at the end of the text is toml++'s own error to report.
    @Test func datesAndDateTimesAreNotRefused() throws {
        for text in [
            "a = 1979-05-27 07:32:00\n", "a = [1979-05-27, 1979-05-27 07:32:00Z]\n", "a = 1979-05-27 # 1\n",
            "a = \"2000-01-01 1\"\n", "# a = 2000-01-01 1\n", "a = 2000-01-01 1", "a = 1979-05-27t07:32:00\n",
            "a = 1979-05-27T07:32:00.5+07:00\n",
        ] {
            #expect(TOMLText.problem(in: text) == nil, "\(text)")
        }
        #expect(try TOMLValue.parseDocument("a = 1979-05-27 07:32:00\n")["a"] == .dateTime("1979-05-27T07:32:00"))
    }

    @Test(arguments: [
        ("0.0.0.0:69", "0.0.0.0", 69), ("[::]:69", "::", 69), ("[fe80::1%eth0]:6969", "fe80::1%eth0", 6969),
        ("localhost:0", "localhost", 0),
    ])
    func parsesListenAddresses(text: String, host: String, port: Int) throws {
        let address = try #require(ListenAddress(parsing: text))
        #expect(address.host == host && address.port == port)
        #expect(address.description == text)
    }

    @Test(arguments: ["::1:69", "host", "host:", "host:65536", ":69", "[::1]69"])
    func refusesMalformedListenAddresses(text: String) {
        #expect(ListenAddress(parsing: text) == nil)
    }
}
