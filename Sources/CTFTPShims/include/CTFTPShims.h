#ifndef CTFTP_SHIMS_H
#define CTFTP_SHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/types.h>

#pragma clang assume_nonnull begin

/// One datagram received by `ctftp_receive_batch`: who sent it, the local address it was sent to (from the
/// packet info) and the index of the interface it came in on.
typedef struct {
    struct sockaddr_storage peer;
    socklen_t peer_length;
    struct sockaddr_storage local;
    /// 1 when `local` and `interface_index` were filled from packet info.
    int has_local;
    int interface_index;
    /// Bytes of the datagram; more than the slot when it was cut short (MSG_TRUNC).
    size_t length;
} ctftp_datagram;

/// Asks the kernel to report each datagram's destination address and interface (IP_PKTINFO, IPV6_RECVPKTINFO).
/// Returns 0 or -1 with errno set.
int ctftp_enable_packet_info(int fd, int family);

/// Receives up to `count` datagrams without blocking (recvmmsg), datagram i into `buffers + i * slot`.
/// Returns how many arrived (0 when none was waiting), or -1 with errno set.
int ctftp_receive_batch(int fd, unsigned char *buffers, size_t slot, ctftp_datagram *datagrams, int count);

/// Sends `length` bytes as datagrams of `segment` bytes each (the last may be shorter) in one system call,
/// with UDP generic segmentation offload (UDP_SEGMENT). Returns the bytes sent or -1 with errno set.
ssize_t ctftp_send_segmented(
    int fd, const void *data, size_t length, uint16_t segment, const struct sockaddr *destination,
    socklen_t destination_length);

/// Names the calling thread (at most 15 bytes are kept), for `top -H` and profiles.
void ctftp_name_this_thread(const char *name);

/// Hands the memory glibc's allocator holds free, in every thread's arena, back to the kernel (malloc_trim(0)),
/// after a burst: without it the pages freed by the burst's threads stay resident. Returns 1 if any was released.
int ctftp_release_free_memory(void);

#pragma clang assume_nonnull end

#endif
