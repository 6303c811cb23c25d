import Testing

@testable import TFTP

/// The engine's bookkeeping without sockets: deadlines come due in time order and never early; transfers are
/// found by descriptor.
@Suite struct EngineStructuresTests {
    private let start = ContinuousClock.now

    private func entry(_ milliseconds: Int, descriptor: CInt) -> DeadlineHeap.Entry {
        .init(deadline: start.advanced(by: .milliseconds(milliseconds)), descriptor: descriptor, serial: 1)
    }

    @Test func deadlinesComeDueInTimeOrderAndNeverEarly() {
        var heap = DeadlineHeap()
        // A fixed shuffle of 0..<200 ms with repeats, as transfers arm timers in no particular order.
        let offsets = (0..<400).map { ($0 * 7919) % 200 }
        for (index, offset) in offsets.enumerated() { heap.insert(entry(offset, descriptor: CInt(index))) }
        #expect(heap.earliest == start)

        // Nothing is due before its time.
        #expect(heap.popDue(now: start.advanced(by: .milliseconds(-1))) == nil)

        var popped: [ContinuousClock.Instant] = []
        let halfway = start.advanced(by: .milliseconds(100))
        while let due = heap.popDue(now: halfway) { popped.append(due.deadline) }
        #expect(popped.count == offsets.filter { $0 <= 100 }.count)
        #expect(popped == popped.sorted())
        #expect(popped.allSatisfy { $0 <= halfway })
        #expect(heap.earliest.map { $0 > halfway } == true)

        let end = start.advanced(by: .seconds(1))
        while let due = heap.popDue(now: end) { popped.append(due.deadline) }
        #expect(popped.count == offsets.count)
        #expect(popped == popped.sorted())
        #expect(heap.earliest == nil)
    }

    @Test func transfersAreFoundByDescriptorAndForgotten() throws {
        var table = TransferTable()
        #expect(table[5] == nil)
        #expect(table[-1] == nil)
        let transfers = (0..<3).map { index in
            ActiveTransfer(
                descriptor: CInt(-1 - index), serial: UInt64(index),
                machine: .init(
                    configuration: .init(
                        size: 0, blockSize: 512, windowSize: 1, timeout: .seconds(1), retries: 1, sendsOptionAck: false,
                        optionAckAnswersTransferSize: false)),
                client: try! .init(ipAddress: "127.0.0.1", port: 9), source: .bytes(.init()), optionAck: nil
            ) { _ in }
        }
        table[40] = transfers[0]
        table[7] = transfers[1]
        table[1000] = transfers[2]
        #expect(table[40] === transfers[0])
        #expect(table[7] === transfers[1])
        #expect(table[1000] === transfers[2])
        #expect(table[41] == nil)
        table[7] = nil
        #expect(table[7] == nil)
        let rest = table.removeAll()
        #expect(Set(rest.map(ObjectIdentifier.init)) == Set([transfers[0], transfers[2]].map(ObjectIdentifier.init)))
        #expect(table[40] == nil)
    }
}
