import CTFTPShims

#if canImport(Glibc)
    import Glibc
#endif

/// A detached, named POSIX thread for a ``TransferEngine``: it blocks in `epoll_wait`, so it must not be one of
/// Swift's cooperative threads.
enum EngineThread {
    private final class Body {
        let name: String
        let run: @Sendable () -> Void
        init(_ name: String, _ run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }

    static func spawn(name: String, _ run: @escaping @Sendable () -> Void) throws(EngineError) {
        let body = Unmanaged.passRetained(Body(name, run)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { raw in
                let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
                body.name.withCString { ctftp_name_this_thread($0) }
                body.run()
                return nil
            }, body)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(body).release()
            throw EngineError(call: "pthread_create", errno: result)
        }
        pthread_detach(thread)
    }
}
