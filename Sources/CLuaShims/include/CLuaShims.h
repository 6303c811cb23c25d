#ifndef THINBOOT_CLUA_SHIMS_H
#define THINBOOT_CLUA_SHIMS_H
// C side of the Lua runtime. Everything that may raise a Lua error (longjmp) happens here, inside a protected
// call, so no longjmp ever crosses a Swift frame. Swift calls only the functions below, which return status codes.
#include <stddef.h>
#include <stdint.h>
#include <lua5.4/lua.h>

/// Per-state limits and accounting. The state's allocator and count hook read and update it; Swift owns it and
/// must keep it alive until after `lua_close`.
typedef struct thinboot_lua_context {
    /// Bytes currently allocated by the state, and the cap.
    size_t memory_used;
    size_t memory_limit;
    /// Set when an allocation was refused; from then on every growth is refused until the next reset, so a
    /// script that catches the memory error with pcall cannot go on.
    int memory_exhausted;
    /// Instructions left in the current call; the count hook subtracts `hook_interval` each time it runs.
    int64_t instructions_left;
    int hook_interval;
    /// Set when the budget ran out; the hook then raises on every instruction, so pcall cannot swallow it.
    int budget_exhausted;
    /// The innermost Lua line where the last error was raised (0 when unknown), recorded by the message handler.
    int error_line;
    /// Opaque pointer for the Swift host (the worker), read by Swift callbacks.
    void *host;
} thinboot_lua_context;

/// A Swift callback behind a `thinboot.*` function. It must not raise: it returns the number of results it pushed,
/// or -1 with an error message (a string) on top of the stack, and the C trampoline raises that error.
typedef int (*thinboot_swift_function)(lua_State *L);

/// A name and its Swift callback, for `thinboot_open_sandbox`.
typedef struct thinboot_function_entry {
    const char *name;
    thinboot_swift_function function;
} thinboot_function_entry;

/// Creates a state whose allocator enforces `context->memory_limit`. Returns NULL when even that fails.
lua_State *thinboot_newstate(thinboot_lua_context *context);
/// The context a state was created with.
thinboot_lua_context *thinboot_context(lua_State *L);

/// Opens base, string, table, math and utf8 only, removes every escape hatch (load, dofile, loadfile, require,
/// collectgarbage, print, string.dump) and installs the global `thinboot` table with `entries`. Protected:
/// returns a Lua status; on failure the error message is on top of the stack.
int thinboot_open_sandbox(lua_State *L, const thinboot_function_entry *entries, int count);

/// Arms the instruction budget for one call (and clears the memory-exhausted flag and error line).
void thinboot_arm_limits(lua_State *L, int64_t instructions);
/// Ends a call's budget. Between calls (and in lua_close) finalizers still run under a fixed budget of their own.
void thinboot_disarm_limits(lua_State *L);

/// Loads a text chunk (never bytecode). Returns a Lua status; the function or the error message is on top.
int thinboot_load_text(lua_State *L, const char *text, size_t length, const char *chunkname);
/// Calls the function below `nargs` arguments with a message handler that records the error line. Returns a Lua
/// status; results or the error object are on top.
int thinboot_pcall(lua_State *L, int nargs, int nresults);

/// Pushes a value described by the encoding in `ScriptValue+Encoding.swift`, protected. Returns a Lua status;
/// on failure the error object is on top instead of the value.
int thinboot_push_encoded(lua_State *L, const uint8_t *bytes, size_t length);
/// Pops the value on top and stores it in the registry, protected. Returns a reference, or -1 on failure (the
/// stack is then as before the value was pushed).
int thinboot_ref(lua_State *L);
/// Releases a reference made by `thinboot_ref` (never raises).
void thinboot_unref(lua_State *L, int ref);
/// Pushes the value of a reference (never raises).
void thinboot_push_ref(lua_State *L, int ref);
/// Whether the value at `index` is a file marker made by `thinboot.file`; pushes nothing.
int thinboot_is_file_marker(lua_State *L, int index);
/// Pushes a file marker for `path` (protected). Returns a Lua status.
int thinboot_push_file_marker(lua_State *L, const char *path, size_t length);

// Macro wrappers.
void thinboot_pop(lua_State *L, int n);
const char *thinboot_tolstring(lua_State *L, int index, size_t *length);
int thinboot_upvalueindex(int index);
int thinboot_registryindex(void);
#endif
