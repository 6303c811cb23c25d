import NIOConcurrencyHelpers
import NIOCore

/// Counts the connections held, in total and per client IP, and keeps them for graceful shutdown. A connection past
/// either limit is still accepted, but only to answer 503 and close: a client then sees why, not a reset.
final class HTTPConnectionLimiter: Sendable {
    private struct State {
        var total = 0
        var perClient: [String: Int] = [:]
        var channels: [ObjectIdentifier: any Channel] = [:]
        var maxConnections: Int
        var maxConnectionsPerClient: Int
    }

    private let state: NIOLockedValueBox<State>

    init(maxConnections: Int, maxConnectionsPerClient: Int) {
        state = NIOLockedValueBox(
            State(maxConnections: maxConnections, maxConnectionsPerClient: maxConnectionsPerClient))
    }

    /// New limits for the connections that come next (a reload); the ones held already stay.
    func setLimits(maxConnections: Int, maxConnectionsPerClient: Int) {
        state.withLockedValue {
            $0.maxConnections = maxConnections
            $0.maxConnectionsPerClient = maxConnectionsPerClient
        }
    }

    /// Counts `channel` in if both limits allow it (it is counted out when it closes); false when it must be refused.
    func admit(_ channel: any Channel) -> Bool {
        let client = channel.remoteAddress?.ipAddress ?? "?"
        let admitted = state.withLockedValue { state in
            guard state.total < state.maxConnections,
                state.perClient[client, default: 0] < state.maxConnectionsPerClient
            else {
                return false
            }
            state.total += 1
            state.perClient[client, default: 0] += 1
            state.channels[ObjectIdentifier(channel)] = channel
            return true
        }
        guard admitted else { return false }
        channel.closeFuture.whenComplete { [self] _ in
            state.withLockedValue { state in
                state.total -= 1
                state.channels[ObjectIdentifier(channel)] = nil
                let left = state.perClient[client, default: 1] - 1
                state.perClient[client] = left > 0 ? left : nil
            }
        }
        return true
    }

    /// The connections held now.
    var openChannels: [any Channel] {
        state.withLockedValue { Array($0.channels.values) }
    }
}
