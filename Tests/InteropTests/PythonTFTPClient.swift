/// Python shared by the test programs that play many lockstep TFTP clients in one `poll` loop (``BootStorm``,
/// ``ReloadLoadClients``): put before each program's own text. A client object has `sock` (non-blocking), `peer`
/// (None until the server's first packet) and `done`.
enum PythonTFTPClient {
    static let prelude = #"""
        import struct

        def read_packet(client):
            """The client's next packet as (opcode, number, packet); None if nothing came, it is too short, the
            client is done, or it is from another peer than the first one heard (the transfer's port)."""
            try:
                packet, peer = client.sock.recvfrom(70000)
            except BlockingIOError:
                return None
            if client.done or len(packet) < 4:
                return None
            if client.peer is None:
                client.peer = peer
            elif peer != client.peer:
                return None
            opcode, number = struct.unpack("!HH", packet[:4])
            return opcode, number, packet

        def oack_options(packet):
            """An OACK's options, names lowercased."""
            parts = packet[2:].split(b"\0")
            return {parts[i].decode().lower(): parts[i + 1].decode() for i in range(0, len(parts) - 1, 2)}
        """#
}
