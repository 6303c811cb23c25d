// Library functions whose C loops the count hook never sees and the memory cap does not bound, replaced for the
// sandbox by versions that behave the same (Lua 5.4.4, reference manual §6.4 and §6.6) and check the call's limits
// as they loop:
// - string.rep of an empty string with an empty separator copies nothing n times, so `(""):rep(math.maxinteger)`
//   never ends; the answer is the empty string at once. Every other rep allocates its result first, so the memory
//   cap refuses a huge one before the loop.
// - table.insert and table.remove shift elements up to the length `#t`, which a `__len` metamethod may make up;
//   table.move copies any range it is given, and storing nil allocates nothing.
#include "CLuaShims.h"

#include <lua5.4/lauxlib.h>

#define STEPS_PER_CHECK 4096

static inline void step(lua_State *L, lua_Integer done) {
    if ((done & (STEPS_PER_CHECK - 1)) == STEPS_PER_CHECK - 1) thinboot_check_limits(L);
}

// MARK: - string.rep

static int rep(lua_State *L) {
    size_t length, separator;
    luaL_checklstring(L, 1, &length);
    luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &separator);
    if (length == 0 && separator == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));  // the stock rep
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

// MARK: - table.insert, table.remove, table.move

enum { READ = 1, WRITE = 2, LENGTH = 4 };

static int has_field(lua_State *L, const char *key, int pushed) {
    lua_pushstring(L, key);
    return lua_rawget(L, -pushed) != LUA_TNIL;
}

// A table, or a value whose metatable gives the access `what` needs (as the stock table library accepts).
static void check_table(lua_State *L, int arg, int what) {
    if (lua_type(L, arg) == LUA_TTABLE) return;
    int pushed = 1;
    if (lua_getmetatable(L, arg) && (!(what & READ) || has_field(L, "__index", ++pushed)) &&
        (!(what & WRITE) || has_field(L, "__newindex", ++pushed)) &&
        (!(what & LENGTH) || has_field(L, "__len", ++pushed))) {
        lua_pop(L, pushed);
    } else {
        luaL_checktype(L, arg, LUA_TTABLE);
    }
}

static lua_Integer length_of(lua_State *L, int arg, int what) {
    check_table(L, arg, what | LENGTH);
    return luaL_len(L, arg);
}

static int insert(lua_State *L) {
    lua_Integer first_empty = luaL_intop(+, length_of(L, 1, READ | WRITE), 1);
    lua_Integer position;
    switch (lua_gettop(L)) {
    case 2:
        position = first_empty;
        break;
    case 3:
        position = luaL_checkinteger(L, 2);
        luaL_argcheck(L, (lua_Unsigned)position - 1u < (lua_Unsigned)first_empty, 2, "position out of bounds");
        for (lua_Integer i = first_empty; i > position; i--) {  // shift up
            step(L, i);
            lua_geti(L, 1, i - 1);
            lua_seti(L, 1, i);
        }
        break;
    default:
        return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, position);
    return 0;
}

static int remove_element(lua_State *L) {
    lua_Integer size = length_of(L, 1, READ | WRITE);
    lua_Integer position = luaL_optinteger(L, 2, size);
    if (position != size) {
        // Lua 5.4.4 blames argument #1 here; the message stays as scripts already see it.
        luaL_argcheck(L, (lua_Unsigned)position - 1u <= (lua_Unsigned)size, 1, "position out of bounds");
    }
    lua_geti(L, 1, position);  // the result
    for (; position < size; position++) {  // shift down
        step(L, position);
        lua_geti(L, 1, position + 1);
        lua_seti(L, 1, position);
    }
    lua_pushnil(L);
    lua_seti(L, 1, position);
    return 1;
}

static int move(lua_State *L) {
    lua_Integer from = luaL_checkinteger(L, 2);
    lua_Integer to_last = luaL_checkinteger(L, 3);
    lua_Integer target = luaL_checkinteger(L, 4);
    int destination = lua_isnoneornil(L, 5) ? 1 : 5;
    check_table(L, 1, READ);
    check_table(L, destination, WRITE);
    if (to_last >= from) {
        luaL_argcheck(L, from > 0 || to_last < LUA_MAXINTEGER + from, 3, "too many elements to move");
        lua_Integer count = to_last - from + 1;
        luaL_argcheck(L, target <= LUA_MAXINTEGER - count + 1, 4, "destination wrap around");
        int forward = target > to_last || target <= from ||
                      (destination != 1 && !lua_compare(L, 1, destination, LUA_OPEQ));
        for (lua_Integer done = 0; done < count; done++) {
            step(L, done);
            lua_Integer i = forward ? done : count - 1 - done;  // overlapping upwards: copy from the end
            lua_geti(L, 1, from + i);
            lua_seti(L, destination, target + i);
        }
    }
    lua_pushvalue(L, destination);
    return 1;
}

void thinboot_set_bounded_library(lua_State *L, int string_index, int table_index) {
    string_index = lua_absindex(L, string_index);
    table_index = lua_absindex(L, table_index);
    lua_getfield(L, string_index, "rep");
    lua_pushcclosure(L, rep, 1);
    lua_setfield(L, string_index, "rep");
    static const luaL_Reg functions[] = {{"insert", insert}, {"remove", remove_element}, {"move", move}};
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        lua_pushcfunction(L, functions[i].func);
        lua_setfield(L, table_index, functions[i].name);
    }
}
