#include "CLuaShims.h"

lua_Number thinboot_lua_version(lua_State *L) { return lua_version(L); }
