import Testing

@testable import Thinboot

@Suite struct RoutePatternTests {
    @Test(
        arguments: [
            ("pxelinux.cfg/*", "pxelinux.cfg/default", [:], ["default"]),
            ("pxelinux.cfg/*", "pxelinux.cfg/01-52-54-00-12-34-56", [:], ["01-52-54-00-12-34-56"]),
            ("**/pxelinux.cfg/*", "pxelinux.cfg/default", [:], ["", "default"]),
            (
                "**/pxelinux.cfg/*", "ltsp-trusty/i386/pxelinux.cfg/01-52-54-00-12-34-56", [:],
                ["ltsp-trusty/i386", "01-52-54-00-12-34-56"]
            ),
            ("ltsp/{arch}/lts.conf", "ltsp/i386/lts.conf", ["arch": "i386"], []),
            (
                "{image}/{arch}/pxelinux.cfg/01-{mac}", "ltsp-trusty/amd64/pxelinux.cfg/01-52-54-00-12-34-56",
                ["image": "ltsp-trusty", "arch": "amd64", "mac": "52-54-00-12-34-56"], []
            ),
            ("ipxe/*.ipxe", "ipxe/boot.ipxe", [:], ["boot"]),
            ("**", "a/b/c", [:], ["a/b/c"]),
            ("/grub/grub.cfg", "grub/grub.cfg", [:], []),
            // Beyond ASCII, matched by characters: a capture is never cut inside one.
            ("menus/{name}.cfg", "menus/café.cfg", ["name": "café"], []),
            ("menüs/*", "menüs/a", [:], ["a"]),
            ("*é", "café", [:], ["caf"]),
        ] as [(String, String, [String: String], [String])])
    func matches(glob: String, path: String, params: [String: String], captures: [String]) throws {
        let match = try #require(try RoutePattern(glob).match(path))
        #expect(match.params == params)
        #expect(match.captures == captures)
    }

    @Test(arguments: [
        ("pxelinux.cfg/*", "pxelinux.cfg/sub/default"),
        ("pxelinux.cfg/*", "other/pxelinux.cfg/default"),
        ("ltsp/{arch}/lts.conf", "ltsp/lts.conf"),
        ("ipxe/*.ipxe", "ipxe/boot.efi"),
        ("**/pxelinux.cfg/*", "pxelinux.cfg"),
        // "e" and a combining accent are one character, never the literal e.
        ("e*", "e\u{301}x"),
        ("menüs/*", "menus/a"),
    ])
    func doesNotMatch(glob: String, path: String) throws {
        #expect(try RoutePattern(glob).match(path) == nil)
    }

    /// Found writing the route-pattern fuzz target (`scripts/fuzz route-pattern`): plain backtracking tried every
    /// way to split the path between the wildcards, exponentially many: one request could take hours of CPU. Each
    /// (pattern position, path position) is now tried once.
    @Test(.timeLimit(.minutes(1)))
    func manyWildcardsAgainstALongPathEnd() throws {
        let stars = try RoutePattern("*a*a*a*a*a*a*a*a*a*a*a*a*b")
        #expect(stars.match(String(repeating: "a", count: 400)) == nil)
        #expect(
            stars.match(String(repeating: "a", count: 400) + "b")?.captures.first == String(repeating: "a", count: 388))
        let segments = try RoutePattern("**/a/**/a/**/a/**/a/**/a/**/a/**/b")
        #expect(segments.match(Array(repeating: "a", count: 200).joined(separator: "/")) == nil)
        let names = try RoutePattern("{x}a{y}a{z}a*a*a*a*a*a*a*b")
        #expect(names.match(String(repeating: "a", count: 400)) == nil)
    }

    /// Trying each wildcard's every choice from every place it was reached was quadratic in the path: seconds of
    /// CPU for one 8 KiB request line. A wildcard that failed from one place has tried every end from a later one,
    /// so each end is now tried once per wildcard.
    @Test(.timeLimit(.minutes(1)))
    func wildcardsReachedFromManyPlacesAgainstALongPath() throws {
        let long = Array(repeating: "a", count: 4000).joined(separator: "/")
        let spread = try RoutePattern("**/*/**/b")
        #expect(spread.match(long) == nil)
        #expect(
            spread.match(long + "/b")?.captures == ["", "a", Array(repeating: "a", count: 3999).joined(separator: "/")])
        let doubled = try RoutePattern("**/**/{x}/b")
        #expect(doubled.match(long) == nil)
        #expect(doubled.match("c/d/e/b")?.params == ["x": "e"])
        let inSegment = try RoutePattern("*a*a{y}b")
        #expect(inSegment.match(String(repeating: "a", count: 8000)) == nil)
        let matched = try #require(inSegment.match(String(repeating: "a", count: 8000) + "b"))
        #expect(matched.captures.map(\.count) == [7997, 0] && matched.params == ["y": "a"])
    }

    @Test(arguments: [
        ("", "is empty"),
        ("a//b", "empty segment"),
        ("a/**b", "** inside a segment"),
        ("a/{x", "unclosed {"),
        ("a/{}", "bad capture name"),
        ("{x}/{x}", "captures {x} twice"),
    ])
    func refusesBadGlobs(glob: String, problem: String) {
        #expect(throws: RoutePatternError.self) { try RoutePattern(glob) }
        do {
            _ = try RoutePattern(glob)
        } catch {
            #expect(error.problem.contains(problem), "\(error.problem)")
        }
    }

    @Test func aBadRouteGlobIsAConfigErrorNamingTheKey() {
        #expect {
            try ThinbootConfig.parse(
                "[tftp]\nroot = \"r\"\n[[tftp.route]]\npath = \"a/{x\"\nscript = \"s.lua\"\n", file: "/srv/t.toml")
        } throws: { error in
            "\(error)".hasPrefix("/srv/t.toml: tftp.route[0].path: \"a/{x\" has an unclosed {")
        }
    }
}

