import BootEvents
import CTFTPShims
import Logging
import NIOCore
import SocketBuffers

#if canImport(Glibc)
    import Glibc
#endif

/// A read-only TFTP server (RFC 1350, 2347, 2348, 2349, 7440).
///
/// Requests arrive on the listening sockets; each transfer then runs on a new socket bound to the address the
/// request was sent to (learnt from the packet info), port 0. ``TransferEngine`` threads (half the cores) read the
/// listeners, each running the transfers it started, so a storm of small requests costs no thread hops; only content a
/// provider must compute (a script) is asked for off the engines. Every request ends in one log line.
///
/// ```swift
/// let server = try await TFTPServer.bind(configuration: configuration, provider: root, logger: logger)
/// print(server.localAddresses)   // the real ports when binding port 0
/// try await server.run()         // until cancelled, or shutdownGracefully()
/// ```
public final class TFTPServer: Sendable {
    /// The addresses actually bound, in the configured order (with real ports when port 0 was asked).
    public let localAddresses: [SocketAddress]
    private let listening: ListeningSockets
    private let engines: [TransferEngine]
    private let transfers: TransferRegistry

    private init(listening: ListeningSockets, engines: [TransferEngine], transfers: TransferRegistry) {
        self.listening = listening
        self.localAddresses = listening.addresses
        self.engines = engines
        self.transfers = transfers
    }

    /// Binds every listen address and starts the engines, or fails naming the first address that cannot be bound
    /// (the others are closed). `engineCount` defaults to half the cores: the kernel's network work, the clients
    /// on the same host in tests, and the NBD server need the rest (on 2 cores a second engine measured slower).
    public static func bind(
        configuration: TFTPServerConfiguration, provider: any TFTPContentProvider, logger: Logger,
        events: any BootEventSink = IgnoredBootEvents(), engineCount: Int = max(1, System.coreCount / 2)
    ) async throws(TFTPBindError) -> TFTPServer {
        var descriptors: [CInt] = []
        var addresses: [SocketAddress] = []
        for descriptor in configuration.inheritedSockets {
            do throws(EngineError) {
                addresses.append(try adoptedSocket(descriptor))
                descriptors.append(descriptor)
            } catch {
                for descriptor in configuration.inheritedSockets { _ = close(descriptor) }
                throw TFTPBindError(address: nil, error: error.ioError)
            }
        }
        // With both 0.0.0.0:P and [::]:P configured, the IPv6 socket must be IPv6-only or the two collide.
        let ipv4Ports = Set(configuration.listen.filter { $0.protocol == .inet }.compactMap(\.port))
        for address in configuration.listen {
            let ipv6Only =
                address.protocol == .inet6 && (address.port.map { $0 != 0 && ipv4Ports.contains($0) } ?? false)
            do throws(EngineError) {
                let (descriptor, bound) = try listeningSocket(address, ipv6Only: ipv6Only)
                descriptors.append(descriptor)
                addresses.append(bound)
            } catch {
                for descriptor in descriptors { _ = close(descriptor) }
                throw TFTPBindError(address: address, error: error.ioError)
            }
        }
        let inherited = Set(configuration.inheritedSockets)
        let buffers = descriptors.map {
            ListenerReceiveBuffer.enlarge($0, ownSocket: !inherited.contains($0))
        }
        ListenerReceiveBuffer.noticeIfShort(buffers, server: "tftp", logger: logger)
        let transfers = TransferRegistry(limits: configuration.admissionLimits)
        let launcher = TransferLauncher(
            configuration: configuration, provider: provider, logger: logger, transfers: transfers,
            events: events)
        let count = max(1, engineCount)
        let listening = ListeningSockets(descriptors: descriptors, addresses: addresses, holders: count)
        var engines: [TransferEngine] = []
        var started = 0
        do throws(EngineError) {
            for _ in 0..<count {
                engines.append(try TransferEngine(listening: listening, launcher: launcher, logger: logger))
            }
            // Only once every engine exists: none serves a request from a server that then fails to bind.
            for (index, engine) in engines.enumerated() {
                try engine.start(name: "tftp-engine-\(index)")
                started += 1
            }
        } catch {
            // Out of threads or descriptors at startup: stop what started, close the sockets, and report it
            // against the first address.
            for engine in engines.prefix(started) { engine.stop() }
            for _ in started..<count { listening.release() }
            throw TFTPBindError(address: configuration.listen.first, error: error.ioError)
        }
        return TFTPServer(listening: listening, engines: engines, transfers: transfers)
    }

