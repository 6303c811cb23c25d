import Foundation
import Logging

/// Runs route scripts on a pool of worker threads, each owning its own Lua state, so scripts never run on an
/// event-loop thread and a slow script holds up only its own worker. Callers await results or pass a completion.
///
/// Every call ends within its time limit, and the pool's capacity always comes back:
/// - the C side raises `time limit exceeded` at ``ScriptLimits/maxDuration`` wherever the script is — in Lua code
///   (the count hook reads the clock), in the pattern functions and in the table functions that loop in C (our own,
///   budgeted versions in CLuaShims) — and the worker's state is replaced, as after any limit;
/// - a call still running ``ScriptLimits/reclaimGrace`` later is stuck somewhere that reads no clock (a host
///   callback, a library function we did not foresee). A thread cannot be stopped safely from outside, and a
///   longjmp from a signal handler may land inside malloc; so the caller gets its timeout error at once, that
///   worker stops counting as capacity, and a fresh thread with a fresh Lua state takes its place. At most
///   `workers` stuck threads are replaced; past that the pool runs smaller rather than grow without bound.
/// Child processes per worker would make a kill safe, but cost a process per worker and a copy of every request
/// and answer; the limits above already end every path we know of.
public final class ScriptPool: Sendable {
    /// The limits every call runs under.
    public let limits: ScriptLimits
    private let queue: JobQueue
    private let crew: WorkerCrew

    /// Starts `workers` threads. `host` backs the `thinboot` table; `logger` gets reload and compile reports.
    public init(
        host: any ScriptHost, limits: ScriptLimits = ScriptLimits(), workers: Int = ScriptPool.defaultWorkerCount,
        logger: Logger = Logger(label: "thinboot.scripting")
    ) {
        self.limits = limits
        queue = JobQueue()
        crew = WorkerCrew(
            size: max(1, workers), queue: queue, limits: limits, catalog: ScriptCatalog(), logger: logger,
            makeWorker: { catalog in ScriptWorker(limits: limits, host: host, catalog: catalog, logger: logger) })
        crew.start()
    }

    deinit {
        shutdown()
    }

    /// Twice the cores, at least 2 and at most 16: scripts are short, and a blocked one should not stall the rest.
    /// Worker threads a pool may be given (`workers` in `[tftp.scripts]`).
    public static let workerCountRange = 1...256

    public static var defaultWorkerCount: Int {
        min(16, max(2, ProcessInfo.processInfo.activeProcessorCount * 2))
    }

    /// Runs the function `script` returns with `argument` and converts its result. Fails only this call.
    public func run(script: String, argument: ScriptValue, info: ScriptCallInfo? = nil) async throws(ScriptError)
        -> ScriptOutput
    {
        try await answer(script: script, argument: argument, info: info).output
    }

    /// Like ``run(script:argument:info:)``, with the Content-Type a route function returned beside its answer.
    public func answer(script: String, argument: ScriptValue, info: ScriptCallInfo? = nil) async throws(ScriptError)
        -> ScriptAnswer
    {
        let result = await withCheckedContinuation { continuation in
            run(script: script, info: info ?? ScriptCallInfo(script: script), argument: { argument }) {
                continuation.resume(returning: $0)
            }
        }
        return try result.get()
    }

    /// Runs `script` on a worker with the argument `argument` makes there, and calls `completion` once: with the
    /// result, on that worker; with the error a stuck or refused call is failed with, from the thread that failed
    /// it. Work that may block, such as reading the kernel's neighbour table, belongs in `argument`: it then never
    /// runs on the caller's thread.
    public func run(
        script: String, info: ScriptCallInfo, argument: @escaping @Sendable () -> ScriptValue,
        completion: @escaping @Sendable (Result<ScriptAnswer, ScriptError>) -> Void
    ) {
        submit(script: script, completion: completion) { worker in
            do throws(ScriptError) {
                return .success(try worker.run(script: script, argument: argument(), info: info))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Compiles `script` as a request would (running its top-level code once), reporting the first error.
    public func check(script: String) async throws(ScriptError) {
        let result = await withCheckedContinuation { continuation in
            submit(script: script, completion: { continuation.resume(returning: $0) }) { worker in
                do throws(ScriptError) {
                    try worker.check(script: script)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
        }
        try result.get()
    }

    /// Stops the pool: queued calls fail at once with `.unavailable`, so a server shutting down never waits for a
    /// queue of scripts; calls already running end within their limit; later calls fail with `.unavailable`.
    public func shutdown() {
        for job in queue.close() {
            job.fail(ScriptError(kind: .unavailable, script: job.script, line: nil, reason: "the server is stopping"))
        }
    }

    /// Queues `body`; `completion` gets its result, or the error a stuck or refused job is failed with, once.
    private func submit<T: Sendable>(
        script: String, completion: @escaping @Sendable (Result<T, ScriptError>) -> Void,
        _ body: @escaping @Sendable (ScriptWorker) -> Result<T, ScriptError>
    ) {
        let answer = OneAnswer(completion)
        let job = ScriptJob(
            script: script, run: { worker in answer.give(body(worker)) }, fail: { answer.give(.failure($0)) })
        if !queue.add(job) {
            answer.give(
                .failure(
                    ScriptError(kind: .unavailable, script: script, line: nil, reason: "the script pool is closed")))
        }
    }
}

/// A call waiting for a worker: what to run, and how to fail it without one.
struct ScriptJob: Sendable {
    let script: String
    let run: @Sendable (ScriptWorker) -> Void
    let fail: @Sendable (ScriptError) -> Void
}

/// Delivers one answer: the worker's result or the error that overtook it, whichever comes first.
final class OneAnswer<T: Sendable>: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var receiver: (@Sendable (T) -> Void)?

    init(_ receiver: @escaping @Sendable (T) -> Void) {
        self.receiver = receiver
    }

    func give(_ value: T) {
        lock.lock()
        let waiting = receiver
        receiver = nil
        lock.unlock()
        waiting?(value)
    }
}

/// A blocking FIFO of jobs for the worker threads.
final class JobQueue: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [ScriptJob] = []
    private var head = 0
    private var closed = false

    /// Queues a job; false when the queue is closed.
    func add(_ job: ScriptJob) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// The next job, waiting for one; nil once the queue is closed.
    func next() -> ScriptJob? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count && !closed { condition.wait() }
        guard !closed else { return nil }
        let job = jobs[head]
        head += 1
        if head > 256 && head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }

    /// Whether ``close()`` was called.
    var isClosed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed
    }

    /// Closes the queue and returns the jobs no worker took.
    func close() -> [ScriptJob] {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        let left = Array(jobs[head...])
        jobs = []
        head = 0
        condition.broadcast()
        return left
    }
}
