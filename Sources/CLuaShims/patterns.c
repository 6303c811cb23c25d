// string.find, string.match, string.gmatch and string.gsub for the sandbox: Lua 5.4's pattern semantics (reference
// manual §6.4.1), written for Thinboot, with a step counter that checks the call's limits every few thousand steps.
//
// Why our own matcher: the stock one is a backtracking C loop that never returns to the VM, so the count hook never
// runs inside it; `("a"):rep(60000):find(("a-"):rep(20) .. "b")` runs for hours. A worker thread cannot be killed
// safely, and a longjmp out of a signal handler can land inside malloc. Raising the error from here, at a step
// boundary, leaves nothing half-done: the matcher allocates nothing outside Lua's own stack.
//
// Behaviour, results and error messages are those of Lua 5.4.4's functions (a differential test in
// Tests/ScriptingTests compares them over many subjects and patterns); only the time they may take differs.
#define _GNU_SOURCE
#include "CLuaShims.h"

#include <ctype.h>
#include <string.h>
#include <lua5.4/lauxlib.h>

#define ESCAPE '%'
// Lua's own limits: captures per pattern, and recursion depth of the matcher before "pattern too complex".
#define MAX_CAPTURES 32
#define MAX_DEPTH 200
// Steps between two checks of the clock and the budget flags (a power of two). A step is a few nanoseconds, so the
// limit is seen within microseconds, and the clock costs nothing measurable.
#define STEPS_PER_CHECK 4096

enum { CAPTURE_OPEN = -1, CAPTURE_POSITION = -2 };

typedef struct matcher {
    lua_State *L;
    const char *subject;
    const char *subject_end;
    const char *pattern_end;
    int depth_left;
    int level;  // captures started
    unsigned steps;
    struct {
        const char *start;
        ptrdiff_t length;  // or CAPTURE_OPEN / CAPTURE_POSITION
    } captures[MAX_CAPTURES];
} matcher;

static void prepare(matcher *m, lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
    m->L = L;
    m->subject = s;
    m->subject_end = s + ls;
    m->pattern_end = p + lp;
    m->depth_left = MAX_DEPTH;
    m->level = 0;
    m->steps = 0;
}

static inline void step(matcher *m) {
    if ((++m->steps & (STEPS_PER_CHECK - 1)) == 0) {
        thinboot_check_limits(m->L);
    }
}

// MARK: - Character classes

static int class_matches(int c, int class) {
    int matches;
    switch (tolower(class)) {
    case 'a': matches = isalpha(c); break;
    case 'c': matches = iscntrl(c); break;
    case 'd': matches = isdigit(c); break;
    case 'g': matches = isgraph(c); break;
    case 'l': matches = islower(c); break;
    case 'p': matches = ispunct(c); break;
    case 's': matches = isspace(c); break;
    case 'u': matches = isupper(c); break;
    case 'w': matches = isalnum(c); break;
    case 'x': matches = isxdigit(c); break;
    case 'z': matches = c == 0; break;  // gone from the manual since 5.2, still in Lua 5.4's matcher
    default: return class == c;  // %x for a non-alphanumeric x is x itself
    }
    return isupper(class) ? !matches : matches;
}

// Whether `c` is in the set that starts at `p` ('[') and ends at `close` (its ']').
static int set_matches(int c, const char *p, const char *close) {
    int inside = 1;
    if (*(p + 1) == '^') {
        inside = 0;
        p++;
    }
    while (++p < close) {
        if (*p == ESCAPE) {
            p++;
            if (class_matches(c, (unsigned char)*p)) return inside;
        } else if (*(p + 1) == '-' && p + 2 < close) {
            p += 2;
            if ((unsigned char)*(p - 2) <= c && c <= (unsigned char)*p) return inside;
        } else if ((unsigned char)*p == c) {
            return inside;
        }
    }
    return !inside;
}

// The end of the single-character class starting at `p`. A ']' right after '[' or '[^' belongs to the set.
static const char *class_end(matcher *m, const char *p) {
    char c = *p++;
    if (c == ESCAPE) {
        if (p == m->pattern_end) luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        if (*p == '^') p++;
        do {
            if (p == m->pattern_end) luaL_error(m->L, "malformed pattern (missing ']')");
            if (*(p++) == ESCAPE && p < m->pattern_end) p++;  // an escaped ']' does not close the set
        } while (*p != ']');
        return p + 1;
    }
    return p;
}