@Suite struct MACAddressTests {
    @Test(arguments: [
        "01-52-54-00-AB-cd-Ef", "52-54-00-ab-cd-ef", "52:54:00:AB:CD:EF", "525400abcdef",
    ])
    func parsesEveryForm(text: String) throws {
        #expect(try #require(MACAddress(parsing: text)).description == "52:54:00:ab:cd:ef")
    }

    @Test func bareHexOnlyWhenARouteSaysSo() {
        #expect(MACAddress(parsing: "525400abcdef", allowBare: false) == nil)
        #expect(MACAddress(inPath: "pxelinux.cfg/C0A8CA04") == nil)
        #expect(MACAddress(inPath: "pxelinux.cfg/525400abcdef") == nil)
    }

    @Test(arguments: [
        ("pxelinux.cfg/01-52-54-00-12-34-56", "52:54:00:12:34:56"),
        ("ltsp-trusty/i386/pxelinux.cfg/01-52-54-00-12-34-56", "52:54:00:12:34:56"),
        ("clients/52-54-00-12-34-57/lts.conf", "52:54:00:12:34:57"),
        ("grub/52:54:00:12:34:58.cfg".replacingOccurrences(of: ".cfg", with: ""), "52:54:00:12:34:58"),
    ])
    func findsTheMACInAPath(path: String, expected: String) {
        #expect(MACAddress(inPath: path)?.description == expected)
    }

    @Test(arguments: ["52:54:00:12:34", "52-54-00-12-34-zz", "02-52-54-00-12-34-56", "uuid-like-name-here"])
    func refusesWhatIsNotAMAC(text: String) {
        #expect(MACAddress(parsing: text) == nil)
    }

    @Test func pxelinuxName() throws {
        #expect(try #require(MACAddress(parsing: "52:54:00:AB:CD:EF")).pxelinuxName == "01-52-54-00-ab-cd-ef")
    }
}

@Suite struct ArchTableTests {
    @Test func defaultsAndConfigEntries() throws {
        let config = try ThinbootConfig.parse(
            "[tftp]\nroot = \"r\"\n[tftp.arch]\n\"snp.efi\" = \"x86_64-efi\"\n\"pxelinux.0\" = \"bios\"\n",
            file: "/srv/t.toml")
        let arch = try #require(config.tftp).arch
        #expect(arch.arch(forLoaderPath: "ltsp-trusty/i386/pxelinux.0") == "bios")
        #expect(arch.arch(forLoaderPath: "EFI/BOOT/BOOTX64.EFI") == "x86_64-efi")
        #expect(arch.arch(forLoaderPath: "snp.efi") == "x86_64-efi")
        #expect(arch.arch(forLoaderPath: "grubaa64.efi") == "arm64-efi")
        #expect(arch.arch(forLoaderPath: "undionly.kpxe") == "x86-bios")
        #expect(arch.arch(forLoaderPath: "vmlinuz") == nil)
    }

    @Test func scriptLimitsAreRead() throws {
        let config = try ThinbootConfig.parse(
            "[tftp]\nroot = \"r\"\n[tftp.scripts]\nmemory_mib = 16\ninstructions = 100000\nmax_result_kib = 64\nworkers = 3\n",
            file: "/srv/t.toml")
        let scripts = try #require(config.tftp).scripts
        #expect(scripts.limits.memoryBytes == 16 << 20)
        #expect(scripts.limits.instructions == 100_000)
        #expect(scripts.limits.maxResultBytes == 64 << 10)
        #expect(scripts.limits.maxDuration == .seconds(2))
        #expect(scripts.workers == 3)
    }

    @Test func scriptTimeLimitIsReadWithinItsRange() throws {
        let three = try ThinbootConfig.parse(
            "[tftp]\nroot = \"r\"\n[tftp.scripts]\nmax_seconds = 3\n", file: "/srv/t.toml")
        #expect(try #require(three.tftp).scripts.limits.maxDuration == .seconds(3))
        // Past 8 s a run past its limit could outlast SIGTERM's 10 s.
        for outside in [0, 9] {
            #expect(throws: ConfigError.self) {
                try ThinbootConfig.parse(
                    "[tftp]\nroot = \"r\"\n[tftp.scripts]\nmax_seconds = \(outside)\n", file: "/srv/t.toml")
            }
        }
    }
}

@Suite struct PXELinuxSearchOrderTests {
    @Test func walksUUIDMACHexIPDefault() throws {
        let mac = try #require(MACAddress(parsing: "88:99:AA:BB:CC:DD"))
        let names = PXELinuxSearchOrder.names(
            mac: mac, uuid: "B8945908-D6A6-41A9-611D-74A6AB80B83D", ipv4: "192.168.2.91", folder: "ltsp-trusty/i386")
        // The example in pxelinux's documentation, under the folder pxelinux.0 came from.
        #expect(
            names.map { $0.replacingOccurrences(of: "ltsp-trusty/i386/pxelinux.cfg/", with: "") } == [
                "b8945908-d6a6-41a9-611d-74a6ab80b83d", "01-88-99-aa-bb-cc-dd", "C0A8025B", "C0A8025", "C0A802",
                "C0A80", "C0A8", "C0A", "C0", "C", "default",
            ])
        #expect(names.allSatisfy { $0.hasPrefix("ltsp-trusty/i386/pxelinux.cfg/") })
        #expect(PXELinuxSearchOrder.names(mac: mac) == ["pxelinux.cfg/01-88-99-aa-bb-cc-dd", "pxelinux.cfg/default"])
    }
}