    /// A socket bound to `address`, nonblocking, reporting each request's destination address; and the address
    /// really bound.
    ///
    /// No SO_REUSEADDR: on UDP it would let a second server bind the same port and silently take requests from the
    /// first; a port in use must fail here, with the address named.
    private static func listeningSocket(_ address: SocketAddress, ipv6Only: Bool) throws(EngineError) -> (
        CInt, SocketAddress
    ) {
        let descriptor = try BoundSocket.udp(bound: address) { descriptor in
            var on: CInt = 1
            if ipv6Only {
                guard
                    setsockopt(descriptor, CInt(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<CInt>.size))
                        == 0
                else { return -1 }
            }
            return ctftp_enable_packet_info(descriptor, address.protocol == .inet6 ? AF_INET6 : AF_INET)
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0, let bound = SocketAddress(storage: storage) else {
            let error = errno
            _ = close(descriptor)
            throw EngineError(call: "getsockname", errno: error)
        }
        return (descriptor, bound)
    }

    /// Prepares a socket bound by someone else (systemd) as ``listeningSocket(_:ipv6Only:)`` prepares its own:
    /// nonblocking, reporting each request's destination; returns the address it is bound to.
    private static func adoptedSocket(_ descriptor: CInt) throws(EngineError) -> SocketAddress {
        var type: CInt = 0
        var typeLength = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_TYPE, &type, &typeLength) == 0 else {
            throw EngineError(call: "getsockopt", errno: errno)
        }
        guard type == CInt(SOCK_DGRAM.rawValue) else { throw EngineError(call: "getsockopt", errno: ESOCKTNOSUPPORT) }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0, let bound = SocketAddress(storage: storage) else {
            throw EngineError(call: "getsockname", errno: errno)
        }
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0, fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) == 0,
            fcntl(descriptor, F_SETFD, FD_CLOEXEC) == 0,
            ctftp_enable_packet_info(descriptor, bound.protocol == .inet6 ? AF_INET6 : AF_INET) == 0
        else { throw EngineError(call: "fcntl", errno: errno) }
        return bound
    }

    /// Serves until the task is cancelled (listeners and transfers close at once) or ``shutdownGracefully()``
    /// is called (listeners close, transfers in flight finish). The engines' threads end with it.
    public func run() async throws {
        await withTaskCancellationHandler {
            await listening.closed()
            await transfers.idle()
        } onCancel: {
            transfers.stop()
            for engine in engines {
                engine.post { engine in
                    engine.dropListeners()
                    engine.cutTransfers()
                }
            }
        }
        for engine in engines { engine.stop() }
    }

    deinit {
        // A server that was bound but never run, or whose run() ended: its threads end with it.
        for engine in engines { engine.stop() }
    }

    /// A new descriptor for each listening socket, in ``localAddresses`` order, for the server that replaces this
    /// one (``TFTPServerConfiguration/inheritedSockets``): the socket stays bound, so no request is refused
    /// while the two hand over. Nil if the listeners are already closed.
    public func duplicateListeners() -> [CInt]? {
        var copies: [CInt] = []
        for descriptor in listening.descriptors {
            let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
            guard copy >= 0 else {
                for copy in copies { _ = close(copy) }
                return nil
            }
            copies.append(copy)
        }
        return copies
    }

    /// Stops accepting requests; ``run()`` returns once the transfers in flight have ended.
    public func shutdownGracefully() {
        for engine in engines { engine.post { $0.dropListeners() } }
    }

    /// `ip:port`, IPv6 in brackets; `ip` when the caller has the address as text already.
    static func describe(_ address: SocketAddress, ip known: String? = nil) -> String {
        let ip = known ?? address.ipAddress ?? "\(address)"
        guard let port = address.port else { return ip }
        return address.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
