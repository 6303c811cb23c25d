import DHCP
import Testing

@Suite struct ArchitectureTests {
    @Test(
        arguments: [
            (0, "x86-bios"), (6, "x86-efi"), (7, "x86_64-efi"), (9, "x86_64-efi"), (10, "arm32-efi"),
            (11, "arm64-efi"), (15, "x86-efi-http"), (16, "x86_64-efi-http"), (18, "arm32-efi-http"),
            (19, "arm64-efi-http"), (20, "x86-bios-http"), (21, "arm32-uboot"), (22, "arm64-uboot"),
            (23, "arm32-uboot-http"), (24, "arm64-uboot-http"), (25, "riscv32-efi"), (26, "riscv32-efi-http"),
            (27, "riscv64-efi"), (28, "riscv64-efi-http"), (29, "riscv128-efi"), (30, "riscv128-efi-http"),
        ] as [(UInt16, String)])
    func namedCodes(code: UInt16, name: String) {
        #expect(ClientArchitecture(code: code).name == name)
    }

    @Test func sevenAndNineAreTheSameMachine() {
        #expect(ClientArchitecture(code: 7).name == ClientArchitecture(code: 9).name)
        #expect(ClientArchitecture(code: 7).bootsOverHTTP == false)
        #expect(ClientArchitecture(code: 16).bootsOverHTTP)
    }

    @Test(arguments: [1, 2, 8, 12, 17, 31, 0x1234, 0xFFFF] as [UInt16])
    func unknownCodesKeepTheirNumber(code: UInt16) {
        let arch = ClientArchitecture(code: code)
        #expect(arch.name == nil)
        #expect(arch.code == code)
    }

    @Test func firstCodeOfOption93IsTheFirmwares() throws {
        var message = CodecTests.discover()
        message.options[.clientArchitecture] = [0, 9, 0, 0]
        message.options.vendorClass = "PXEClient:Arch:00009:UNDI:003016"
        let request = try #require(PXEClientRequest(message: message, interface: "eth0", port: .dhcp))
        #expect(request.architecture?.name == "x86_64-efi")
        #expect(request.architecture?.code == 9)
    }
}