static int single_matches(matcher *m, const char *s, const char *p, const char *end) {
    if (s >= m->subject_end) return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case ESCAPE: return class_matches(c, (unsigned char)*(p + 1));
    case '[': return set_matches(c, p, end - 1);
    default: return (unsigned char)*p == c;
    }
}

// MARK: - Matching

static const char *do_match(matcher *m, const char *s, const char *p);

// %bxy: `p` points at x.
static const char *balanced(matcher *m, const char *s, const char *p) {
    if (p >= m->pattern_end - 1) luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->subject_end || *s != *p) return NULL;
    char open = *p, close = *(p + 1);
    long depth = 1;
    while (++s < m->subject_end) {
        step(m);
        if (*s == close) {
            if (--depth == 0) return s + 1;
        } else if (*s == open) {
            depth++;
        }
    }
    return NULL;
}

// The longest run of the class first, then shorter ones until the rest matches (`*` and `+`).
static const char *longest_first(matcher *m, const char *s, const char *p, const char *end) {
    ptrdiff_t count = 0;
    while (single_matches(m, s + count, p, end)) {
        step(m);
        count++;
    }
    for (; count >= 0; count--) {
        const char *rest = do_match(m, s + count, end + 1);
        if (rest != NULL) return rest;
    }
    return NULL;
}

// The shortest run first, one more character at a time (`-`).
static const char *shortest_first(matcher *m, const char *s, const char *p, const char *end) {
    for (;;) {
        const char *rest = do_match(m, s, end + 1);
        if (rest != NULL) return rest;
        if (!single_matches(m, s, p, end)) return NULL;
        s++;
    }
}

static const char *open_capture(matcher *m, const char *s, const char *p, ptrdiff_t kind) {
    if (m->level >= MAX_CAPTURES) luaL_error(m->L, "too many captures");
    m->captures[m->level].start = s;
    m->captures[m->level].length = kind;
    m->level++;
    const char *rest = do_match(m, s, p);
    if (rest == NULL) m->level--;
    return rest;
}

static const char *close_capture(matcher *m, const char *s, const char *p) {
    int open = m->level - 1;
    while (open >= 0 && m->captures[open].length != CAPTURE_OPEN) open--;
    if (open < 0) luaL_error(m->L, "invalid pattern capture");
    m->captures[open].length = s - m->captures[open].start;
    const char *rest = do_match(m, s, p);
    if (rest == NULL) m->captures[open].length = CAPTURE_OPEN;
    return rest;
}

// %1 … %9: the text of an earlier, closed capture again. A position capture is never text, so never matches.
static const char *back_reference(matcher *m, const char *s, int digit) {
    int index = digit - '1';
    if (index < 0 || index >= m->level || m->captures[index].length == CAPTURE_OPEN) {
        luaL_error(m->L, "invalid capture index %%%d", index + 1);
    }
    ptrdiff_t length = m->captures[index].length;
    if (length == CAPTURE_POSITION || m->subject_end - s < length) return NULL;
    return memcmp(m->captures[index].start, s, (size_t)length) == 0 ? s + length : NULL;
}

