/// The flat encoding `thinboot_push_encoded` (CLuaShims) turns into Lua values inside one protected call, so
/// building a table never raises across a Swift frame. Little-endian: a tag byte, then
/// 0 nil · 1 false · 2 true · 3 int64 · 4 double · 5 u32 length + bytes · 6 u32 count + values ·
/// 7 u32 count + (u32 length + key bytes, value) pairs.
extension ScriptValue {
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    private func encode(into bytes: inout [UInt8]) {
        switch self {
        case .nil:
            bytes.append(0)
        case .boolean(let value):
            bytes.append(value ? 2 : 1)
        case .integer(let value):
            bytes.append(3)
            append(UInt64(bitPattern: value), to: &bytes)
        case .number(let value):
            bytes.append(4)
            append(value.bitPattern, to: &bytes)
        case .string(let value):
            bytes.append(5)
            appendString(value, to: &bytes)
        case .list(let values):
            bytes.append(6)
            append(UInt32(values.count), to: &bytes)
            for value in values { value.encode(into: &bytes) }
        case .record(let fields):
            bytes.append(7)
            append(UInt32(fields.count), to: &bytes)
            // Sorted so the same record always builds the same table (iteration order in scripts is stable).
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                appendString(Array(key.utf8), to: &bytes)
                value.encode(into: &bytes)
            }
        }
    }

    private func appendString(_ value: [UInt8], to bytes: inout [UInt8]) {
        append(UInt32(value.count), to: &bytes)
        bytes.append(contentsOf: value)
    }

    private func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
