#!/bin/bash
# Captures the lease files in this folder: dnsmasq, kea-dhcp4 (memfile) and ISC dhcpd each hand three
# addresses to busybox udhcpc in a pair of network namespaces, then the files they wrote are kept. Run as root.
T=$$
S=tbcs$T; C=tbcc$T
ip netns add $S; ip netns add $C
ip link add tbcs$T netns $S type veth peer name tbcc$T netns $C
ip -n $S addr add 10.61.0.1/24 dev tbcs$T
ip -n $S link set tbcs$T up; ip -n $C link set tbcc$T up
ip -n $S link set lo up; ip -n $C link set lo up
D=$(cd "$(dirname "$0")" && pwd)/capture; mkdir -p $D
take() { # mac
  ip -n $C link set tbcc$T down; ip -n $C link set tbcc$T address $1; ip -n $C link set tbcc$T up
  ip netns exec $C busybox udhcpc -f -q -n -t 5 -T 1 -i tbcc$T -s /bin/true -x hostname:host-${1: -2} 2>&1 | tail -2
}
renew() { # the same MAC again: Kea appends a row, dhcpd keeps its block
  ip -n $C link set tbcc$T down; ip -n $C link set tbcc$T address $1; ip -n $C link set tbcc$T up
  ip netns exec $C busybox udhcpc -f -q -n -t 5 -T 1 -i tbcc$T -s /bin/true 2>&1 | tail -2
}
# dnsmasq
rm -f $D/dnsmasq.leases
ip netns exec $S dnsmasq --conf-file=/dev/null --port=0 --interface=tbcs$T --bind-interfaces --dhcp-leasefile=$D/dnsmasq.leases --pid-file=$D/dnsmasq.pid --dhcp-range=10.61.0.100,10.61.0.150,255.255.255.0,1h
sleep 0.5
take 52:54:00:61:00:01; take 52:54:00:61:00:02; take 52:54:00:61:00:03
sleep 0.5; kill $(cat $D/dnsmasq.pid); sleep 0.3
# kea
rm -f $D/kea-leases4.csv*
cat > $D/kea.json <<J
{"Dhcp4": {"interfaces-config": {"interfaces": ["tbcs$T"], "dhcp-socket-type": "raw"},
 "lease-database": {"type": "memfile", "persist": true, "name": "$D/kea-leases4.csv", "lfc-interval": 0},
 "valid-lifetime": 3600,
 "subnet4": [{"id": 1, "subnet": "10.61.0.0/24", "pools": [{"pool": "10.61.0.100 - 10.61.0.150"}]}],
 "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "$D/kea.log"}], "severity": "INFO"}]}}
J
mkdir -p $D/keasock
KEA_PIDFILE_DIR=$D KEA_LOCKFILE_DIR=$D ip netns exec $S kea-dhcp4 -c $D/kea.json > $D/kea.out 2>&1 &
KP=$!
sleep 1.5
take 52:54:00:62:00:01; take 52:54:00:62:00:02; renew 52:54:00:62:00:02; take 52:54:00:62:00:03
sleep 0.5; kill $KP; sleep 0.5
# dhcpd
rm -f $D/dhcpd.leases; touch $D/dhcpd.leases
cat > $D/dhcpd.conf <<J
default-lease-time 3600; max-lease-time 7200; authoritative;
subnet 10.61.0.0 netmask 255.255.255.0 { range 10.61.0.100 10.61.0.150; }
J
ip netns exec $S dhcpd -4 -q -cf $D/dhcpd.conf -lf $D/dhcpd.leases -pf $D/dhcpd.pid tbcs$T
sleep 1
take 52:54:00:63:00:01; take 52:54:00:63:00:02; renew 52:54:00:63:00:02; take 52:54:00:63:00:03
sleep 0.5; kill $(cat $D/dhcpd.pid); sleep 0.3
ip netns del $S; ip netns del $C
