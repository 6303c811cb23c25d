/// A command that ran but failed: ArgumentParser prints `Error: <description>` and exits non-zero, no usage text.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
