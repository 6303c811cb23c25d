#!/usr/bin/env bash
# Captures dnsmasq's ProxyDHCP answers to PXE firmware, for the byte-for-byte offer tests: a namespace pair
# (tbdcap-srv, tbdcap-cli) on one veth, dnsmasq 2.90 in proxy mode in the first, a DISCOVER as BIOS PXE
# (option 93 = 0) and one as UEFI (option 93 = 7) broadcast from the second, then a port-4011 REQUEST;
# each answer's UDP payload is written as hex, one file per answer. Run as root; removes what it makes.
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)"
cleanup() {
    [ -n "${dnsmasq_pid:-}" ] && kill "$dnsmasq_pid" 2>/dev/null || true
    ip netns del tbdcap-srv 2>/dev/null || true
    ip netns del tbdcap-cli 2>/dev/null || true
}
trap cleanup EXIT
ip netns add tbdcap-srv
ip netns add tbdcap-cli
ip link add tbdcaps type veth peer name tbdcapc
ip link set tbdcaps netns tbdcap-srv
ip link set tbdcapc netns tbdcap-cli
ip -n tbdcap-srv addr add 10.98.0.1/24 dev tbdcaps
ip -n tbdcap-cli addr add 10.98.0.50/24 dev tbdcapc
ip -n tbdcap-srv link set tbdcaps up
ip -n tbdcap-cli link set tbdcapc up
ip -n tbdcap-srv link set lo up
ip -n tbdcap-cli link set lo up
ip -n tbdcap-cli route add default dev tbdcapc
ip netns exec tbdcap-srv dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface=tbdcaps \
    --bind-interfaces --dhcp-range=10.98.0.0,proxy,255.255.255.0 \
    --pxe-service=x86PC,"Thinboot BIOS",undionly.kpxe --pxe-service=X86-64_EFI,"Thinboot EFI",ipxe.efi \
    --log-dhcp --pid-file= >"$out/dnsmasq-proxy.log" 2>&1 &
dnsmasq_pid=$!
sleep 1
ip netns exec tbdcap-cli python3 - "$out" <<'PY'
import socket, struct, sys
out = sys.argv[1]
mac = bytes.fromhex("525400c0ffee")
uuid = bytes.fromhex("00" + "11223344556677889900aabbccddeeff")
def packet(xid, arch, message, vendor, extra=b"", ciaddr=bytes(4), flags=0x8000):
    fixed = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 4, flags,
                        ciaddr, bytes(4), bytes(4), bytes(4), mac + bytes(10), bytes(64), bytes(128))
    opts = bytes([53, 1, message])
    opts += bytes([55, 5, 1, 3, 43, 60, 67])
    opts += bytes([93, 2]) + struct.pack("!H", arch)
    opts += bytes([94, 3, 1, 2, 1])
    opts += bytes([97, len(uuid)]) + uuid
    opts += bytes([60, len(vendor)]) + vendor
    opts += extra
    return fixed + b"\x63\x82\x53\x63" + opts + b"\xff"
def ask(name, payload, dest, port, listen):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind(("0.0.0.0", listen))
    s.settimeout(3)
    s.sendto(payload, (dest, port))
    open(f"{out}/{name}-request.hex", "w").write(payload.hex() + "\n")
    data, peer = s.recvfrom(2048)
    open(f"{out}/{name}-answer.hex", "w").write(data.hex() + "\n")
    print(name, peer, len(data))
    s.close()
ask("dnsmasq-bios-discover", packet(0x11111111, 0, 1, b"PXEClient:Arch:00000:UNDI:002001"), "255.255.255.255", 67, 68)
ask("dnsmasq-efi-discover", packet(0x22222222, 7, 1, b"PXEClient:Arch:00007:UNDI:003000"), "255.255.255.255", 67, 68)
ask("dnsmasq-efi-request4011",
    packet(0x33333333, 7, 3, b"PXEClient:Arch:00007:UNDI:003000",
           bytes([43, 7, 71, 4, 0x80, 0x01, 0, 0, 255]), bytes([10, 98, 0, 50]), 0), "10.98.0.1", 4011, 4011)
PY
