import CLua
import CLuaShims

/// One sandboxed Lua state with its limits: only base, string, table, math and utf8, text chunks only, a capped
/// allocator, a per-call instruction budget and wall-clock limit (read by the count hook and by the budgeted
/// pattern and table functions of CLuaShims). Single-threaded: exactly one worker owns it.
///
/// Every Lua call that may raise runs inside a protected call in CLuaShims; this class only reads values and
/// checks status codes, so no longjmp ever crosses one of its frames.
final class LuaState {
    let limits: ScriptLimits
    let host: any ScriptHost
    /// Set after a budget or memory failure: the state may hold a half-built heap, so the worker replaces it.
    private(set) var isPoisoned = false
    /// The call in progress, for the `thinboot.*` callbacks.
    var currentCall: ScriptCallInfo?

    private let context: UnsafeMutablePointer<thinboot_lua_context>
    private let state: OpaquePointer

    init(limits: ScriptLimits, host: any ScriptHost) throws(ScriptError) {
        self.limits = limits
        self.host = host
        context = .allocate(capacity: 1)
        context.initialize(to: thinboot_lua_context())
        context.pointee.memory_limit = limits.memoryBytes
        guard let state = thinboot_newstate(context) else {
            context.deallocate()
            throw ScriptError(kind: .memory, script: "-", line: nil, reason: "cannot create a Lua state")
        }
        self.state = state
        context.pointee.host = Unmanaged.passUnretained(self).toOpaque()
        let status = LuaLibrary.entries.withUnsafeBufferPointer { entries in
            thinboot_open_sandbox(state, entries.baseAddress, Int32(entries.count))
        }
        if status != LUA_OK {
            let reason = errorText(at: -1)
            lua_close(state)
            context.deallocate()
            throw ScriptError(kind: .memory, script: "-", line: nil, reason: "cannot open the sandbox: \(reason)")
        }
    }

    deinit {
        // Finalizers run inside lua_close and may call back into this object: close first, release after.
        lua_close(state)
        context.deallocate()
    }

    /// The Swift object behind a state, for callbacks.
    static func owner(of state: OpaquePointer?) -> LuaState {
        Unmanaged<LuaState>.fromOpaque(thinboot_context(state).pointee.host).takeUnretainedValue()
    }

    // MARK: Compiling

