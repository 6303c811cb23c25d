/// A configuration problem, always naming the file, the key and what is wrong, so the admin can fix it at once.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    /// The config file the problem is in.
    public let file: String
    /// The dotted key (`tftp.route[2].script`), or nil for a problem with the whole file.
    public let key: String?
    /// What is wrong and, where it helps, what to write instead.
    public let problem: String

    public init(file: String, key: String?, problem: String) {
        self.file = file
        self.key = key
        self.problem = problem
    }

    public var description: String {
        if let key {
            return "\(file): \(key): \(problem)"
        }
        return "\(file): \(problem)"
    }
}
