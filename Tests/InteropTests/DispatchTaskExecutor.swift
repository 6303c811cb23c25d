import Dispatch

/// Runs tasks on a Dispatch queue of their own instead of Swift's cooperative pool.
///
/// An in-process server in a test shares this process with every other suite running in parallel. The cooperative
/// pool has one thread per core (two here); a test that computes for seconds (digests, 33 MB of pattern bytes, a
/// long state-machine run) holds a pool thread that long, and a server task waiting behind it answers too late for
/// the client's retries. Server tasks started with this executor as preference (their child tasks inherit it) never
/// wait for the pool.
final class DispatchTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label, attributes: .concurrent)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
