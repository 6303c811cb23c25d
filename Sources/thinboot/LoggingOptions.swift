import ArgumentParser
import Logging
import Thinboot

/// `--log-level` and `--log-format`, shared by every command that logs.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(name: .long, help: "logfmt (one key=value line per event) or json (one object per line, same keys).")
    var logFormat: LogFormat = .logfmt

    /// Sends every log line to stderr (one line per event, logfmt or JSON: see ``LineLogHandler``) and returns the
    /// root logger.
    func bootstrap(label: String) -> Logger {
        let level = logLevel
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
