#define _GNU_SOURCE
#include "CDHCPShims.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

int cdhcp_prepare_socket(int fd) {
    int on = 1;
    if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) != 0) return -1;
    return setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
}

ssize_t cdhcp_receive(
    int fd, unsigned char *buffer, size_t capacity, uint32_t *peer_address, uint16_t *peer_port,
    int *interface_index, uint32_t *local_address) {
    struct sockaddr_in peer;
    memset(&peer, 0, sizeof(peer));
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(struct in_pktinfo))];
    } control;
    struct iovec vector = {.iov_base = buffer, .iov_len = capacity};
    struct msghdr message = {
        .msg_name = &peer,
        .msg_namelen = sizeof(peer),
        .msg_iov = &vector,
        .msg_iovlen = 1,
        .msg_control = control.bytes,
        .msg_controllen = sizeof(control.bytes),
    };
    ssize_t received = recvmsg(fd, &message, 0);
    if (received < 0) return -1;
    *peer_address = peer.sin_addr.s_addr;
    *peer_port = ntohs(peer.sin_port);
    *interface_index = 0;
    *local_address = 0;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level == IPPROTO_IP && header->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo info;
            memcpy(&info, CMSG_DATA(header), sizeof(info));
            *interface_index = info.ipi_ifindex;
            *local_address = info.ipi_spec_dst.s_addr;
        }
    }
    return received > (ssize_t)capacity ? (ssize_t)capacity : received;
}

ssize_t cdhcp_send(
    int fd, const unsigned char *data, size_t length, uint32_t address, uint16_t port, int interface_index,
    uint32_t source_address) {
    struct sockaddr_in destination;
    memset(&destination, 0, sizeof(destination));
    destination.sin_family = AF_INET;
    destination.sin_addr.s_addr = address;
    destination.sin_port = htons(port);
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(struct in_pktinfo))];
    } control;
    memset(&control, 0, sizeof(control));
    struct iovec vector = {.iov_base = (void *)data, .iov_len = length};
    struct msghdr message = {
        .msg_name = &destination,
        .msg_namelen = sizeof(destination),
        .msg_iov = &vector,
        .msg_iovlen = 1,
    };
    if (interface_index != 0 || source_address != 0) {
        message.msg_control = control.bytes;
        message.msg_controllen = sizeof(control.bytes);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = IPPROTO_IP;
        header->cmsg_type = IP_PKTINFO;
        header->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo info;
        memset(&info, 0, sizeof(info));
        info.ipi_ifindex = interface_index;
        info.ipi_spec_dst.s_addr = source_address;
        memcpy(CMSG_DATA(header), &info, sizeof(info));
    }
    return sendmsg(fd, &message, 0);
}