// Matches the pattern from `p` at `s`; returns where the match ends, or NULL. Items that cannot backtrack loop here
// instead of recursing, so the depth counts only choices (captures, optional and repeated items).
static const char *do_match(matcher *m, const char *s, const char *p) {
    if (m->depth_left-- == 0) luaL_error(m->L, "pattern too complex");
    while (p != m->pattern_end) {
        step(m);
        switch (*p) {
        case '(':
            s = *(p + 1) == ')' ? open_capture(m, s, p + 2, CAPTURE_POSITION) : open_capture(m, s, p + 1, CAPTURE_OPEN);
            goto done;
        case ')':
            s = close_capture(m, s, p + 1);
            goto done;
        case '$':
            if (p + 1 != m->pattern_end) break;  // a '$' inside the pattern is a plain character
            s = s == m->subject_end ? s : NULL;
            goto done;
        case ESCAPE:
            switch (*(p + 1)) {
            case 'b':
                s = balanced(m, s, p + 2);
                if (s == NULL) goto done;
                p += 4;
                continue;
            case 'f': {
                p += 2;
                if (*p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
                const char *end = class_end(m, p);
                int previous = s == m->subject ? '\0' : (unsigned char)*(s - 1);
                int current = s < m->subject_end ? (unsigned char)*s : '\0';
                if (set_matches(previous, p, end - 1) || !set_matches(current, p, end - 1)) {
                    s = NULL;
                    goto done;
                }
                p = end;
                continue;
            }
            case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
                s = back_reference(m, s, (unsigned char)*(p + 1));
                if (s == NULL) goto done;
                p += 2;
                continue;
            default:
                break;
            }
            break;
        default:
            break;
        }
        // A single-character class, perhaps followed by a repetition.
        const char *end = class_end(m, p);
        if (!single_matches(m, s, p, end)) {
            if (*end == '*' || *end == '?' || *end == '-') {
                p = end + 1;  // the item may match nothing
                continue;
            }
            s = NULL;
            goto done;
        }
        switch (*end) {
        case '?': {
            const char *rest = do_match(m, s + 1, end + 1);
            if (rest != NULL) {
                s = rest;
                goto done;
            }
            p = end + 1;
            continue;
        }
        case '+': s = longest_first(m, s + 1, p, end); goto done;
        case '*': s = longest_first(m, s, p, end); goto done;
        case '-': s = shortest_first(m, s, p, end); goto done;
        default:
            s++;
            p = end;
            continue;
        }
    }
done:
    m->depth_left++;
    return s;
}

// MARK: - Captures

// The bytes of capture `index` (the whole match when the pattern has none); a position capture is pushed instead
// and NULL returned.
static const char *capture_bytes(matcher *m, int index, const char *s, const char *e, size_t *length) {
    if (index >= m->level) {
        if (index != 0) luaL_error(m->L, "invalid capture index %%%d", index + 1);
        *length = (size_t)(e - s);
        return s;
    }
    ptrdiff_t captured = m->captures[index].length;
    if (captured == CAPTURE_OPEN) luaL_error(m->L, "unfinished capture");
    if (captured == CAPTURE_POSITION) {
        lua_pushinteger(m->L, (m->captures[index].start - m->subject) + 1);
        return NULL;
    }
    *length = (size_t)captured;
    return m->captures[index].start;
}

static void push_capture(matcher *m, int index, const char *s, const char *e) {
    size_t length;
    const char *bytes = capture_bytes(m, index, s, e, &length);
    if (bytes != NULL) lua_pushlstring(m->L, bytes, length);
}

// Pushes every capture, or the whole match (when `s` is given and the pattern has no captures).
static int push_captures(matcher *m, const char *s, const char *e) {
    int count = (m->level == 0 && s != NULL) ? 1 : m->level;
    luaL_checkstack(m->L, count, "too many captures");
    for (int i = 0; i < count; i++) push_capture(m, i, s, e);
    return count;
}

// MARK: - The library functions

// A start position as Lua's string functions read it: negative counts from the end, 0 and below-the-start mean 1.
static size_t start_position(lua_Integer position, size_t length) {
    if (position > 0) return (size_t)position;
    if (position == 0 || position < -(lua_Integer)length) return 1;
    return length + (size_t)position + 1;
}

static int has_specials(const char *p, size_t length) {
    for (size_t i = 0; i < length; i++) {
        if (p[i] != '\0' && strchr("^$*+?.([%-", p[i]) != NULL) return 1;
    }
    return 0;
}

static int find_or_match(lua_State *L, int find) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t start = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
    if (start > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        // A plain search; glibc's memmem is linear in the subject, so it needs no budget.
        const char *found = lp == 0 ? s + start : memmem(s + start, ls - start, p, lp);
        if (found != NULL) {
            lua_pushinteger(L, (found - s) + 1);
            lua_pushinteger(L, (lua_Integer)((found - s) + lp));
            return 2;
        }
    } else {
        matcher m;
        const char *at = s + start;
        int anchored = *p == '^';
        if (anchored) {
            p++;
            lp--;
        }
        prepare(&m, L, s, ls, p, lp);
        do {
            m.level = 0;
            const char *end = do_match(&m, at, p);
            if (end != NULL) {
                if (!find) return push_captures(&m, at, end);
                lua_pushinteger(L, (at - s) + 1);
                lua_pushinteger(L, end - s);
                return push_captures(&m, NULL, NULL) + 2;
            }
        } while (at++ < m.subject_end && !anchored);
    }
    luaL_pushfail(L);
    return 1;
}

