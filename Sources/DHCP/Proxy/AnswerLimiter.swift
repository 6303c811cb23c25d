/// Bounds what a DISCOVER flood costs: each MAC is answered at most ``perMAC`` times per second (firmware
/// retries every few seconds; more is a loop or an attack), and the table of MACs is bounded, forgetting the
/// quietest first. Pure: the caller passes the time, so tests need no clock.
public struct AnswerLimiter: Sendable {
    public let perMAC: Int
    public let capacity: Int
    private var windows: [[UInt8]: (start: Double, count: Int)] = [:]

    public init(perMAC: Int = 4, capacity: Int = 4096) {
        self.perMAC = max(1, perMAC)
        self.capacity = max(1, capacity)
    }

    /// What to do with one request.
    public enum Verdict: Sendable, Hashable {
        case answer
        /// The first request over the limit in this second: dropped, with one log line.
        case dropAndLog
        /// Later ones in the same second: dropped without a line, so a flood cannot flood the log.
        case dropQuietly
    }

    /// The verdict for `mac` at `now` (seconds on any monotonic clock); counts the request.
    public mutating func admit(_ mac: [UInt8], now: Double) -> Verdict {
        if var window = windows[mac], now - window.start < 1 {
            window.count += 1
            windows[mac] = window
            if window.count <= perMAC { return .answer }
            return window.count == perMAC + 1 ? .dropAndLog : .dropQuietly
        }
        if windows[mac] == nil, windows.count >= capacity {
            windows = windows.filter { now - $0.value.start < 1 }
            if windows.count >= capacity, let oldest = windows.min(by: { $0.value.start < $1.value.start }) {
                windows[oldest.key] = nil
            }
        }
        windows[mac] = (now, 1)
        return .answer
    }

    /// MACs currently tracked (for tests of the bound).
    public var trackedCount: Int { windows.count }
}
