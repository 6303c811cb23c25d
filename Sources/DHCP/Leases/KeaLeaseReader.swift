/// Kea's memfile lease file (`kea-leases4.csv`): a header row naming the columns
/// (`address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,…`), then one row
/// per lease change, appended. The latest row for an address wins; a row whose `state` is not 0 (declined,
/// expired-reclaimed, released), whose `valid_lifetime` is 0 (a lease memfile deleted) or whose `expire` has
/// passed leaves the address to no client. Kea's lease file
/// cleanup rewrites the file under a new inode, which starts a new reader.
///
/// Stateful only in what it must carry between appended bytes: the columns of the header and the line number.
public struct KeaLeaseReader: Sendable {
    /// Longest row read; a longer one is skipped with a warning.
    public static let maxLineLength = 4096
    /// Kea's "infinite" `valid_lifetime`.
    static let infiniteLifetime: Int64 = 4_294_967_295

    private struct Columns: Sendable {
        var count: Int
        var address: Int
        var hardwareAddress: Int
        var validLifetime: Int?
        var expire: Int
        var state: Int?
    }

    private var columns: Columns?
    private var lineNumber = 0

    public init() {}

    /// The leases in the complete lines of `bytes`, which continue what earlier calls consumed. A last line without
    /// its newline is left unconsumed (Kea may be writing it); pass it again, with what follows, next time.
    public mutating func parse(_ bytes: [UInt8]) -> LeaseParse {
        var result = LeaseParse()
        var start = bytes.startIndex
        var consumed = 0
        while let end = bytes[start...].firstIndex(of: LeaseText.newline) {
            let line = bytes[start..<end]
            consumed += line.count + 1
            start = bytes.index(after: end)
            lineNumber += 1
            read(line, into: &result)
        }
        result.consumed = consumed
        return result
    }

    private mutating func read(_ rawLine: ArraySlice<UInt8>, into result: inout LeaseParse) {
        let line = rawLine.last == 0x0D ? Array(rawLine.dropLast()) : Array(rawLine)
        guard !line.allSatisfy(LeaseText.isSpace) else { return }
        guard line.count <= Self.maxLineLength else {
            result.warnings.append(LeaseWarning(line: lineNumber, problem: "longer than \(Self.maxLineLength) bytes"))
            return
        }
        let fields = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        if fields.first?.elementsEqual("address".utf8) == true {
            readHeader(fields, into: &result)
            return
        }
        guard let columns else {
            result.warnings.append(
                LeaseWarning(line: lineNumber, problem: "a row before the header row (`address,hwaddr,…`)"))
            return
        }
        guard fields.count == columns.count else {
            result.warnings.append(
                LeaseWarning(
                    line: lineNumber,
                    problem: "\(fields.count) columns where the header has \(columns.count): \(LeaseText.excerpt(line))"
                ))
            return
        }
        guard let address = LeaseText.address(fields[columns.address]) else {
            result.warnings.append(
                LeaseWarning(
                    line: lineNumber,
                    problem: "not an IPv4 address: \(LeaseText.excerpt(fields[columns.address]))"))
            return
        }
        let hardware = fields[columns.hardwareAddress]
        let mac = LeaseText.hardwareAddress(hardware)
        guard mac != nil || hardware.isEmpty else {
            result.warnings.append(
                LeaseWarning(line: lineNumber, problem: "not an Ethernet address: \(LeaseText.excerpt(hardware))"))
            return
        }
        guard let expire = LeaseText.integer(fields[columns.expire]) else {
            result.warnings.append(
                LeaseWarning(
                    line: lineNumber, problem: "expire is not a time: \(LeaseText.excerpt(fields[columns.expire]))"))
            return
        }
        let lifetime = columns.validLifetime.flatMap { LeaseText.integer(fields[$0]) }
        let state = columns.state.map { fields[$0] }
        guard state.map({ $0.isEmpty || LeaseText.integer($0) != nil }) ?? true else {
            result.warnings.append(LeaseWarning(line: lineNumber, problem: "state is not a number"))
            return
        }
        // A row with lifetime 0 is how memfile records a lease it deleted (reclaimed, released).
        let isBound = (state.flatMap { LeaseText.integer($0) }.map { $0 == 0 } ?? true) && lifetime != 0
        result.leases.append(
            Lease(
                address: address, hardwareAddress: mac, expires: lifetime == Self.infiniteLifetime ? nil : expire,
                isBound: isBound))
    }

    private mutating func readHeader(_ fields: [ArraySlice<UInt8>], into result: inout LeaseParse) {
        func index(_ name: String) -> Int? { fields.firstIndex { $0.elementsEqual(name.utf8) } }
        guard let address = index("address"), let hardwareAddress = index("hwaddr"), let expire = index("expire")
        else {
            columns = nil
            result.warnings.append(
                LeaseWarning(line: lineNumber, problem: "a header row without the address, hwaddr and expire columns"))
            return
        }
        columns = Columns(
            count: fields.count, address: address, hardwareAddress: hardwareAddress,
            validLifetime: index("valid_lifetime"), expire: expire, state: index("state"))
    }
}
