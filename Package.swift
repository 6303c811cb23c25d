// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "thinboot",
    products: [
        .executable(name: "thinboot", targets: ["thinboot"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Lua 5.4 from the system (apt: liblua5.4-dev).
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        // squashfs (apt: libsquashfs-dev, from squashfs-tools-ng) and ext2/3/4 (apt: libext2fs-dev) from the system.
        .systemLibrary(name: "CSquashfs", pkgConfig: "libsquashfs1", providers: [.apt(["libsquashfs-dev"])]),
        .systemLibrary(name: "CExt2fs", pkgConfig: "ext2fs", providers: [.apt(["libext2fs-dev"])]),
        // One node-by-node interface over both libraries; path rules stay in Swift.
        // com_err (error_message) comes with libext2fs, but ext2fs.pc does not name it.
        .target(
            name: "CImageReaders", dependencies: ["CSquashfs", "CExt2fs"],
            linkerSettings: [.linkedLibrary("com_err")]
        ),
        // Files inside images: squashfs, ext2/3/4 and partitioned disks, and the cache of extracted files.
        .target(
            name: "Images",
            dependencies: [
                "CImageReaders", "Files", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Macro wrappers, error trampolines, the capped allocator and the count hook.
        .target(name: "CLuaShims", dependencies: ["CLua"]),
        .target(
            name: "Scripting",
            dependencies: [
                "CLua", "CLuaShims", "Files",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // What every protocol reads: the confined directory, file versions, whole-file and positional reads.
        .target(
            name: "Files",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // One step of a client's boot as a protocol server saw it; the boot status and the metrics are made of these.
        .target(name: "BootEvents"),
        // The receive buffer a UDP listener asks for, sized for a boot storm (TFTP and ProxyDHCP).
        .target(name: "SocketBuffers", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // Batch receive with packet info and segmented sends for the TFTP transfer engine.
        .target(name: "CTFTPShims"),
        .target(
            name: "TFTP",
            dependencies: [
                "CTFTPShims", "Files", "BootEvents", "SocketBuffers",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The SIGBUS guard for reads from mapped images and the allocator hooks for borrowed mapped bytes.
        .target(name: "CNBDShims"),
        .target(
            name: "NBD",
            dependencies: [
                "CNBDShims", "Files", "BootEvents",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Receive with the interface a datagram came in on, send out of a chosen interface (IP_PKTINFO).
        .target(name: "CDHCPShims"),
        // ProxyDHCP: the DHCPv4 codec, the pure offer decision, the responder and the probe client.
        .target(
            name: "DHCP",
            dependencies: [
                "CDHCPShims", "SocketBuffers",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The boot HTTP server over NIOHTTP1: ranges, HEAD, sendfile, limits; independent of TFTP.
        .target(
            name: "HTTP",
            dependencies: [
                "BootEvents", "Files",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // sd_notify and socket activation from the system (apt: libsystemd-dev).
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // The config and inventory TOML parser: toml++ header-only from the system (apt: libtomlplusplus-dev), read
        // whole into one buffer so nothing of a parse is kept.
        .target(name: "CTOMLReader"),
        // setgroups/setgid/setuid keeping CAP_NET_BIND_SERVICE, then exec: the privilege drop of `serve`.
        .target(name: "CPrivilegeShims"),
        .target(
            name: "Thinboot",
            dependencies: [
                "Files", "Images", "TFTP", "NBD", "Scripting", "HTTP", "DHCP", "BootEvents", "CPrivilegeShims",
                "CSystemd", "CTOMLReader",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "thinboot",
            dependencies: [
                "Thinboot", "NBD", "DHCP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Shared by the test targets: running real peers with a time limit, temp folders, digests.
        .target(
            name: "TestSupport",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "FilesTests", dependencies: ["Files", "TestSupport"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "Files", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "TFTPTests",
            dependencies: ["TFTP", "Files", "TestSupport", .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
        .testTarget(
            name: "DHCPTests",
            dependencies: ["DHCP", "TestSupport", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            exclude: ["Fixtures"]
        ),
        // CLua and CLuaShims for the differential test of the budgeted pattern functions against Lua's own.
        .testTarget(
            name: "ScriptingTests",
            dependencies: [
                "Scripting", "CLua", "CLuaShims", "TestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "NBDTests",
            dependencies: [
                "NBD", "CNBDShims", "TestSupport",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "HTTPTests",
            dependencies: [
                "HTTP", "Files", "BootEvents", "TestSupport", .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "ThinbootTests", dependencies: ["Thinboot", "TestSupport"]),
        // Real peers (tftp-hpa, atftp, curl, busybox, libnbd, qemu-img) against the built `thinboot` binary.
        .testTarget(
            name: "InteropTests",
            dependencies: [
                "Thinboot", "NBD", "TFTP", "HTTP", "Images", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
    ]
)

// libFuzzer targets, one executable per parser, each an `LLVMFuzzerTestOneInput` over the real code. They exist only
// when THINBOOT_FUZZ is set, as scripts/fuzz sets it: in that mode the `thinboot` executable (which nothing links
// against) leaves the package, and one `swift build` with scripts/fuzz's sanitizer flags builds every target
// (per-product builds each rebuilt every dependency). Each target's main.swift hands its arguments to libFuzzer's
// driver (CFuzzDriver). Sources and seed corpora are in Tests/Fuzz/<name>/.
if Context.environment["THINBOOT_FUZZ"] != nil {
    package.products.removeAll { $0.name == "thinboot" }
    package.targets.removeAll { $0.name == "thinboot" }
    let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("tftp-packet", ["TFTP", nioCore]),
        ("confined-walk", ["TFTP", "Files"]),
        ("nbd-handshake", ["NBD", nioCore]),
        ("nbd-request", ["NBD", nioCore]),
        ("dhcp-codec", ["DHCP"]),
        ("http-path", ["HTTP", "Files"]),
        ("route-pattern", ["Thinboot"]),
        ("config-loader", ["Thinboot"]),
        ("lease-files", ["DHCP"]),
        ("image-reader", ["Images", "Files", "CImageReaders"]),
    ]
    package.targets.append(.target(name: "CFuzzDriver", path: "Tests/Fuzz/CFuzzDriver"))
    for target in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: "fuzz-\(target.name)", dependencies: target.dependencies + ["CFuzzDriver"],
                path: "Tests/Fuzz/\(target.name)", exclude: ["corpus"]))
    }
}
