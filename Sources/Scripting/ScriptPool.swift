import Foundation
import Logging

/// Runs route scripts on a pool of worker threads, each owning its own Lua state, so scripts never run on an
/// event-loop thread and a slow script holds up only its own worker. Callers await results.
public final class ScriptPool: Sendable {
    /// The limits every call runs under.
    public let limits: ScriptLimits
    private let queue: JobQueue

    /// Starts `workers` threads. `host` backs the `thinboot` table; `logger` gets reload and compile reports.
    public init(
        host: any ScriptHost, limits: ScriptLimits = ScriptLimits(), workers: Int = ScriptPool.defaultWorkerCount,
        logger: Logger = Logger(label: "thinboot.scripting")
    ) {
        self.limits = limits
        queue = JobQueue()
        let catalog = ScriptCatalog()
        for index in 0..<max(1, workers) {
            // Owned by its thread alone from here on.
            nonisolated(unsafe) let worker = ScriptWorker(limits: limits, host: host, catalog: catalog, logger: logger)
            let queue = queue
            let thread = Thread {
                while let job = queue.next() { job(worker) }
            }
            thread.name = "thinboot-lua-\(index)"
            // Lua's parser and the C stack of nested calls need more than a secondary thread's default stack.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    deinit {
        queue.close()
    }

    /// Twice the cores, at least 2 and at most 16: scripts are short, and a blocked one should not stall the rest.
    public static var defaultWorkerCount: Int {
        min(16, max(2, ProcessInfo.processInfo.activeProcessorCount * 2))
    }

    /// Runs the function `script` returns with `argument` and converts its result. Fails only this call.
    public func run(script: String, argument: ScriptValue, info: ScriptCallInfo? = nil) async throws(ScriptError)
        -> ScriptOutput
    {
        let result = await withCheckedContinuation { continuation in
            run(script: script, info: info ?? ScriptCallInfo(script: script), argument: { argument }) {
                continuation.resume(returning: $0)
            }
        }
        return try result.get()
    }

    /// Runs `script` on a worker with the argument `argument` makes there, and calls `completion` once with the
    /// result, on that worker (or at once when the pool is closed). Work that may block, such as reading the
    /// kernel's neighbour table, belongs in `argument`: it then never runs on the caller's thread.
    public func run(
        script: String, info: ScriptCallInfo, argument: @escaping @Sendable () -> ScriptValue,
        completion: @escaping @Sendable (Result<ScriptOutput, ScriptError>) -> Void
    ) {
        let accepted = queue.add { worker in
            do throws(ScriptError) {
                completion(.success(try worker.run(script: script, argument: argument(), info: info)))
            } catch {
                completion(.failure(error))
            }
        }
        if !accepted {
            completion(
                .failure(
                    ScriptError(kind: .unavailable, script: script, line: nil, reason: "the script pool is closed")))
        }
    }

    /// Compiles `script` as a request would (running its top-level code once), reporting the first error.
    public func check(script: String) async throws(ScriptError) {
        let result: Result<Void, ScriptError> =
            await submit { worker in
                do throws(ScriptError) {
                    try worker.check(script: script)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            ?? .failure(ScriptError(kind: .unavailable, script: script, line: nil, reason: "the script pool is closed"))
        try result.get()
    }

    /// Stops the workers once the queued calls are done; later calls fail with `.unavailable`.
    public func shutdown() {
        queue.close()
    }

    private func submit<T: Sendable>(_ body: @escaping @Sendable (ScriptWorker) -> T) async -> T? {
        await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            let accepted = queue.add { worker in continuation.resume(returning: body(worker)) }
            if !accepted { continuation.resume(returning: nil) }
        }
    }
}

/// A blocking FIFO of jobs for the worker threads.
final class JobQueue: @unchecked Sendable {
    typealias Job = @Sendable (ScriptWorker) -> Void
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var head = 0
    private var closed = false

    /// Queues a job; false when the queue is closed.
    func add(_ job: @escaping Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// The next job, waiting for one; nil once the queue is closed and drained.
    func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count && !closed { condition.wait() }
        guard head < jobs.count else { return nil }
        let job = jobs[head]
        head += 1
        if head > 256 && head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
