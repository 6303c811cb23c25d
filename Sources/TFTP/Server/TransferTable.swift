#if canImport(Glibc)
    import Glibc
#endif

/// An engine's transfers by socket descriptor. Descriptors are small integers the kernel hands out lowest first,
/// so an array indexed by them finds a transfer on every datagram without hashing.
struct TransferTable {
    private var slots: [ActiveTransfer?] = []
    /// Transfers in the table.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    subscript(descriptor: CInt) -> ActiveTransfer? {
        get {
            let index = Int(descriptor)
            return index >= 0 && index < slots.count ? slots[index] : nil
        }
        set {
            let index = Int(descriptor)
            guard index >= 0 else { return }
            if index >= slots.count {
                guard newValue != nil else { return }
                slots.append(contentsOf: repeatElement(nil, count: index + 1 - slots.count))
            }
            count += (newValue != nil ? 1 : 0) - (slots[index] != nil ? 1 : 0)
            slots[index] = newValue
        }
    }

    /// Empties the table, returning what was in it.
    mutating func removeAll() -> [ActiveTransfer] {
        defer {
            slots = []
            count = 0
        }
        return slots.compactMap { $0 }
    }
}
