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
    /// The size of a request just refused (0: none), which Lua retries once after a full emergency collection: the
    /// cap counts garbage too, so only a refusal that the collection could not cure means the cap is reached.
    size_t refused_size;
    /// Set when growth was refused for good: the retry failed too, or something other than the retry came next
    /// (a script caught the error). From then on every growth is refused until the next reset, so a script that
    /// catches the memory error with pcall cannot go on.
    int memory_exhausted;
    /// Instructions left in the current call; the count hook subtracts `hook_interval` each time it runs.
    int64_t instructions_left;
    int hook_interval;
    /// Set when the budget ran out; the hook then raises on every instruction, so pcall cannot swallow it.
    int budget_exhausted;
    /// CLOCK_MONOTONIC nanoseconds after which the call fails (0: no time limit, between calls).
    int64_t deadline_ns;
    /// Set when the deadline passed; like the budget, from then on every instruction raises again.
    int timed_out;
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

/// Arms the instruction budget and the wall-clock limit (`nanoseconds` from now; 0 for none) for one call, and
/// clears the exhausted flags and the error line.
void thinboot_arm_limits(lua_State *L, int64_t instructions, int64_t nanoseconds);
/// Ends a call's budget. Between calls (and in lua_close) finalizers still run under a fixed budget of their own.
void thinboot_disarm_limits(lua_State *L);

/// Raises the call's limit error if the budget ran out or the deadline passed; returns otherwise. For C code that
/// runs long without returning to the VM (the pattern matcher): call it every few thousand steps, from inside a Lua
/// call, at a point where a longjmp leaves nothing half-done.
void thinboot_check_limits(lua_State *L);
/// Sets `find`, `match`, `gmatch` and `gsub` in the table at `index` to the budgeted pattern functions (patterns.c).
/// May raise (memory): call it inside a protected call.
void thinboot_set_budgeted_patterns(lua_State *L, int index);
/// Replaces the functions of the string and table libraries (tables at `string_index`, `table_index`) that loop in
/// C without bound the memory cap cannot see: `string.rep` of empty strings, and `table.insert`, `table.remove` and
/// `table.move` over lengths a `__len` metamethod makes up (bounded.c). May raise: call it protected.
void thinboot_set_bounded_library(lua_State *L, int string_index, int table_index);

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
/// Pushes a file marker for `path` inside the image of export `export_name` (`thinboot.image_file`; protected).
/// Returns a Lua status.
int thinboot_push_image_marker(lua_State *L, const char *export_name, size_t export_length, const char *path,
                               size_t path_length);

// Macro wrappers.
const char *thinboot_tolstring(lua_State *L, int index, size_t *length);
#endif
