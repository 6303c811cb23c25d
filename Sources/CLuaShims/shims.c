#include "CLuaShims.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lualib.h>

// Registry keys: their addresses are unique light userdata, so looking them up never allocates.
static const char file_marker_key = 0;

#define THINBOOT_FINALIZER_BUDGET 1000000

// MARK: - Capped allocator

// The standard allocator with accounting: growth past the cap is refused, and Lua answers the NULL with a full
// emergency collection and one retry of the same request. Any other growth after a refusal, and a retry refused too,
// exhaust the state: all growth is refused from then on. Shrinking and freeing always succeed, as Lua requires.
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    thinboot_lua_context *context = ud;
    size_t old = ptr ? osize : 0;  // for a new block, osize carries the object type, not a size
    if (nsize == 0) {
        free(ptr);
        context->memory_used -= old;
        return NULL;
    }
    if (nsize > old) {
        size_t growth = nsize - old;
        if (context->refused_size != 0 && context->refused_size != nsize) {
            context->memory_exhausted = 1;
        }
        if (context->memory_exhausted || growth > context->memory_limit - context->memory_used ||
            context->memory_used > context->memory_limit) {
            if (context->refused_size != 0) {
                context->memory_exhausted = 1;
            }
            context->refused_size = nsize;
            return NULL;
        }
        context->refused_size = 0;
    }
    void *block = realloc(ptr, nsize);
    if (block == NULL) {
        return NULL;
    }
    context->memory_used = context->memory_used - old + nsize;
    return block;
}

void thinboot_disarm_limits(lua_State *L);

lua_State *thinboot_newstate(thinboot_lua_context *context) {
    lua_State *L = lua_newstate(capped_alloc, context);
    if (L != NULL) {
        thinboot_disarm_limits(L);
    }
    return L;
}

thinboot_lua_context *thinboot_context(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

// MARK: - Instruction budget and wall clock

static int64_t monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static void count_hook(lua_State *L, lua_Debug *ar);

// From now on raise at every instruction: a script that catches the error with pcall gets no further.
static void raise_from_now_on(lua_State *L, thinboot_lua_context *context) {
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    context->hook_interval = 1;
}

void thinboot_check_limits(lua_State *L) {
    thinboot_lua_context *context = thinboot_context(L);
    if (context->budget_exhausted) {
        luaL_error(L, "instruction budget exhausted");
    }
    if (!context->timed_out && context->deadline_ns != 0 && monotonic_ns() >= context->deadline_ns) {
        context->timed_out = 1;
        raise_from_now_on(L, context);
    }
    if (context->timed_out) {
        luaL_error(L, "time limit exceeded");
    }
}

// Every `hook_interval` instructions: the budget, then the clock (a vDSO call of some 20 ns per thousand
// instructions, well under 1 % of the run).
static void count_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    thinboot_lua_context *context = thinboot_context(L);
    context->instructions_left -= context->hook_interval;
    if (context->instructions_left <= 0 && !context->budget_exhausted && !context->timed_out) {
        context->budget_exhausted = 1;
        raise_from_now_on(L, context);
    }
    thinboot_check_limits(L);
}

void thinboot_arm_limits(lua_State *L, int64_t instructions, int64_t nanoseconds) {
    thinboot_lua_context *context = thinboot_context(L);
    context->instructions_left = instructions;
    context->budget_exhausted = 0;
    context->refused_size = 0;
    context->memory_exhausted = 0;
    context->timed_out = 0;
    context->error_line = 0;
    context->deadline_ns = nanoseconds > 0 ? monotonic_ns() + nanoseconds : 0;
    context->hook_interval = instructions < 1000 ? 1 : 1000;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, context->hook_interval);
}

void thinboot_disarm_limits(lua_State *L) {
    // The hook stays: finalizers (__gc) run Lua code during any later allocation or in lua_close, and must
    // stay bounded too. They get a budget of their own; past it, they fail (Lua turns that into a warning).
    thinboot_lua_context *context = thinboot_context(L);
    // The exhausted flags stay set for the caller to read (arm clears them).
    context->instructions_left = THINBOOT_FINALIZER_BUDGET;
    context->deadline_ns = 0;
    context->hook_interval = 1000;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, context->hook_interval);
}

// MARK: - Sandbox

// Calls the Swift function in upvalue 1; a negative result means "raise the message on top".
static int swift_trampoline(lua_State *L) {
    thinboot_swift_function function = (thinboot_swift_function)lua_touserdata(L, lua_upvalueindex(1));
    int results = function(L);
    if (results < 0) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    return results;
}

// setmetatable without finalizers: Lua runs __gc with debug hooks off, so the instruction budget could not stop
// an endless finalizer. __gc only takes effect if present when the metatable is set, so checking here suffices.
static int setmetatable_without_gc(lua_State *L) {
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL) {
            return luaL_error(L, "__gc metamethods are not allowed in scripts");
        }
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

struct sandbox_arguments {
    const thinboot_function_entry *entries;
    int count;
};

