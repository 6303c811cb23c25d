// Drives CLuaShims the way Sources/Scripting does (sandbox, limits, protected pushes, trampolines) through every
// failure mode, so valgrind can check the C side and Lua itself: Debian's Lua is built without API checks, and
// valgrind 3.19 cannot run Swift test binaries (DWARF 5, libdispatch). Run by scripts/valgrind-lua.
#include <stdio.h>
#include <string.h>
#include <lua5.4/lua.h>
#include "CLuaShims.h"

static int failures = 0;

static int host_fail(lua_State *L) {
    static const uint8_t message[] = {5, 10, 0, 0, 0, 'h', 'o', 's', 't', ' ', 'e', 'r', 'r', 'o', 'r'};
    thinboot_push_encoded(L, message, sizeof message);
    return -1;
}

static int host_value(lua_State *L) {
    // {"a\0b", {1: true}} as a list: tag 6, count 2, string "a\0b", list [true]
    static const uint8_t value[] = {6, 2, 0, 0, 0, 5, 3, 0, 0, 0, 'a', 0, 'b', 6, 1, 0, 0, 0, 2};
    return thinboot_push_encoded(L, value, sizeof value) == LUA_OK ? 1 : -1;
}

static int host_file(lua_State *L) {
    return thinboot_push_file_marker(L, "boot/vmlinuz", 12) == LUA_OK ? 1 : -1;
}

static const thinboot_function_entry entries[] = {{"fail", host_fail}, {"value", host_value}, {"file", host_file}};

static lua_State *fresh(thinboot_lua_context *context) {
    memset(context, 0, sizeof *context);
    context->memory_limit = 8 << 20;
    lua_State *L = thinboot_newstate(context);
    if (L == NULL || thinboot_open_sandbox(L, entries, 3) != LUA_OK) {
        fprintf(stderr, "cannot open the sandbox\n");
        return NULL;
    }
    return L;
}

// Loads `source`, runs it to get the route function, calls it; expects `ok` (1 = success with a string or file).
static void run(const char *name, const char *source, int expect_ok) {
    thinboot_lua_context context;
    lua_State *L = fresh(&context);
    if (L == NULL) { failures++; return; }
    int status = thinboot_load_text(L, source, strlen(source), "@harness.lua");
    if (status == LUA_OK) {
        thinboot_arm_limits(L, 1000000, 500000000);
        status = thinboot_pcall(L, 0, 1);
        thinboot_disarm_limits(L);
    }
    if (status == LUA_OK && lua_type(L, -1) == LUA_TFUNCTION) {
        int ref = thinboot_ref(L);
        thinboot_push_ref(L, ref);
        static const uint8_t req[] = {7, 1, 0, 0, 0, 3, 0, 0, 0, 'm', 'a', 'c', 5, 2, 0, 0, 0, 'x', 'y'};
        status = thinboot_push_encoded(L, req, sizeof req);
        if (status == LUA_OK) {
            thinboot_arm_limits(L, 1000000, 500000000);
            status = thinboot_pcall(L, 1, 1);
            thinboot_disarm_limits(L);
        }
        thinboot_unref(L, ref);
    }
    int ok = status == LUA_OK && !context.budget_exhausted && !context.memory_exhausted &&
             (lua_type(L, -1) == LUA_TSTRING || thinboot_is_file_marker(L, -1));
    if (ok != expect_ok) {
        size_t length = 0;
        const char *message = lua_type(L, -1) == LUA_TSTRING ? thinboot_tolstring(L, -1, &length) : "?";
        fprintf(stderr, "%s: expected %s, got status %d (%s)\n", name, expect_ok ? "success" : "failure", status,
                message);
        failures++;
    }
    lua_settop(L, 0);
    lua_close(L);
}

int main(void) {
    run("string", "return function(req) return 'hello ' .. req.mac end", 1);
    run("host value", "return function(req) local v = thinboot.value() return v[1] .. tostring(v[2][1]) end", 1);
    run("file marker", "return function(req) return thinboot.file() end", 1);
    run("host error", "return function(req) thinboot.fail() end", 0);
    run("caught host error", "return function(req) local ok, m = pcall(thinboot.fail) return m end", 1);
    run("runtime error", "return function(req) return req.missing.field end", 0);
    run("error object", "return function(req) error({}) end", 0);
    run("endless loop", "return function(req) while true do end end", 0);
    run("pcall loop", "return function(req) while true do pcall(function() while true do end end) end end", 0);
    run("memory bomb", "return function(req) local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(64) .. i end end", 0);
    run("string bomb", "return function(req) return ('x'):rep(1 << 30) end", 0);
    run("caught memory", "return function(req) pcall(string.rep, 'x', 1 << 30) return 'survived' end", 0);
    run("recursion", "return function(req) local function f() return 1 + f() end return f() end", 0);
    run("bad return", "return function(req) return {} end", 0);
    run("syntax error", "return function(req) return 1 +", 0);
    run("binary chunk", "\x1bLuaT\x00\x19\x93\r\n\x1a\n", 0);
    run("escape", "return function(req) return io.open('/etc/passwd'):read('a') end", 0);
    // The time limit (0.5 s here) in the budgeted pattern and table functions, which the count hook never sees.
    run("backtracking find", "return function(req) return tostring(string.find(('a'):rep(60000), "
        "('a-'):rep(20) .. 'b')) end", 0);
    run("backtracking gmatch", "return function(req) for m in ('a'):rep(60000):gmatch(('a-'):rep(20) .. 'b') do end "
        "end", 0);
    run("caught timeout", "return function(req) while true do pcall(string.match, ('a'):rep(60000), "
        "('a-'):rep(20) .. 'b') end end", 0);
    run("huge replacement", "return function(req) return (('b'):rep(1000):gsub('(a*)', ('%1'):rep(1 << 20))) end", 0);
    run("gsub callbacks", "return function(req) return (('hello world'):gsub('(%w+)', function(w) "
        "return w:upper() end)) end", 1);
    run("gsub recursion", "return function(req) local function f(s) return (s:gsub('.', f)) end return f('xy') end", 0);
    run("captures", "return function(req) local a, b, c = ('key = value'):match('()(%w+)%s*=%s*(%w+)') "
        "return a .. b .. c end", 1);
    run("bad pattern", "return function(req) return ('x'):find('(%') end", 0);
    run("table.move", "return function(req) table.move({}, 1, math.maxinteger // 2, 2) end", 0);
    run("lying __len", "return function(req) table.insert(setmetatable({}, {__len = function() "
        "return math.maxinteger - 1 end}), 1, 'x') end", 0);
    run("empty rep", "return function(req) return (''):rep(math.maxinteger) end", 1);
    run("finalizer loop", "setmetatable({}, {__gc = function() while true do end end}) "
        "return function(req) return 'ok' end", 0);
    if (failures) {
        fprintf(stderr, "%d case(s) failed\n", failures);
        return 1;
    }
    printf("all Lua harness cases behaved\n");
    return 0;
}
