/// How ``LineLogHandler`` writes a line: `logfmt` for people and `grep` (the default), `json` for log shippers
/// (Loki, Elasticsearch) that parse one object per line. Both carry the same keys.
public enum LogFormat: String, CaseIterable, Sendable {
    case logfmt
    case json
}
