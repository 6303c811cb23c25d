/// Why a script call failed, naming the script file and, where Lua knows it, the line — one log line's worth.
public struct ScriptError: Error, Sendable, CustomStringConvertible {
    /// The kinds of failure; each fails only the call it happened in.
    public enum Kind: String, Sendable {
        /// The file could not be read, or it does not compile and no earlier version exists.
        case compile = "compile error"
        /// The chunk did not return a function.
        case notAFunction = "not a route script"
        /// The script raised an error.
        case runtime = "runtime error"
        /// The instruction budget ran out (an endless loop, or simply too much work).
        case budget = "instruction budget exhausted"
        /// The call ran past its wall-clock limit (`max_seconds`), in Lua code or in a library function.
        case timeout = "time limit exceeded"
        /// The memory cap was hit.
        case memory = "memory limit exceeded"
        /// The function returned something other than a string, `thinboot.file(path)` or nil, or a bad `content_type`.
        case badReturn = "bad return value"
        /// The returned string is larger than the configured limit.
        case tooLarge = "result too large"
        /// No worker could run the call (the pool is shut down).
        case unavailable = "scripting unavailable"
    }

    public let kind: Kind
    /// The script file.
    public let script: String
    /// The line the error was raised on, when known.
    public let line: Int?
    /// What went wrong, without the `file:line:` prefix.
    public let reason: String

    public init(kind: Kind, script: String, line: Int?, reason: String) {
        self.kind = kind
        self.script = script
        self.line = line
        self.reason = reason
    }

    /// `script.lua:12: reason`, as compilers print it.
    public var description: String {
        if let line { return "\(script):\(line): \(reason)" }
        return "\(script): \(reason)"
    }
}
