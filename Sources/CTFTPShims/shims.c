#define _GNU_SOURCE
#include "CTFTPShims.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

enum { control_size = 128, batch_limit = 64 };

int ctftp_enable_packet_info(int fd, int family) {
    int on = 1;
    if (family == AF_INET6) {
        return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
    }
    return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
}

/// Fills `datagram->local` from the packet-info control message, if there is one.
static void read_packet_info(struct msghdr *message, ctftp_datagram *datagram) {
    datagram->has_local = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(message); c != NULL; c = CMSG_NXTHDR(message, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
            struct in_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof info);
            struct sockaddr_in *local = (struct sockaddr_in *)&datagram->local;
            memset(local, 0, sizeof *local);
            local->sin_family = AF_INET;
            // The local address the kernel would answer from: the destination for unicast, an address of the
            // interface for a broadcast.
            local->sin_addr = info.ipi_spec_dst.s_addr != 0 ? info.ipi_spec_dst : info.ipi_addr;
            datagram->interface_index = info.ipi_ifindex;
            datagram->has_local = 1;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof info);
            struct sockaddr_in6 *local = (struct sockaddr_in6 *)&datagram->local;
            memset(local, 0, sizeof *local);
            local->sin6_family = AF_INET6;
            local->sin6_addr = info.ipi6_addr;
            // A link-local address only means something with its interface.
            if (IN6_IS_ADDR_LINKLOCAL(&info.ipi6_addr)) local->sin6_scope_id = info.ipi6_ifindex;
            datagram->interface_index = (int)info.ipi6_ifindex;
            datagram->has_local = 1;
        }
    }
}

int ctftp_receive_batch(int fd, unsigned char *buffers, size_t slot, ctftp_datagram *datagrams, int count) {
    if (count > batch_limit) count = batch_limit;
    struct mmsghdr messages[batch_limit];
    struct iovec vectors[batch_limit];
    _Alignas(struct cmsghdr) unsigned char control[batch_limit][control_size];
    memset(messages, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        vectors[i].iov_base = buffers + (size_t)i * slot;
        vectors[i].iov_len = slot;
        messages[i].msg_hdr.msg_name = &datagrams[i].peer;
        messages[i].msg_hdr.msg_namelen = sizeof datagrams[i].peer;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_control = control[i];
        messages[i].msg_hdr.msg_controllen = control_size;
    }
    int received;
    do {
        received = recvmmsg(fd, messages, (unsigned)count, MSG_DONTWAIT | MSG_TRUNC, NULL);
    } while (received < 0 && errno == EINTR);
    if (received < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    for (int i = 0; i < received; i++) {
        datagrams[i].peer_length = messages[i].msg_hdr.msg_namelen;
        datagrams[i].length = messages[i].msg_len;
        if (messages[i].msg_hdr.msg_flags & MSG_TRUNC) datagrams[i].length = slot + 1;
        read_packet_info(&messages[i].msg_hdr, &datagrams[i]);
    }
    return received;
}

ssize_t ctftp_send_segmented(
    int fd, const void *data, size_t length, uint16_t segment, const struct sockaddr *destination,
    socklen_t destination_length) {
    struct iovec vector = {.iov_base = (void *)data, .iov_len = length};
    union {
        unsigned char bytes[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = {
        .msg_name = (void *)destination,
        .msg_namelen = destination_length,
        .msg_iov = &vector,
        .msg_iovlen = 1,
        .msg_control = control.bytes,
        .msg_controllen = sizeof control.bytes,
    };
    struct cmsghdr *c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    memcpy(CMSG_DATA(c), &segment, sizeof segment);
    ssize_t sent;
    do {
        sent = sendmsg(fd, &message, 0);
    } while (sent < 0 && errno == EINTR);
    return sent;
}

void ctftp_name_this_thread(const char *name) {
    char short_name[16];
    strncpy(short_name, name, sizeof short_name - 1);
    short_name[sizeof short_name - 1] = 0;
    pthread_setname_np(pthread_self(), short_name);
}

int ctftp_release_free_memory(void) {
    return malloc_trim(0);
}