static int find(lua_State *L) { return find_or_match(L, 1); }
static int match(lua_State *L) { return find_or_match(L, 0); }

typedef struct gmatch_state {
    matcher m;
    const char *pattern;
    const char *next;        // where the next search starts
    const char *last_end;    // the end of the last match: an empty match there is not taken again
} gmatch_state;

static int gmatch_next(lua_State *L) {
    gmatch_state *state = lua_touserdata(L, lua_upvalueindex(3));
    state->m.L = L;
    for (const char *at = state->next; at <= state->m.subject_end; at++) {
        state->m.level = 0;
        const char *end = do_match(&state->m, at, state->pattern);
        if (end != NULL && end != state->last_end) {
            state->next = state->last_end = end;
            return push_captures(&state->m, at, end);
        }
    }
    return 0;
}

static int gmatch(lua_State *L) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t start = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
    if (start > ls) start = ls + 1;  // past the end: the iterator yields nothing
    lua_settop(L, 2);                // the subject and the pattern stay alive as upvalues 1 and 2
    gmatch_state *state = lua_newuserdatauv(L, sizeof *state, 0);
    prepare(&state->m, L, s, ls, p, lp);
    state->pattern = p;
    state->next = s + start;
    state->last_end = NULL;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

// A string replacement: %0 … %9 and %% expanded.
static void add_expanded(matcher *m, luaL_Buffer *b, const char *s, const char *e) {
    lua_State *L = m->L;
    size_t left;
    const char *text = lua_tolstring(L, 3, &left);
    const char *escape;
    while ((escape = memchr(text, ESCAPE, left)) != NULL) {
        step(m);  // a replacement of many empty captures adds nothing, so the memory cap would not stop it
        luaL_addlstring(b, text, (size_t)(escape - text));
        escape++;
        if (*escape == ESCAPE) {
            luaL_addchar(b, ESCAPE);
        } else if (*escape == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit((unsigned char)*escape)) {
            size_t length;
            const char *bytes = capture_bytes(m, *escape - '1', s, e, &length);
            if (bytes == NULL) {
                luaL_addvalue(b);  // a position, pushed as an integer
            } else {
                luaL_addlstring(b, bytes, length);
            }
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", ESCAPE);
        }
        left -= (size_t)(escape + 1 - text);
        text = escape + 1;
    }
    luaL_addlstring(b, text, left);
}

// Adds the replacement for one match; returns whether it changed the text.
static int add_replacement(matcher *m, luaL_Buffer *b, const char *s, const char *e, int type) {
    lua_State *L = m->L;
    if (type == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        lua_call(L, push_captures(m, s, e), 1);
    } else if (type == LUA_TTABLE) {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_expanded(m, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {  // false or nil: keep the match as it was
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1)) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int gsub(lua_State *L) {
    size_t ls, lp;
    const char *at = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int type = lua_type(L, 3);
    lua_Integer most = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION || type == LUA_TTABLE,
                     3, "string/function/table");
    int anchored = *p == '^';
    if (anchored) {
        p++;
        lp--;
    }
    const char *last_end = NULL;
    lua_Integer count = 0;
    int changed = 0;
    matcher m;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    prepare(&m, L, at, ls, p, lp);
    while (count < most) {
        m.level = 0;
        const char *end = do_match(&m, at, p);
        if (end != NULL && end != last_end) {
            count++;
            changed = add_replacement(&m, &b, at, end, type) | changed;
            at = last_end = end;
        } else if (at < m.subject_end) {
            luaL_addchar(&b, *at++);
        } else {
            break;
        }
        if (anchored) break;
    }
    if (changed) {
        luaL_addlstring(&b, at, (size_t)(m.subject_end - at));
        luaL_pushresult(&b);
    } else {
        lua_pushvalue(L, 1);  // nothing replaced: the very same string
    }
    lua_pushinteger(L, count);
    return 2;
}

static const luaL_Reg functions[] = {
    {"find", find}, {"match", match}, {"gmatch", gmatch}, {"gsub", gsub}, {NULL, NULL},
};

void thinboot_set_budgeted_patterns(lua_State *L, int table) {
    table = lua_absindex(L, table);
    for (const luaL_Reg *entry = functions; entry->name != NULL; entry++) {
        lua_pushcfunction(L, entry->func);
        lua_setfield(L, table, entry->name);
    }
}
