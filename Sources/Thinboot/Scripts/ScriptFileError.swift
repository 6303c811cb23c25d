/// A file a script asked for could not be used.
struct ScriptFileError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
