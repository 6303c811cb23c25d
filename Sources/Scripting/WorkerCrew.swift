import Foundation
import Logging

/// The pool's worker threads, and the watchdog that retires a worker whose call overran its hard deadline
/// (``ScriptLimits/maxDuration`` + ``ScriptLimits/reclaimGrace``): the call is failed with `.timeout`, the thread
/// stops counting as capacity (it ends when the call returns, if ever), and a fresh thread with a fresh Lua state
/// takes its place — for at most `size` stuck threads at a time, so a script that wedges every worker cannot make
/// the pool grow without bound.
final class WorkerCrew: @unchecked Sendable {
    /// One serving thread: the job it runs and when that job's hard deadline passes.
    private final class Slot {
        var job: ScriptJob?
        var deadline: UInt64 = 0
    }

    /// How often the watchdog looks; a stuck call is failed at most this long after its hard deadline.
    static let watchInterval: TimeInterval = 0.25

    private let size: Int
    private let queue: JobQueue
    private let limits: ScriptLimits
    private let catalog: ScriptCatalog
    private let logger: Logger
    private let makeWorker: @Sendable (ScriptCatalog) -> ScriptWorker
    // Guarded by `lock`.
    private let lock = NSLock()
    private var serving: [ObjectIdentifier: Slot] = [:]
    private var stuck = 0
    private var threadsStarted = 0

    init(
        size: Int, queue: JobQueue, limits: ScriptLimits, catalog: ScriptCatalog, logger: Logger,
        makeWorker: @escaping @Sendable (ScriptCatalog) -> ScriptWorker
    ) {
        self.size = size
        self.queue = queue
        self.limits = limits
        self.catalog = catalog
        self.logger = logger
        self.makeWorker = makeWorker
    }

    /// Starts the workers and the watchdog.
    func start() {
        for _ in 0..<size { launch() }
        let watchdog = Thread { [self] in
            while !queue.isClosed || isBusy {
                Thread.sleep(forTimeInterval: Self.watchInterval)
                retireOverdue()
            }
        }
        watchdog.name = "thinboot-lua-watchdog"
        watchdog.start()
    }

    private var isBusy: Bool {
        lock.withLock { serving.values.contains { $0.job != nil } }
    }

    private func launch() {
        let slot = Slot()
        let index = lock.withLock {
            serving[ObjectIdentifier(slot)] = slot
            threadsStarted += 1
            return threadsStarted - 1
        }
        // Owned by its thread alone from here on.
        nonisolated(unsafe) let worker = makeWorker(catalog)
        nonisolated(unsafe) let mine = slot
        let thread = Thread { [self] in
            while let job = queue.next() {
                begin(job, in: mine)
                job.run(worker)
                guard end(mine) else { break }
            }
            lock.withLock { _ = serving.removeValue(forKey: ObjectIdentifier(mine)) }
        }
        thread.name = "thinboot-lua-\(index)"
        // Lua's parser and the C stack of nested calls need more than a secondary thread's default stack.
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Records the job a worker starts and its hard deadline.
    private func begin(_ job: ScriptJob, in slot: Slot) {
        let hard = limits.maxDuration + ScriptLimits.reclaimGrace
        let (seconds, attoseconds) = hard.components
        let deadline =
            DispatchTime.now().uptimeNanoseconds + UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
        lock.withLock {
            slot.job = job
            slot.deadline = deadline
        }
    }

    /// Clears the worker's job; false when the watchdog retired it while the job ran (this thread then ends, and
    /// what it computed was already answered with a timeout).
    private func end(_ slot: Slot) -> Bool {
        lock.withLock {
            slot.job = nil
            if serving[ObjectIdentifier(slot)] != nil { return true }
            stuck -= 1
            return false
        }
    }

    /// Fails every call past its hard deadline and replaces its worker.
    private func retireOverdue() {
        let now = DispatchTime.now().uptimeNanoseconds
        let (overdue, replace, stuckNow) = lock.withLock { () -> ([ScriptJob], Int, Int) in
            var overdue: [ScriptJob] = []
            for (key, slot) in serving {
                guard let job = slot.job, now >= slot.deadline else { continue }
                serving.removeValue(forKey: key)
                stuck += 1
                overdue.append(job)
            }
            // Replacements keep `size` serving while at most `size` threads are stuck: never more than twice the
            // threads in all.
            let replace = queue.isClosed ? 0 : min(overdue.count, max(0, size - (stuck - overdue.count)))
            return (overdue, replace, stuck)
        }
        for job in overdue {
            job.fail(overrun(job.script))
            logger.error(
                "script worker stuck past its time limit; it no longer counts as capacity",
                metadata: [
                    "script": "\(job.script)", "limit": "\(limits.maxDurationText)", "stuck_workers": "\(stuckNow)",
                    "replaced": "\(replace > 0)",
                ])
        }
        for _ in 0..<replace { launch() }
    }

    private func overrun(_ script: String) -> ScriptError {
        ScriptError(
            kind: .timeout, script: script, line: nil,
            reason:
                "ran longer than the time limit of \(limits.maxDurationText) ([tftp.scripts] max_seconds) and did not stop; its worker was replaced"
        )
    }
}