    /// Compiles a route script: loads the text chunk, runs it once (under the limits) and keeps the function it
    /// returns. Returns a registry reference for `call`.
    func compile(source: [UInt8], script: String) throws(ScriptError) -> Int32 {
        defer { lua_settop(state, 0) }
        let chunkname = "@" + (script.split(separator: "/").last.map(String.init) ?? script)
        // A trailing NUL gives an empty script a valid pointer; the length excludes it.
        let loaded = (source + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                thinboot_load_text(state, $0.baseAddress, source.count, chunkname)
            }
        }
        guard loaded == LUA_OK else { throw failure(status: loaded, script: script, compiling: true) }
        thinboot_arm_limits(state, Int64(limits.instructions), limits.maxNanoseconds)
        let ran = thinboot_pcall(state, 0, 1)
        thinboot_disarm_limits(state)
        guard ran == LUA_OK else { throw failure(status: ran, script: script, compiling: true) }
        guard lua_type(state, -1) == LUA_TFUNCTION else {
            throw ScriptError(
                kind: .notAFunction, script: script, line: nil,
                reason: "the chunk returned \(typeName(at: -1)); end the script with `return function(req) … end`")
        }
        let reference = thinboot_ref(state)
        guard reference >= 0 else {
            throw ScriptError(kind: .memory, script: script, line: nil, reason: "no memory to keep the function")
        }
        return reference
    }

    /// Forgets a compiled function.
    func release(_ reference: Int32) {
        thinboot_unref(state, reference)
    }

    // MARK: Calling

    /// Calls a compiled function with one argument and converts what it returned: its first value, and for a string
    /// or file answer the `content_type` of a table returned beside it.
    func call(_ reference: Int32, argument: ScriptValue, info: ScriptCallInfo) throws(ScriptError) -> ScriptAnswer {
        defer {
            lua_settop(state, 0)
            currentCall = nil
        }
        currentCall = info
        thinboot_push_ref(state, reference)
        let encoded = argument.encoded()
        let pushed = encoded.withUnsafeBufferPointer { thinboot_push_encoded(state, $0.baseAddress, $0.count) }
        guard pushed == LUA_OK else { throw failure(status: pushed, script: info.script, compiling: false) }
        thinboot_arm_limits(state, Int64(limits.instructions), limits.maxNanoseconds)
        let status = thinboot_pcall(state, 1, 2)
        thinboot_disarm_limits(state)
        if status != LUA_OK || context.pointee.budget_exhausted != 0 || memoryRefused || context.pointee.timed_out != 0
        {
            throw failure(status: status, script: info.script, compiling: false)
        }
        // The second value first (it is on top), then the first as before; a bad type fails only answers it
        // would apply to.
        let contentType = info.acceptsFields ? .success(nil) : self.contentType(script: info.script)
        lua_settop(state, -2)
        let output = try output(script: info.script, fieldsAllowed: info.acceptsFields)
        switch output {
        case .bytes, .file, .imageFile: return ScriptAnswer(output, contentType: try contentType.get())
        case .fields, .nothing: return ScriptAnswer(output)
        }
    }

    /// The `content_type` of the table on top of the stack, read raw like ``stringFields(script:)``; nil when the
    /// value is not a table (as `gsub`'s count beside a string) or has no `content_type`. Other entries are ignored.
    private func contentType(script: String) -> Result<String?, ScriptError> {
        guard lua_type(state, -1) == LUA_TTABLE else { return .success(nil) }
        var found: Result<String?, ScriptError> = .success(nil)
        var entries = 0
        lua_pushnil(state)
        while lua_next(state, -2) != 0 {
            entries += 1
            guard entries <= Self.maxReturnedFields else {
                lua_settop(state, -3)
                return .failure(
                    ScriptError(
                        kind: .badReturn, script: script, line: nil,
                        reason: "returned a table of more than \(Self.maxReturnedFields) entries"))
            }
            // Keys are checked for type before reading: converting a number key in place would break lua_next.
            if lua_type(state, -2) == LUA_TSTRING, bytes(at: -2) == Self.contentTypeKey {
                let value = bytes(at: -1)
                if lua_type(state, -1) == LUA_TSTRING, ScriptAnswer.isValidContentType(value) {
                    found = .success(String(decoding: value, as: UTF8.self))
                } else {
                    found = .failure(
                        ScriptError(kind: .badReturn, script: script, line: nil, reason: ScriptAnswer.contentTypeRule))
                }
            }
            lua_settop(state, -2)
        }
        return found
    }

    private static let contentTypeKey = Array("content_type".utf8)

    private func output(script: String, fieldsAllowed: Bool) throws(ScriptError) -> ScriptOutput {
        switch lua_type(state, -1) {
        case LUA_TNIL:
            return .nothing
        case LUA_TSTRING:
            let bytes = bytes(at: -1)
            guard bytes.count <= limits.maxResultBytes else {
                throw ScriptError(
                    kind: .tooLarge, script: script, line: nil,
                    reason: "returned \(bytes.count) bytes, over the limit of \(limits.maxResultBytes)")
            }
            return .bytes(bytes)
        default:
            if thinboot_is_file_marker(state, -1) != 0 {
                lua_rawgeti(state, -1, 1)
                let path = String(decoding: bytes(at: -1), as: UTF8.self)
                lua_rawgeti(state, -2, 2)
                guard lua_type(state, -1) == LUA_TSTRING else { return .file(path) }
                return .imageFile(export: String(decoding: bytes(at: -1), as: UTF8.self), path: path)
            }
            if fieldsAllowed, lua_type(state, -1) == LUA_TTABLE { return try stringFields(script: script) }
            throw ScriptError(
                kind: .badReturn, script: script, line: nil,
                reason:
                    "returned \(typeName(at: -1)); return a string, thinboot.file(path), thinboot.image_file(export, path) or nil"
            )
        }
    }

    /// The most entries a returned table may have: results are a few named fields, not data.
    static let maxReturnedFields = 64

    /// The string fields of the table on top of the stack, read raw (`lua_next` runs no metamethod, so
    /// nothing here can raise a Lua error outside a protected call).
    private func stringFields(script: String) throws(ScriptError) -> ScriptOutput {
        var fields: [String: [UInt8]] = [:]
        var entries = 0
        lua_pushnil(state)
        while lua_next(state, -2) != 0 {
            entries += 1
            guard entries <= Self.maxReturnedFields else {
                throw ScriptError(
                    kind: .badReturn, script: script, line: nil,
                    reason: "returned a table of more than \(Self.maxReturnedFields) entries")
            }
            // Keys are checked for type before reading: converting a number key in place would break lua_next.
            if lua_type(state, -2) == LUA_TSTRING, lua_type(state, -1) == LUA_TSTRING {
                fields[String(decoding: bytes(at: -2), as: UTF8.self)] = bytes(at: -1)
            }
            lua_settop(state, -2)
        }
        return .fields(fields)
    }

    // MARK: Reading values

    /// The bytes of the string at `index`, read with their length (NUL and invalid UTF-8 survive).
    func bytes(at index: Int32) -> [UInt8] {
        guard lua_type(state, index) == LUA_TSTRING else { return [] }
        var length = 0
        guard let pointer = thinboot_tolstring(state, index, &length) else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    private func typeName(at index: Int32) -> String {
        String(cString: lua_typename(state, lua_type(state, index)))
    }

    private func errorText(at index: Int32) -> String {
        if lua_type(state, index) == LUA_TSTRING {
            return String(decoding: bytes(at: index), as: UTF8.self)
        }
        return "(error object is a \(typeName(at: index)) value)"
    }

    /// Whether the call hit the memory cap: a refusal that the emergency collection did not cure, or one the script
    /// caught and went on from.
    private var memoryRefused: Bool {
        context.pointee.memory_exhausted != 0 || context.pointee.refused_size != 0
    }

    /// Turns a failed status (and the limit flags) into a typed error; time, budget and memory failures poison the
    /// state.
    private func failure(status: Int32, script: String, compiling: Bool) -> ScriptError {
        let recordedLine = context.pointee.error_line > 0 ? Int(context.pointee.error_line) : nil
        if context.pointee.timed_out != 0 {
            isPoisoned = true
            return ScriptError(
                kind: .timeout, script: script, line: recordedLine,
                reason: "ran longer than the time limit of \(limits.maxDurationText) ([tftp.scripts] max_seconds)")
        }
        if context.pointee.budget_exhausted != 0 {
            isPoisoned = true
            return ScriptError(
                kind: .budget, script: script, line: recordedLine,
                reason: "instruction budget of \(limits.instructions) exhausted (endless loop?)")
        }
        if memoryRefused || status == LUA_ERRMEM {
            isPoisoned = true
            return ScriptError(
                kind: .memory, script: script, line: recordedLine,
                reason: "memory limit of \(limits.memoryBytes) bytes exceeded")
        }
        let (line, reason) = Self.splitPosition(errorText(at: -1))
        let kind: ScriptError.Kind = compiling ? .compile : .runtime
        return ScriptError(kind: kind, script: script, line: line ?? recordedLine, reason: reason)
    }

    /// Splits Lua's `chunk:12: message` into the line and the message.
    static func splitPosition(_ message: String) -> (Int?, String) {
        let parts = message.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count == 3, let line = Int(parts[1]), !parts[0].isEmpty {
            return (line, String(parts[2].drop(while: { $0 == " " })))
        }
        return (nil, message)
    }
}
