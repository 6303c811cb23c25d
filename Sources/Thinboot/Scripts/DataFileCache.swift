import Files
import Foundation
import NIOConcurrencyHelpers
import Scripting

/// Inventory files (`thinboot.data`) parsed once and kept until the file changes: TOML becomes nested tables,
/// CSV a list of records keyed by the header row. Whether the file changed follows ``FileSighting``'s rule: a file
/// changed in the last few seconds is parsed again on every call until it settles.
final class DataFileCache: Sendable {
    private let entries = NIOLockedValueBox<[String: (sighting: FileSighting, value: ScriptValue)]>([:])

    /// Largest inventory file read (a data file is a list of clients, not an image).
    static let maximumBytes = 16 << 20

    /// The parsed value of `relativePath` in `directory`, from the cache when the file is unchanged.
    func value(_ relativePath: String, in directory: ConfinedDirectory) throws(ScriptFileError) -> ScriptValue {
        let file: OpenedFile
        let bytes: [UInt8]
        do throws(ConfinedDirectoryError) {
            file = try directory.open(relativePath)
        } catch {
            throw ScriptFileError(error.description)
        }
        if let cached = entries.withLockedValue({ $0[relativePath] }), cached.sighting.provesUnchanged(file.version) {
            return cached.value
        }
        let sighting = FileSighting(file.version)
        do throws(FileReadError) {
            bytes = try file.readWhole(limit: Self.maximumBytes)
        } catch {
            throw ScriptFileError(error.description)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let value: ScriptValue
        if relativePath.lowercased().hasSuffix(".csv") {
            value = try Self.parseCSV(text, name: relativePath)
        } else if relativePath.lowercased().hasSuffix(".toml") {
            value = try Self.parseTOML(text, name: relativePath)
        } else {
            throw ScriptFileError("\(relativePath): thinboot.data reads .toml and .csv files")
        }
        entries.withLockedValue { $0[relativePath] = (sighting, value) }
        return value
    }

    static func parseTOML(_ text: String, name: String) throws(ScriptFileError) -> ScriptValue {
        do {
            return convert(.table(try TOMLValue.parseDocument(text)))
        } catch {
            throw ScriptFileError(
                "\(name):\(error.line): \(error.description)" + (error.quotingHelps ? "; quote the key" : ""))
        }
    }

    /// Dates and times become their TOML text (`1979-05-27`, `07:32:00`, `1979-05-27T07:32:00Z`).
    private static func convert(_ value: TOMLValue) -> ScriptValue {
        switch value {
        case .table(let table): .record(table.mapValues(convert))
        case .array(let array): .list(array.map(convert))
        case .string(let string): .text(string)
        case .integer(let integer): .integer(integer)
        case .float(let number): .number(number)
        case .bool(let bool): .boolean(bool)
        case .date(let text), .time(let text), .dateTime(let text): .text(text)
        }
    }

    /// RFC 4180 CSV: a header row, then one record per row; quoted fields may hold commas, quotes and newlines.
    static func parseCSV(_ text: String, name: String) throws(ScriptFileError) -> ScriptValue {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var characters = text.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? characters.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    let next = characters.next()
                    if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.isEmpty: quoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n", "\r":
                row.append(field); field = ""
                if row != [""] { rows.append(row) }
                row = []
            default: field.append(character)
            }
        }
        if quoted { throw ScriptFileError("\(name): a quoted field is not closed") }
        row.append(field)
        if row != [""] { rows.append(row) }
        guard let header = rows.first else { return .list([]) }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces) }
        return .list(
            rows.dropFirst().map { values in
                var record: [String: ScriptValue] = [:]
                for (index, name) in names.enumerated() where index < values.count {
                    record[name] = .text(values[index])
                }
                return .record(record)
            })
    }
}
