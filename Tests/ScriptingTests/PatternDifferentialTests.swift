import CLua
import CLuaShims
import Testing

/// The sandbox's budgeted `string.find`, `match`, `gmatch` and `gsub` (and its `rep`, `table.insert`, `remove`,
/// `move`) answer exactly as Lua's own: the same chunk runs in a state with the stock libraries and in a sandboxed
/// one, and every result and error message must be equal. The cases are the manual's examples, edge cases of
/// each pattern item, and thousands of random subject/pattern pairs (the same seed in both states).
@Suite struct PatternDifferentialTests {
    @Test func budgetedFunctionsAnswerAsLuasOwn() throws {
        let stock = try DifferentialState(sandboxed: false).run(Self.cases)
        let budgeted = try DifferentialState(sandboxed: true).run(Self.cases)
        let expected = stock.split(separator: "\n", omittingEmptySubsequences: false)
        let got = budgeted.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(expected.count > 40_000, "too few cases ran: \(expected.count)")
        #expect(got.count == expected.count)
        var differences = 0
        for (want, have) in zip(expected, got) where want != have {
            differences += 1
            if differences <= 10 { Issue.record("stock:    \(want)\nbudgeted: \(have)") }
        }
        #expect(differences == 0, "\(differences) of \(expected.count) results differ")
    }

