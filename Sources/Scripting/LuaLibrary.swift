import CLua
import CLuaShims

#if canImport(Glibc)
    import Glibc
#endif

/// The `thinboot` table scripts see. Each function is a Swift callback behind a C trampoline: it reads its
/// arguments without raising, asks the host, and pushes results through protected calls. A failure returns -1
/// with the message on top, and the trampoline raises it as a Lua error (with the script's line).
enum LuaLibrary {
    /// The functions, by name. The names live as long as the process (C strings the states point to).
    nonisolated(unsafe) static let entries: [thinboot_function_entry] = [
        thinboot_function_entry(name: strdup("exports"), function: exports),
        thinboot_function_entry(name: strdup("file"), function: file),
        thinboot_function_entry(name: strdup("read"), function: read),
        thinboot_function_entry(name: strdup("data"), function: data),
        thinboot_function_entry(name: strdup("log"), function: log),
        thinboot_function_entry(name: strdup("url"), function: url),
        thinboot_function_entry(name: strdup("image_file"), function: imageFile),
        thinboot_function_entry(name: strdup("image_read"), function: imageRead),
        thinboot_function_entry(name: strdup("image_list"), function: imageList),
    ]

    private static let imageRead: thinboot_swift_function = { state in
        run(state, "thinboot.image_read") { owner, call throws(ScriptHostError) in
            .string(
                try owner.host.imageRead(
                    try stringArgument(state, 1, "export"), try stringArgument(state, 2, "path"), for: call))
        }
    }

    private static let imageList: thinboot_swift_function = { state in
        run(state, "thinboot.image_list") { owner, call throws(ScriptHostError) in
            let names = try owner.host.imageList(
                try stringArgument(state, 1, "export"), try stringArgument(state, 2, "dir"), for: call)
            return .list(names.map { .text($0) })
        }
    }

    private static let imageFile: thinboot_swift_function = { state in
        let owner = LuaState.owner(of: state)
        guard let call = owner.currentCall else { return raise(state, "thinboot.image_file: only inside a request") }
        do throws(ScriptHostError) {
            let export = try stringArgument(state, 1, "export")
            let path = Array(try owner.host.imageFile(export, try stringArgument(state, 2, "path"), for: call).utf8)
            let name = Array(export.utf8)
            let status = name.withUnsafeBufferPointer { name in
                path.withUnsafeBufferPointer { path in
                    name.withMemoryRebound(to: CChar.self) { name in
                        path.withMemoryRebound(to: CChar.self) { path in
                            thinboot_push_image_marker(
                                state, name.baseAddress, name.count, path.baseAddress, path.count)
                        }
                    }
                }
            }
            return status == LUA_OK ? 1 : -1
        } catch {
            return raise(state, "thinboot.image_file: \(error.message)")
        }
    }

    private static let url: thinboot_swift_function = { state in
        run(state, "thinboot.url") { owner, call throws(ScriptHostError) in
            .text(try owner.host.url(try stringArgument(state, 1, "path"), for: call))
        }
    }

    private static let exports: thinboot_swift_function = { state in
        run(state, "thinboot.exports") { owner, call throws(ScriptHostError) in
            try owner.host.exports(for: call)
        }
    }

    private static let read: thinboot_swift_function = { state in
        run(state, "thinboot.read") { owner, call throws(ScriptHostError) in
            .string(try owner.host.read(try stringArgument(state, 1, "path"), for: call))
        }
    }

    private static let data: thinboot_swift_function = { state in
        run(state, "thinboot.data") { owner, call throws(ScriptHostError) in
            try owner.host.data(try stringArgument(state, 1, "path"), for: call)
        }
    }

    private static let file: thinboot_swift_function = { state in
        let owner = LuaState.owner(of: state)
        guard let call = owner.currentCall else { return raise(state, "thinboot.file: only inside a request") }
        do throws(ScriptHostError) {
            let path = try owner.host.file(try stringArgument(state, 1, "path"), for: call)
            let bytes = Array(path.utf8)
            let status = bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    thinboot_push_file_marker(state, $0.baseAddress, $0.count)
                }
            }
            return status == LUA_OK ? 1 : -1
        } catch {
            return raise(state, "thinboot.file: \(error.message)")
        }
    }

    private static let log: thinboot_swift_function = { state in
        let owner = LuaState.owner(of: state)
        let call = owner.currentCall ?? ScriptCallInfo(script: "-")
        let levelName = String(decoding: owner.bytes(at: 1), as: UTF8.self)
        guard let level = ScriptLogLevel(rawValue: levelName) else {
            let names = ScriptLogLevel.allCases.map(\.rawValue).joined(separator: ", ")
            return raise(state, "thinboot.log: the first argument is the level: \(names)")
        }
        let message: String
        switch lua_type(state, 2) {
        case LUA_TSTRING: message = String(decoding: owner.bytes(at: 2), as: UTF8.self)
        case LUA_TNUMBER:
            message =
                lua_isinteger(state, 2) != 0 ? "\(lua_tointegerx(state, 2, nil))" : "\(lua_tonumberx(state, 2, nil))"
        default: return raise(state, "thinboot.log: the second argument must be a string")
        }
        owner.host.log(level, message, for: call)
        return 0
    }

    /// Runs a host call that returns one value and pushes it.
    private static func run(
        _ state: OpaquePointer?, _ name: String,
        _ body: (LuaState, ScriptCallInfo) throws(ScriptHostError) -> ScriptValue
    ) -> Int32 {
        let owner = LuaState.owner(of: state)
        guard let call = owner.currentCall else { return raise(state, "\(name): only inside a request") }
        let value: ScriptValue
        do {
            value = try body(owner, call)
        } catch {
            return raise(state, "\(name): \(error.message)")
        }
        return push(state, value) ? 1 : -1
    }

    /// A string argument, or a host error naming it.
    private static func stringArgument(_ state: OpaquePointer?, _ index: Int32, _ name: String) throws(ScriptHostError)
        -> String
    {
        guard lua_type(state, index) == LUA_TSTRING else {
            throw ScriptHostError("argument \(index) (\(name)) must be a string")
        }
        return String(decoding: LuaState.owner(of: state).bytes(at: index), as: UTF8.self)
    }

    /// Pushes a value through a protected call. On failure the error object is on top instead.
    private static func push(_ state: OpaquePointer?, _ value: ScriptValue) -> Bool {
        let encoded = value.encoded()
        return encoded.withUnsafeBufferPointer { thinboot_push_encoded(state, $0.baseAddress, $0.count) } == LUA_OK
    }

    /// Pushes `message` and tells the trampoline to raise it.
    private static func raise(_ state: OpaquePointer?, _ message: String) -> Int32 {
        _ = push(state, .text(message))  // on failure the memory error object is on top: raised just the same
        return -1
    }
}
