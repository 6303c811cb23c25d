/// A value that crosses between Swift and Lua: what a host hands to scripts (`req`, `thinboot.exports()`,
/// inventories) and what a script hands back. Strings are bytes: Lua strings may hold NUL and invalid UTF-8.
///
/// Not `indirect`: lists and records nest through their arrays and dictionaries already, and a box per value cost
/// an allocation each, and its pointer carried the case in its spare bits, where LeakSanitizer cannot see it: every
/// cached inventory was reported leaked.
public enum ScriptValue: Sendable, Hashable {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string([UInt8])
    /// A Lua sequence `{a, b, c}`.
    case list([ScriptValue])
    /// A Lua table with string keys.
    case record([String: ScriptValue])

    /// A string value from Swift text.
    public static func text(_ string: String) -> ScriptValue { .string(Array(string.utf8)) }

    /// The text of a string value (invalid UTF-8 repaired), or nil for other kinds.
    public var textValue: String? {
        if case .string(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    /// A field of a record, `.nil` otherwise.
    public subscript(key: String) -> ScriptValue {
        if case .record(let fields) = self { return fields[key] ?? .nil }
        return .nil
    }
}

extension ScriptValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(nilLiteral: ()) { self = .nil }
}
