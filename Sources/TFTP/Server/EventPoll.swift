import CTFTPShims
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// An epoll set and an eventfd to wake it: the readiness source of one ``TransferEngine`` thread. Descriptors are
/// watched for input, and for output only while a transfer waits for its send buffer to drain; level triggered,
/// each with the descriptor itself as its token.
final class EventPoll {
    private let descriptor: CInt
    /// Written by other threads to interrupt ``wait(into:timeoutMilliseconds:)``.
    let wakeDescriptor: CInt

    init() throws(EngineError) {
        descriptor = epoll_create1(CInt(EPOLL_CLOEXEC))
        guard descriptor >= 0 else { throw EngineError(call: "epoll_create1", errno: errno) }
        wakeDescriptor = eventfd(0, CInt(EFD_CLOEXEC) | CInt(EFD_NONBLOCK))
        guard wakeDescriptor >= 0 else {
            let error = errno
            _ = close(descriptor)
            throw EngineError(call: "eventfd", errno: error)
        }
        try add(wakeDescriptor)
    }

    deinit {
        _ = close(wakeDescriptor)
        _ = close(descriptor)
    }

    /// Watches `fd` for input; `exclusive` (for a listener shared by several engines) wakes only one of them.
    func add(_ fd: CInt, exclusive: Bool = false) throws(EngineError) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | (exclusive ? EPOLLEXCLUSIVE.rawValue : 0)
        event.data.fd = fd
        guard epoll_ctl(descriptor, EPOLL_CTL_ADD, fd, &event) == 0 else {
            throw EngineError(call: "epoll_ctl", errno: errno)
        }
    }

    /// Watches `fd` for output too (a full send buffer), or no longer.
    func watchWritable(_ fd: CInt, _ writable: Bool) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | (writable ? EPOLLOUT.rawValue : 0)
        event.data.fd = fd
        _ = epoll_ctl(descriptor, EPOLL_CTL_MOD, fd, &event)
    }

    /// Stops watching `fd` (closing a descriptor does that too, unless another copy of it is open).
    func remove(_ fd: CInt) {
        var event = epoll_event()
        _ = epoll_ctl(descriptor, EPOLL_CTL_DEL, fd, &event)
    }

    /// Waits for readiness or a wake-up; fills `events` and returns how many are ready (0 on timeout or EINTR).
    func wait(into events: UnsafeMutableBufferPointer<epoll_event>, timeoutMilliseconds: CInt) -> Int {
        let ready = epoll_wait(descriptor, events.baseAddress, CInt(events.count), timeoutMilliseconds)
        return max(0, Int(ready))
    }

    /// Interrupts a wait, from any thread.
    func wake() {
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }

    /// Clears the wake-ups counted so far (after ``wait(into:timeoutMilliseconds:)`` reported the eventfd).
    func drainWakes() {
        var count: UInt64 = 0
        _ = read(wakeDescriptor, &count, 8)
    }
}

/// A system call the transfer engine depends on failed.
struct EngineError: Error, CustomStringConvertible {
    let call: String
    let errno: CInt

    var description: String { "\(call): \(String(cString: strerror(errno)))" }

    /// The same failure as NIO's error type, for ``TFTPBindError``'s hints.
    var ioError: IOError { IOError(errnoCode: errno, reason: call) }
}