    /// Records every call as `label => results` or `label !! error`, one line each.
    static let cases = #"""
        math.randomseed(20261201)
        local out = {}
        local function show(...)
          local parts = {}
          for i = 1, select('#', ...) do
            local v = select(i, ...)
            local t = math.type(v) or type(v)
            parts[i] = t == 'string' and string.format('%q', v) or (t == 'table' or t == 'function') and t
              or (t .. ':' .. tostring(v))
          end
          return table.concat(parts, ',')
        end
        local function record(label, ok, ...)
          if ok then out[#out + 1] = label .. ' => ' .. show(...) else out[#out + 1] = label .. ' !! ' .. tostring((...)) end
        end
        local function iterate(label, s, p, init)
          local ok, iter = pcall(string.gmatch, s, p, init)
          if not ok then out[#out + 1] = label .. ' !! ' .. tostring(iter) return end
          local got = {}
          local fine, err = pcall(function()
            while #got < 50 do
              local r = table.pack(iter())
              if r[1] == nil then break end
              got[#got + 1] = show(table.unpack(r, 1, r.n))
            end
          end)
          out[#out + 1] = label .. (fine and (' => ' .. table.concat(got, ' | ')) or (' !! ' .. tostring(err)))
        end

        local repls = {
          'x', '%0', '<%1>', '%1%2', '%%', '%', '[%9]', '', 7, 'a%0b%1', 2.5, '%2-%1', '%a',
          function(...) return select('#', ...) > 1 and (...) .. '|' or nil end,
          function() return false end, function() return {} end, function() return 42 end,
          function(a) return a:upper() end, function() error('callback says no') end,
          {a = 'A', b = false, ['('] = 1.5, c = {}, [''] = 'E'}, true,
        }

        -- The manual's examples and edge cases of each item.
        local fixed = {
          {'hello world', '(%w+)', '%1 %1'}, {'hello world', '%w+', '%0 %0', 1},
          {'hello world from Lua', '(%w+)%s*(%w+)', '%2 %1'},
          {'$name-$version.tar.gz', '%$(%w+)', {name = 'lua', version = '5.4'}},
          {'THE (quick) fox', '%((%a+)%)'}, {' key = value ', '(%w+)%s*=%s*(%w+)'},
          {'THE (quick) fox', '%f[%a]%a+', 'X'}, {'hello "world" x', '(["\'])(.-)%1'},
          {'flaaap', '()aa()'}, {'flaaap', '()aa()', '%1-%2'}, {'abc', 'b', -1}, {'abc', '', 10},
          {('a'):rep(250), ('a?'):rep(250)}, {('a'):rep(10), ('()'):rep(33)}, {'x', ('(x?)'):rep(32)},
          {'abc', 'a*'}, {'abc', '^a'}, {'^a^a', '^a'}, {'a.b', '.', '%%'}, {'[]', '[]]'}, {'a]', '[^]]'},
          {'a-b', '[a-]+'}, {'f(a(b)c)d', '%b()'}, {'f(a(b)c', '%b()'}, {'xx', '%bxx'}, {'a\0b', '%z'},
          {'a\0b', '[\0]'}, {'a\0b', '\0'}, {'THE END', '%f[%z]'}, {'end', '$'}, {'a$b', 'a$b'},
          {'abc', '(a)(b)%3'}, {'abc', '%1'}, {'abc', '(a%1)'}, {'abc', '(()a)%2'}, {'abc', '(a'},
          {'abc', 'a)'}, {'abc', '%'}, {'abc', '[a'}, {'abc', '[^'}, {'abc', '%b'}, {'abc', '%ba'},
          {'abc', '%f'}, {'abc', '%fa'}, {'abc', '[%'}, {'abc', '[a-%]'}, {'  x  ', '^%s*(.-)%s*$'},
          {'one two', '(%a+) (%a+)', '%2 %1 %0 %%'}, {'abc', '.', {a = 1, b = true}},
          {'abc', '', '-'}, {'abc', '', '-', 2}, {'abc', '.-', '<%0>'}, {'aaa', 'a-', '!'},
          {'hello', 'l+', function(m) return nil end}, {'x = 1, y = 2', '(%w+) = (%w+)', '%2 = %1'},
        }
        for i, case in ipairs(fixed) do
          local s, p, r, n = case[1], case[2], case[3], case[4]
          record('fixed find ' .. i, pcall(string.find, s, p, math.type(r) == 'integer' and r or nil))
          record('fixed match ' .. i, pcall(string.match, s, p))
          iterate('fixed gmatch ' .. i, s, p)
          if r ~= nil and math.type(r) ~= 'integer' then record('fixed gsub ' .. i, pcall(string.gsub, s, p, r, n)) end
          record('fixed gsub x ' .. i, pcall(string.gsub, s, p, 'x'))
        end

        -- Random pairs: items, sets, classes, captures, anchors, repetitions, malformed pieces.
        local atoms = {
          'a', 'b', 'c', '.', '%a', '%d', '%s', '%w', '%A', '%D', '%p', '%x', '%u', '%l', '%c', '%g', '%%', '%.',
          '%(', '%]', '[ab]', '[^ab]', '[a-c]', '[%a_]', '[]]', '[^]a]', '[a-]', '[%d%s]', '[b-a]', '(', ')', '()',
          '%b()', '%bab', '%f[%a]', '%f[^%a]', '%f[%w_]', '%1', '%2', '%0', '^', '$', 'x', '-', '*', '+', '?', '[',
          '%', '%b', '%f', '%z', '\0', '[%]]', '[^%s]', '%S', '%W',
        }
        local suffixes = {'', '', '', '*', '+', '-', '?'}
        local letters = {'a', 'a', 'b', 'b', 'c', '(', ')', ' ', '1', '_', '.', '%', 'x', '\0', 'A', ']', '-'}
        local inits = {false, 1, 2, -1, -3, 0, 5, 13, 100, -100, math.mininteger}
        local ns = {false, 0, 1, 2, -1, 100}
        local function pick(list) return list[math.random(#list)] end
        local function pattern(depth)
          local parts = {}
          if depth == 0 and math.random(4) == 1 then parts[1] = '^' end
          for i = 1, math.random(0, 5) do
            if depth < 2 and math.random(6) == 1 then
              parts[#parts + 1] = '(' .. pattern(depth + 1) .. ')'
            else
              parts[#parts + 1] = pick(atoms) .. pick(suffixes)
            end
          end
          if depth == 0 and math.random(5) == 1 then parts[#parts + 1] = '$' end
          return table.concat(parts)
        end
        local function subject()
          local t = {}
          for i = 1, math.random(0, 14) do t[i] = pick(letters) end
          return table.concat(t)
        end
        for i = 1, 8000 do
          local s, p = subject(), pattern(0)
          local init = pick(inits) or nil
          local label = string.format('%q %q %s', s, p, tostring(init))
          record('find ' .. label, pcall(string.find, s, p, init))
          record('plain ' .. label, pcall(string.find, s, p, init, true))
          record('match ' .. label, pcall(string.match, s, p, init))
          iterate('gmatch ' .. label, s, p, init)
          local r, n = math.random(#repls), pick(ns) or nil
          record('gsub ' .. label .. ' ' .. r .. ' ' .. tostring(n), pcall(string.gsub, s, p, repls[r], n))
        end

        -- rep and the table functions replaced for the sandbox.
        for _, case in ipairs({{'ab', 3}, {'ab', 3, ','}, {'', 5}, {'', 5, '-'}, {'x', 0}, {'x', -1}, {'', 0, ''}}) do
          record('rep ' .. show(table.unpack(case)), pcall(string.rep, table.unpack(case)))
        end
        record('rep bad', pcall(string.rep, {}, 2))
        local function tables(name, f)
          local t = {1, 2, 3, 4, 5}
          local ok, a, b = pcall(f, t)
          out[#out + 1] = name .. (ok and ' => ' or ' !! ') .. show(a, b) .. ' / ' .. show(table.unpack(t, 1, 7))
        end
        tables('insert end', function(t) return table.insert(t, 'x') end)
        tables('insert 1', function(t) return table.insert(t, 1, 'x') end)
        tables('insert 6', function(t) return table.insert(t, 6, 'x') end)
        tables('insert 7', function(t) return table.insert(t, 7, 'x') end)
        tables('insert 0', function(t) return table.insert(t, 0, 'x') end)
        tables('insert many', function(t) return table.insert(t, 1, 2, 3) end)
        tables('insert string', function(t) return table.insert('abc', 'x') end)
        tables('remove', function(t) return table.remove(t) end)
        tables('remove 1', function(t) return table.remove(t, 1) end)
        tables('remove 6', function(t) return table.remove(t, 6) end)
        tables('remove 7', function(t) return table.remove(t, 7) end)
        tables('remove empty', function() return table.remove({}) end)
        tables('remove empty 0', function() return table.remove({}, 0) end)
        tables('move', function(t) return table.move(t, 1, 3, 2) end)
        tables('move back', function(t) return table.move(t, 2, 5, 1) end)
        tables('move other', function(t) local d = table.move(t, 1, 5, 3, {}) return #d, d[3] end)
        tables('move none', function(t) return table.move(t, 3, 1, 1) end)
        tables('move wrap', function(t) return table.move(t, 1, 2, math.maxinteger) end)
        tables('move too many', function(t) return table.move(t, math.mininteger, 1, 1) end)
        tables('move string', function() return table.move('abc', 1, 2, 1, {}) end)
        tables('move proxy', function(t)
          local log = {}
          local proxy = setmetatable({}, {__index = function(_, k) log[#log + 1] = 'r' .. k return k end,
            __newindex = function(_, k, v) log[#log + 1] = 'w' .. k end})
          table.move(proxy, 1, 3, 2)
          return table.concat(log, ' ')
        end)
        tables('insert proxy', function()
          local log = {}
          local proxy = setmetatable({}, {__len = function() return 3 end,
            __index = function(_, k) log[#log + 1] = 'r' .. k return k end,
            __newindex = function(_, k, v) log[#log + 1] = 'w' .. k .. '=' .. tostring(v) end})
          table.insert(proxy, 2, 'x')
          table.remove(proxy, 1)
          return table.concat(log, ' ')
        end)
        return table.concat(out, '\n')
        """#
}

/// A Lua state for the differential test: Lua's own libraries, or the sandbox with the budgeted functions.
final class DifferentialState {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let context: UnsafeMutablePointer<thinboot_lua_context>
    private let state: OpaquePointer

    init(sandboxed: Bool) throws {
        context = .allocate(capacity: 1)
        context.initialize(to: thinboot_lua_context())
        context.pointee.memory_limit = 1 << 30
        guard let state = thinboot_newstate(context) else { throw Failure(description: "no Lua state") }
        self.state = state
        if sandboxed {
            guard thinboot_open_sandbox(state, nil, 0) == LUA_OK else { throw Failure(description: "no sandbox") }
        } else {
            luaL_openlibs(state)
        }
    }

    deinit {
        lua_close(state)
        context.deallocate()
    }

    /// Runs a chunk that returns a string, and returns it.
    func run(_ source: String) throws -> String {
        let bytes = Array(source.utf8) + [0]
        let loaded = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                thinboot_load_text(state, $0.baseAddress, bytes.count - 1, "=differential")
            }
        }
        guard loaded == LUA_OK else { throw Failure(description: "load: \(text(at: -1))") }
        thinboot_arm_limits(state, 1 << 60, 0)
        let status = thinboot_pcall(state, 0, 1)
        thinboot_disarm_limits(state)
        guard status == LUA_OK else { throw Failure(description: "run: \(text(at: -1))") }
        defer { lua_settop(state, 0) }
        return text(at: -1)
    }

    private func text(at index: Int32) -> String {
        var length = 0
        guard let pointer = thinboot_tolstring(state, index, &length) else { return "(not a string)" }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }
}
