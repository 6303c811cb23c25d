import NIOCore
import Testing

@testable import TFTP

/// The engine's bookkeeping without sockets: deadlines come due in time order and never early; transfers are
/// found by descriptor; spare sockets are lent oldest first, by local address, never back to their last client.
@Suite struct EngineStructuresTests {
    private let start = ContinuousClock.now

    private func entry(_ milliseconds: Int, descriptor: CInt) -> DeadlineQueue.Entry {
        .init(deadline: start.advanced(by: .milliseconds(milliseconds)), descriptor: descriptor, serial: 1)
    }

    @Test func deadlinesComeDueInTimeOrderAndNeverEarly() {
        var queue = DeadlineQueue()
        // A fixed shuffle of 0..<200 ms with repeats, as transfers arm timers in no particular order.
        let offsets = (0..<400).map { ($0 * 7919) % 200 }
        for (index, offset) in offsets.enumerated() { queue.insert(entry(offset, descriptor: CInt(index))) }
        #expect(queue.earliest == start)

        // Nothing is due before its time.
        #expect(queue.popDue(now: start.advanced(by: .milliseconds(-1))) == nil)

        var popped: [ContinuousClock.Instant] = []
        let halfway = start.advanced(by: .milliseconds(100))
        while let due = queue.popDue(now: halfway) { popped.append(due.deadline) }
        #expect(popped.count == offsets.filter { $0 <= 100 }.count)
        #expect(popped == popped.sorted())
        #expect(popped.allSatisfy { $0 <= halfway })
        #expect(queue.earliest.map { $0 > halfway } == true)

        let end = start.advanced(by: .seconds(1))
        while let due = queue.popDue(now: end) { popped.append(due.deadline) }
        #expect(popped.count == offsets.count)
        #expect(popped == popped.sorted())
        #expect(queue.earliest == nil)
    }

    @Test func transfersAreFoundByDescriptorAndForgotten() throws {
        var table = TransferTable()
        #expect(table[5] == nil)
        #expect(table[-1] == nil)
        let transfers = (0..<3).map { index in
            ActiveTransfer(
                descriptor: CInt(-1 - index), local: try! .init(ipAddress: "127.0.0.1", port: 0),
                serial: UInt64(index),
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

    @Test func sparesAreLentOldestFirstByAddressAndNeverBackToTheirLastClient() throws {
        let loopback = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
        let other = try SocketAddress(ipAddress: "127.0.0.2", port: 0)
        let alice = try SocketAddress(ipAddress: "10.0.0.1", port: 2000).storage
        let alicesOtherPort = try SocketAddress(ipAddress: "10.0.0.1", port: 2001).storage
        let bob = try SocketAddress(ipAddress: "10.0.0.2", port: 2000).storage
        var spares = SpareSockets()
        var lent: [CInt?] = [spares.take(for: loopback, client: alice)]
        _ = spares.keep(10, local: loopback, lastClient: alice, now: start)
        _ = spares.keep(11, local: other, lastClient: bob, now: start.advanced(by: .milliseconds(1)))
        _ = spares.keep(12, local: loopback, lastClient: bob, now: start.advanced(by: .milliseconds(2)))
        // Alice never gets back the port she just used; from another port she is another client.
        lent.append(spares.take(for: loopback, client: alice))
        _ = spares.keep(12, local: loopback, lastClient: alice, now: start.advanced(by: .milliseconds(3)))
        lent.append(spares.take(for: loopback, client: alicesOtherPort))
        // Only a spare bound to the address asked for.
        lent.append(spares.take(for: other, client: alice))
        lent.append(spares.take(for: other, client: alice))
        #expect(lent == [nil, 12, 10, 11, nil])

        // Expiry closes the oldest first, and only once it is due.
        #expect(spares.nextExpiry == start.advanced(by: .milliseconds(3)) + SpareSockets.lifetime)
        let early = spares.popExpired(now: start.advanced(by: .milliseconds(2)) + SpareSockets.lifetime)
        let due = spares.popExpired(now: start + .seconds(60))
        #expect(early == nil && due == 12)
        #expect(spares.isEmpty)
    }

    @Test func sparesPastCapacityAreRefused() throws {
        let loopback = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
        var spares = SpareSockets()
        let kept = (0..<SpareSockets.capacity + 1).map { descriptor in
            spares.keep(CInt(descriptor), local: loopback, lastClient: loopback.storage, now: start)
        }
        #expect(kept == Array(repeating: true, count: SpareSockets.capacity) + [false])
        let closed = spares.removeAll()
        #expect(closed == (0..<CInt(SpareSockets.capacity)).map { $0 })
        #expect(spares.isEmpty)
    }
}
