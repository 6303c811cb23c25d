#ifndef THINBOOT_CLUA_SHIMS_H
#define THINBOOT_CLUA_SHIMS_H
#include <lua5.4/lua.h>

/// Placeholder until the scripting runtime lands: the Lua version number this build links against.
lua_Number thinboot_lua_version(lua_State *L);
#endif
