import Testing

@testable import TFTP

@Suite("TFTP path normalisation")
struct PathNormalisationTests {
    @Test(arguments: [
        ("pxelinux.0", "pxelinux.0"),
        ("/pxelinux.0", "pxelinux.0"),
        ("//boot//x", "boot/x"),
        ("boot\\grub\\grub.cfg", "boot/grub/grub.cfg"),
        ("\\boot\\x", "boot/x"),
        ("./a/./b", "a/b"),
        ("a/b/", "a/b"),
        ("a..b/c..", "a..b/c.."),
        ("...", "..."),
        ("pxelinux.cfg/01-52-54-00-12-34-56", "pxelinux.cfg/01-52-54-00-12-34-56"),
        // A combining mark after a separator is part of the next name, never of the separator.
        ("//\u{301}etc", "\u{301}etc"),
        ("a/\u{301}b", "a/\u{301}b"),
    ])
    func accepted(_ input: String, _ expected: String) throws {
        #expect(try TFTPPath.normalise(input) == expected)
    }

    @Test func trailingFFBytesAreTrimmed() throws {
        #expect(try TFTPPath.normalise(Array("pxelinux.0".utf8) + [0xFF, 0xFF]) == "pxelinux.0")
    }

    @Test(arguments: [
        "../etc/passwd", "a/../../b", "..", "a/..", "..\\x", "a\\..\\..\\b", "/../x", "../\u{301}x", "a/..\\\u{301}x",
    ])
    func traversalIsRefused(_ input: String) {
        #expect(throws: TFTPRefusal.self) { try TFTPPath.normalise(input) }
        #expect(refusal { try TFTPPath.normalise(Array(input.utf8)) }?.code == .accessViolation)
    }

    @Test(
        arguments: [[0x61, 0x00, 0x62], [0x61, 0x0A], [0x1B, 0x61], [0x61, 0x7F], [0x61, 0xFF, 0x62]] as [[UInt8]])
    func controlCharactersAndInvalidUTF8AreRefused(_ input: [UInt8]) {
        #expect(refusal { try TFTPPath.normalise(input) }?.code == .accessViolation)
    }

    @Test(arguments: ["/", "//", ".", "\\", "./"])
    func nothingLeftIsNotFound(_ input: String) {
        #expect(refusal { try TFTPPath.normalise(Array(input.utf8)) }?.code == .fileNotFound)
    }
}
