/// Route-script bodies that try to hold a worker past its limits: backtracking patterns the count hook never
/// interrupts, loops in library callbacks, allocations past the memory cap. `TimeLimitTests` runs each on a script
/// pool; `HostileScriptLoadInteropTests` runs them all against a server under load. Add every new pattern or
/// library function that a change exposes here.
public enum HostileScripts {
    /// How a run may end, by `ScriptError.Kind`'s raw value.
    public enum End: String, Sendable {
        case timeout = "time limit exceeded"
        case runtime = "runtime error"
        case memory = "memory limit exceeded"
    }

    /// `("a-"):rep(20) .. "b"` against 60 000 `a`s: the stock matcher backtracks for hours without returning to
    /// the VM, so the count hook never runs.
    public static let backtrack = #"("a"):rep(60000), ("a-"):rep(20) .. "b""#

    public static let timeLimited: [(name: String, body: String, ends: Set<End>)] = [
        ("a Lua loop", "while true do end", [.timeout]),
        ("find backtracking", "return tostring(string.find(\(backtrack)))", [.timeout]),
        ("match backtracking", "return string.match(\(backtrack))", [.timeout]),
        ("gmatch backtracking", "for m in string.gmatch(\(backtrack)) do end", [.timeout]),
        ("gsub backtracking", "return (string.gsub(\(backtrack), 'x'))", [.timeout]),
        ("method-call find", "local s = ('a'):rep(60000) return tostring(s:find(('a-'):rep(20) .. 'b'))", [.timeout]),
        ("find with an init offset", "return tostring(string.find(\(backtrack), 10))", [.timeout]),
        ("balanced pairs, quadratic", "return tostring(('('):rep(200000):find('%b()'))", [.timeout]),
        ("pcall around find", "while true do pcall(string.find, \(backtrack)) end", [.timeout]),
        // Each match adds only empty captures: the output never grows, so the memory cap never sees it.
        ("huge gsub replacement", "return (string.gsub(('b'):rep(1000), '(a*)', ('%1'):rep(1 << 22)))", [.timeout]),
        ("gsub callback loops", "return (string.gsub('abc', '.', function() while true do end end))", [.timeout]),
        (
            "recursion through gsub callbacks, exponential",
            "local function f(n) if n > 0 then ('ab'):gsub('.', function() f(n - 1) end) end end f(80)", [.timeout]
        ),
        // Lua's C-stack and stack limits end these, or the memory cap, or the clock: whichever comes first.
        (
            "recursion through gsub callbacks, deep", "local function f(s) return (s:gsub('.', f)) end return f('xy')",
            [
                .runtime, .memory, .timeout,
            ]
        ),
        ("deep recursion", "local function f() return 1 + f() end return f()", [.runtime, .memory, .timeout]),
        ("string.rep past the memory cap", "return ('x'):rep(1 << 30)", [.memory]),
        ("string.rep with a separator past the cap", "return ('x'):rep(1 << 26, ',')", [.memory]),
        (
            "string.format past the memory cap",
            "local s = ('x'):rep(1 << 23) return string.format('%s%s%s%s%s%s%s%s%s', s, s, s, s, s, s, s, s, s)",
            [.memory]
        ),
        (
            "table.sort with a comparator that raises",
            "local t = {} for i = 1, 1000 do t[i] = i end table.sort(t, function(a, b) error('no order') end)",
            [.runtime]
        ),
        (
            "table.sort with a comparator that lies",
            "local t = {} for i = 1, 100000 do t[i] = i end table.sort(t, function(a, b) return true end)", [.runtime]
        ),
        (
            "table.sort with a comparator that loops",
            "local t = {} for i = 1, 1000 do t[i] = i end table.sort(t, function(a, b) while true do end end)",
            [.timeout]
        ),
        (
            "table.concat of a huge table",
            "local s, t = ('x'):rep(32), {} for i = 1, 1 << 21 do t[i] = s end return table.concat(t)", [.memory]
        ),
        (
            "table.concat through __index",
            "return table.concat(setmetatable({}, {__index = function() return '' end}), '', 1, math.maxinteger)",
            [.timeout]
        ),
        ("table.move of a huge range", "table.move({}, 1, math.maxinteger // 2, 2)", [.timeout]),
        (
            "table.insert under a lying __len",
            "table.insert(setmetatable({}, {__len = function() return math.maxinteger - 1 end}), 1, 'x')", [.timeout]
        ),
        (
            "table.remove under a lying __len",
            "table.remove(setmetatable({}, {__len = function() return math.maxinteger - 1 end}), 1)", [.timeout]
        ),
    ]
}
