import NIOCore

/// Decodes each datagram that arrived on a listening socket and hands read requests to the ``TransferLauncher``,
/// on the engine that read it. Anything else that is not a request is refused with ERROR 4; an ERROR is ignored
/// (answering it could start two confused peers ping-ponging).
struct RequestDispatcher: Sendable {
    let launcher: TransferLauncher

    /// `local` is the address the datagram was sent to, port 0: where a transfer or a refusal answers from.
    func dispatch(
        _ datagram: ByteBuffer, client: SocketAddress, local: SocketAddress, interfaceIndex: Int?,
        engine: TransferEngine
    ) {
        // Never answer an ERROR, however garbled: two confused peers would ping-pong forever.
        if datagram.readableBytes >= 2, datagram.getInteger(at: datagram.readerIndex, as: UInt16.self) == 5 { return }
        let packet: TFTPPacket
        do {
            packet = try TFTPPacket(decoding: datagram)
        } catch {
            let refusal = TFTPRefusal(
                code: .illegalOperation, message: "Illegal TFTP operation: \(error)", outcome: "refused")
            launcher.refuse(refusal, record: TransferRecord(client: client, local: local, outcome: "refused"))
            return
        }
        switch packet {
        case .readRequest(let request):
            launcher.start(request, client: client, local: local, interfaceIndex: interfaceIndex, on: engine)
        case .writeRequest(let request):
            var record = TransferRecord(client: client, local: local, outcome: "refused")
            record.request = request
            launcher.refuse(
                TFTPRefusal(
                    code: .accessViolation,
                    message: "Access violation: this server is read-only, write requests are refused",
                    outcome: "refused"),
                record: record)
        case .error:
            return
        case .data, .ack, .optionAck:
            launcher.refuse(
                TFTPRefusal(
                    code: .illegalOperation, message: "Illegal TFTP operation: expected a read request",
                    outcome: "refused"),
                record: TransferRecord(client: client, local: local, outcome: "refused"))
        }
    }
}