static int open_sandbox(lua_State *L) {
    struct sandbox_arguments *arguments = lua_touserdata(L, 1);
    static const luaL_Reg libraries[] = {
        {LUA_GNAME, luaopen_base},         {LUA_STRLIBNAME, luaopen_string}, {LUA_TABLIBNAME, luaopen_table},
        {LUA_MATHLIBNAME, luaopen_math},   {LUA_UTF8LIBNAME, luaopen_utf8},
    };
    for (size_t i = 0; i < sizeof libraries / sizeof libraries[0]; i++) {
        luaL_requiref(L, libraries[i].name, libraries[i].func, 1);
        lua_pop(L, 1);
    }
    static const char *const removed[] = {"load", "dofile", "loadfile", "require", "collectgarbage", "print"};
    for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, setmetatable_without_gc, 1);
    lua_setglobal(L, "setmetatable");
    // string.dump makes bytecode; nothing can load it, but there is no reason to offer it.
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    // The C loops that never return to the VM, so the count hook cannot end them: budgeted replacements.
    thinboot_set_budgeted_patterns(L, -1);
    lua_getglobal(L, LUA_TABLIBNAME);
    thinboot_set_bounded_library(L, -2, -1);
    lua_pop(L, 2);

    lua_createtable(L, 0, arguments->count);
    for (int i = 0; i < arguments->count; i++) {
        lua_pushlightuserdata(L, (void *)arguments->entries[i].function);
        lua_pushcclosure(L, swift_trampoline, 1);
        lua_setfield(L, -2, arguments->entries[i].name);
    }
    lua_setglobal(L, "thinboot");

    // The metatable that marks `thinboot.file` results; scripts cannot reach it.
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "thinboot.file");
    lua_setfield(L, -2, "__name");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &file_marker_key);
    return 0;
}

int thinboot_open_sandbox(lua_State *L, const thinboot_function_entry *entries, int count) {
    struct sandbox_arguments arguments = {entries, count};
    if (!lua_checkstack(L, 2)) {
        return LUA_ERRMEM;
    }
    lua_pushcfunction(L, open_sandbox);
    lua_pushlightuserdata(L, &arguments);
    return lua_pcall(L, 1, 0, 0);
}

// MARK: - Loading and calling

// Gives the loaded chunk (stack: chunk) its own globals table that reads through to the shared one, so one
// script's globals never leak into another's.
static int isolate_environment(lua_State *L) {
    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 1);
    lua_pushglobaltable(L);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    if (lua_setupvalue(L, 1, 1) == NULL) {
        lua_pop(L, 1);
    }
    return 0;
}

int thinboot_load_text(lua_State *L, const char *text, size_t length, const char *chunkname) {
    if (!lua_checkstack(L, 4)) {
        return LUA_ERRMEM;
    }
    int status = luaL_loadbufferx(L, text, length, chunkname, "t");
    if (status != LUA_OK) {
        return status;
    }
    lua_pushcfunction(L, isolate_environment);
    lua_pushvalue(L, -2);
    status = lua_pcall(L, 1, 0, 0);
    if (status != LUA_OK) {
        lua_remove(L, -2);  // keep only the error message
    }
    return status;
}

// Records the line of the innermost Lua function at the point of the error. It allocates nothing, so it cannot
// fail itself; the message stays as raised (Lua's own errors already carry "file:line:").
static int message_handler(lua_State *L) {
    thinboot_lua_context *context = thinboot_context(L);
    lua_Debug ar;
    for (int level = 0; level < 100 && lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0 && ar.source[0] == '@') {
            context->error_line = ar.currentline;
            break;
        }
    }
    return 1;
}

