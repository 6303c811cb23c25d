#ifndef CDHCP_SHIMS_H
#define CDHCP_SHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#pragma clang assume_nonnull begin

/// Asks for each datagram's receiving interface and destination (IP_PKTINFO) and allows broadcast sends.
/// Returns 0 or -1 with errno set.
int cdhcp_prepare_socket(int fd);

/// Receives one IPv4 datagram (blocking), with the sender, the interface it came in on and the local address
/// that answers it — the receiving interface's address for a broadcast — (0 when unknown). Returns its length (cut to `capacity`), or -1 with errno set.
ssize_t cdhcp_receive(
    int fd, unsigned char *buffer, size_t capacity, uint32_t *peer_address, uint16_t *peer_port,
    int *interface_index, uint32_t *local_address);

/// Sends one datagram to `address:port` (network-order address, host-order port) out of `interface_index`
/// (0: by the routing table), from `source_address` (0: the interface's). Returns the bytes sent or -1.
ssize_t cdhcp_send(
    int fd, const unsigned char *data, size_t length, uint32_t address, uint16_t port, int interface_index,
    uint32_t source_address);

#pragma clang assume_nonnull end

#endif
