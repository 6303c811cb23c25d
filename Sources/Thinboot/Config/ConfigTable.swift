/// Typed, checked reads from one TOML table. Every read remembers its key so `finish()` can refuse keys
/// nobody asked for: a typo (`blocksize` for `max_blksize`) must be an error, not a silently ignored line.
public final class ConfigTable {
    /// The config file, for error messages.
    public let file: String
    /// The dotted path of this table (`tftp`, `nbd.export[1]`).
    public let path: String
    private let table: [String: TOMLValue]
    private var consumed: Set<String> = []

    init(file: String, path: String, table: [String: TOMLValue]) {
        self.file = file
        self.path = path
        self.table = table
    }

    /// The dotted key of `key` in this table, for messages.
    public func qualified(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// An error about `key` in this table.
    public func error(_ key: String?, _ problem: String) -> ConfigError {
        ConfigError(file: file, key: key.map(qualified) ?? (path.isEmpty ? nil : path), problem: problem)
    }

    private func value(_ key: String) -> TOMLValue? {
        consumed.insert(key)
        return table[key]
    }

    /// Whether the table has `key` at all.
    public func has(_ key: String) -> Bool { table[key] != nil }

    public func string(_ key: String) throws(ConfigError) -> String? {
        guard let raw = value(key) else { return nil }
        guard let string = raw.string else { throw error(key, "expected a string, found \(raw.typeName)") }
        return string
    }

    public func string(_ key: String, default fallback: String) throws(ConfigError) -> String {
        try string(key) ?? fallback
    }

    public func requiredString(_ key: String) throws(ConfigError) -> String {
        guard let string = try string(key) else { throw error(key, "is required") }
        return string
    }

    public func bool(_ key: String, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let raw = value(key) else { return fallback }
        guard let bool = raw.bool else { throw error(key, "expected true or false, found \(raw.typeName)") }
        return bool
    }

    public func int(_ key: String) throws(ConfigError) -> Int? {
        guard let raw = value(key) else { return nil }
        guard let int = raw.int else { throw error(key, "expected an integer, found \(raw.typeName)") }
        return int
    }

    /// An integer that must lie in `range`; the message gives the range.
    public func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let int = try int(key) else { return fallback }
        guard range.contains(int) else {
            throw error(key, "\(int) is out of range: use \(range.lowerBound)...\(range.upperBound)")
        }
        return int
    }

    public func stringArray(_ key: String) throws(ConfigError) -> [String]? {
        guard let raw = value(key) else { return nil }
        guard let array = raw.array else { throw error(key, "expected an array of strings, found \(raw.typeName)") }
        var strings: [String] = []
        for (index, element) in array.enumerated() {
            guard let string = element.string else {
                throw error("\(key)[\(index)]", "expected a string, found \(element.typeName)")
            }
            strings.append(string)
        }
        return strings
    }

    /// A sub-table (`[tftp]`), or nil when absent.
    public func table(_ key: String) throws(ConfigError) -> ConfigTable? {
        guard let raw = value(key) else { return nil }
        guard let table = raw.table else { throw error(key, "expected a table, found \(raw.typeName)") }
        return ConfigTable(file: file, path: qualified(key), table: table)
    }

    /// An array of tables (`[[tftp.route]]`), empty when absent.
    public func tables(_ key: String) throws(ConfigError) -> [ConfigTable] {
        guard let raw = value(key) else { return [] }
        guard let array = raw.array else { throw error(key, "expected an array of tables ([[\(qualified(key))]])") }
        var tables: [ConfigTable] = []
        for (index, element) in array.enumerated() {
            guard let table = element.table else {
                throw error("\(key)[\(index)]", "expected a table, found \(element.typeName)")
            }
            tables.append(ConfigTable(file: file, path: "\(qualified(key))[\(index)]", table: table))
        }
        return tables
    }

    /// All keys and their string values, for free-form tables such as `[tftp.arch]`.
    public func stringMap() throws(ConfigError) -> [String: String] {
        var map: [String: String] = [:]
        for key in table.keys.sorted() {
            map[key] = try requiredString(key)
        }
        return map
    }

    /// Refuses every key that no reader asked for.
    public func finish() throws(ConfigError) {
        let unknown = table.keys.filter { !consumed.contains($0) }.sorted()
        if let first = unknown.first {
            throw error(first, "unknown key; check the spelling against the README's config reference")
        }
    }
}