int thinboot_pcall(lua_State *L, int nargs, int nresults) {
    if (!lua_checkstack(L, 2)) {
        return LUA_ERRMEM;
    }
    int base = lua_gettop(L) - nargs;  // the function's index
    lua_pushcfunction(L, message_handler);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

// MARK: - Values

struct decoder {
    const uint8_t *bytes;
    size_t length;
    size_t offset;
};

static void need(lua_State *L, struct decoder *decoder, size_t count) {
    if (decoder->length - decoder->offset < count) {
        luaL_error(L, "thinboot: malformed value encoding");
    }
}

static uint32_t read_u32(lua_State *L, struct decoder *decoder) {
    need(L, decoder, 4);
    uint32_t value;
    memcpy(&value, decoder->bytes + decoder->offset, 4);
    decoder->offset += 4;
    return value;
}

static void decode_value(lua_State *L, struct decoder *decoder, int depth) {
    luaL_checkstack(L, 3, "value too deeply nested");
    if (depth > 64) {
        luaL_error(L, "thinboot: value nested more than 64 levels");
    }
    need(L, decoder, 1);
    uint8_t tag = decoder->bytes[decoder->offset++];
    switch (tag) {
    case 0:
        lua_pushnil(L);
        break;
    case 1:
    case 2:
        lua_pushboolean(L, tag == 2);
        break;
    case 3: {
        need(L, decoder, 8);
        int64_t value;
        memcpy(&value, decoder->bytes + decoder->offset, 8);
        decoder->offset += 8;
        lua_pushinteger(L, (lua_Integer)value);
        break;
    }
    case 4: {
        need(L, decoder, 8);
        double value;
        memcpy(&value, decoder->bytes + decoder->offset, 8);
        decoder->offset += 8;
        lua_pushnumber(L, value);
        break;
    }
    case 5: {
        uint32_t length = read_u32(L, decoder);
        need(L, decoder, length);
        lua_pushlstring(L, (const char *)decoder->bytes + decoder->offset, length);
        decoder->offset += length;
        break;
    }
    case 6: {
        uint32_t count = read_u32(L, decoder);
        lua_createtable(L, count > 1024 ? 1024 : (int)count, 0);
        for (uint32_t i = 0; i < count; i++) {
            decode_value(L, decoder, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case 7: {
        uint32_t count = read_u32(L, decoder);
        lua_createtable(L, 0, count > 1024 ? 1024 : (int)count);
        for (uint32_t i = 0; i < count; i++) {
            uint32_t length = read_u32(L, decoder);
            need(L, decoder, length);
            lua_pushlstring(L, (const char *)decoder->bytes + decoder->offset, length);
            decoder->offset += length;
            decode_value(L, decoder, depth + 1);
            lua_rawset(L, -3);
        }
        break;
    }
    default:
        luaL_error(L, "thinboot: unknown value tag %d", tag);
    }
}

static int push_encoded(lua_State *L) {
    struct decoder *decoder = lua_touserdata(L, 1);
    decode_value(L, decoder, 0);
    return 1;
}

int thinboot_push_encoded(lua_State *L, const uint8_t *bytes, size_t length) {
    struct decoder decoder = {bytes, length, 0};
    if (!lua_checkstack(L, 2)) {
        return LUA_ERRMEM;
    }
    lua_pushcfunction(L, push_encoded);
    lua_pushlightuserdata(L, &decoder);
    return lua_pcall(L, 1, 1, 0);
}

static int make_ref(lua_State *L) {
    // Stack: the value. luaL_ref pops it and returns the reference.
    lua_pushinteger(L, luaL_ref(L, LUA_REGISTRYINDEX));
    return 1;
}

int thinboot_ref(lua_State *L) {
    if (!lua_checkstack(L, 2)) {
        lua_pop(L, 1);
        return -1;
    }
    lua_pushcfunction(L, make_ref);
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pop(L, 1);
        return -1;
    }
    int ref = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return ref;
}

void thinboot_unref(lua_State *L, int ref) {
    // luaL_unref only stores into an existing array slot: it does not allocate.
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
}

void thinboot_push_ref(lua_State *L, int ref) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
}

int thinboot_is_file_marker(lua_State *L, int index) {
    if (lua_type(L, index) != LUA_TTABLE || !lua_checkstack(L, 2) || !lua_getmetatable(L, index)) {
        return 0;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, &file_marker_key);
    int marked = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return marked;
}

struct marker_arguments {
    const char *path;
    size_t length;
};

static int push_file_marker(lua_State *L) {
    struct marker_arguments *arguments = lua_touserdata(L, 1);
    lua_createtable(L, 1, 0);
    lua_pushlstring(L, arguments->path, arguments->length);
    lua_rawseti(L, -2, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &file_marker_key);
    lua_setmetatable(L, -2);
    return 1;
}

int thinboot_push_file_marker(lua_State *L, const char *path, size_t length) {
    struct marker_arguments arguments = {path, length};
    if (!lua_checkstack(L, 2)) {
        return LUA_ERRMEM;
    }
    lua_pushcfunction(L, push_file_marker);
    lua_pushlightuserdata(L, &arguments);
    return lua_pcall(L, 1, 1, 0);
}

struct image_marker_arguments {
    const char *export_name;
    size_t export_length;
    const char *path;
    size_t path_length;
};

static int push_image_marker(lua_State *L) {
    struct image_marker_arguments *arguments = lua_touserdata(L, 1);
    lua_createtable(L, 2, 0);
    lua_pushlstring(L, arguments->path, arguments->path_length);
    lua_rawseti(L, -2, 1);
    lua_pushlstring(L, arguments->export_name, arguments->export_length);
    lua_rawseti(L, -2, 2);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &file_marker_key);
    lua_setmetatable(L, -2);
    return 1;
}

int thinboot_push_image_marker(lua_State *L, const char *export_name, size_t export_length, const char *path,
                               size_t path_length) {
    struct image_marker_arguments arguments = {export_name, export_length, path, path_length};
    if (!lua_checkstack(L, 2)) {
        return LUA_ERRMEM;
    }
    lua_pushcfunction(L, push_image_marker);
    lua_pushlightuserdata(L, &arguments);
    return lua_pcall(L, 1, 1, 0);
}

// MARK: - Macro wrappers

const char *thinboot_tolstring(lua_State *L, int index, size_t *length) { return lua_tolstring(L, index, length); }
