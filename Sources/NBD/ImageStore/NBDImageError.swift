/// An image file cannot be opened or mapped.
public struct NBDImageError: Error, CustomStringConvertible, Sendable {
    /// The image path.
    public let path: String
    /// What went wrong and what to do about it.
    public let problem: String

    public var description: String { "\(path): \(problem)" }
}
