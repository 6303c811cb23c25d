/*
 * tftpload: a TFTP read-load generator for scripts/bench.
 *
 * N concurrent clients, each a nonblocking UDP socket driven by one epoll loop, run the TFTP read
 * protocol (RFC 1350) with options (RFC 2347 blksize/tsize, RFC 7440 windowsize). Every block is
 * checked to arrive in order; every transfer's size is checked against the expected size. It prints one
 * `key=value` line: transfers, failures, bytes, throughput, request rate, latency p50/p99 and its own CPU
 * time, so the bench can show the generator is not the bottleneck.
 *
 * Modes:
 *   one    one transfer (throughput)                           -n is forced to 1
 *   storm  N clients each fetch the file once, all at once
 *   rate   N clients fetch the file again and again for -T seconds (requests per second)
 *
 * In the path, every '@' is replaced by the client's index as two hex digits (client % 256), so 32 clients
 * can each ask for their own pxelinux.cfg/01-<mac>.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { OP_RRQ = 1, OP_DATA = 3, OP_ACK = 4, OP_ERROR = 5, OP_OACK = 6 };
enum { BATCH = 32 };
enum { ST_IDLE, ST_WAIT_FIRST, ST_DATA, ST_DONE };

typedef struct {
    int fd;
    int state;
    int index;
    struct sockaddr_in server;   /* the transfer's TID once known */
    int have_tid;
    uint16_t expect;             /* next block number expected */
    uint16_t last_acked;
    uint64_t blocks;             /* blocks accepted in this transfer */
    uint64_t bytes;
    int blksize;
    int windowsize;
    int in_window;               /* blocks accepted since the last ACK */
    long long tsize;             /* from the OACK, or -1 */
    double start;
    double last_rx;
    int retries;
    unsigned char last_sent[600];
    int last_sent_len;
} client_t;

static const char *opt_host = "127.0.0.1";
static int opt_port = 69;
static const char *opt_path = NULL;
static int opt_clients = 1;
static int opt_blksize = 0;      /* 0: do not ask */
static int opt_windowsize = 0;
static int opt_tsize = 0;
static long long opt_expect = -1;
static double opt_seconds = 10;  /* rate: duration; one/storm: hard time limit */
static double opt_timeout = 1.0; /* retransmit timeout */
static int opt_max_retries = 5;
static const char *opt_mode = "one";

static struct sockaddr_in listen_addr;
static int epfd;
static uint64_t n_ok, n_fail, n_bytes, n_retransmits, n_out_of_order, n_started;
static uint64_t fail_size, fail_order, fail_error, fail_timeout;
static double *latencies;
static size_t n_latencies, cap_latencies;
static int negotiated_blksize = -1, negotiated_windowsize = -1;
static char last_error[200];

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(2);
}

static void record_latency(double seconds) {
    if (n_latencies == cap_latencies) {
        cap_latencies = cap_latencies ? cap_latencies * 2 : 4096;
        latencies = realloc(latencies, cap_latencies * sizeof(double));
        if (!latencies) die("realloc");
    }
    latencies[n_latencies++] = seconds;
}

static void send_last(client_t *c) {
    struct sockaddr_in *to = c->have_tid ? &c->server : &listen_addr;
    if (sendto(c->fd, c->last_sent, c->last_sent_len, 0, (struct sockaddr *)to, sizeof(*to)) < 0 &&
        errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED)
        die("sendto");
}

static void send_ack(client_t *c, uint16_t block) {
    c->last_sent[0] = 0;
    c->last_sent[1] = OP_ACK;
    c->last_sent[2] = block >> 8;
    c->last_sent[3] = block & 0xff;
    c->last_sent_len = 4;
    c->last_acked = block;
    c->in_window = 0;
    send_last(c);
}

static int put_str(unsigned char *p, const char *s) {
    size_t n = strlen(s) + 1;
    memcpy(p, s, n);
    return (int)n;
}

static void start_request(client_t *c) {
    c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket");
    int rcvbuf = 1 << 20;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in local = {.sin_family = AF_INET};
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(c->fd, (struct sockaddr *)&local, sizeof(local)) < 0) die("bind");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");

    unsigned char *p = c->last_sent;
    int n = 0;
    p[n++] = 0;
    p[n++] = OP_RRQ;
    char path[400];
    snprintf(path, sizeof(path), "%s", opt_path);
    for (char *q = path; *q; q++) {
        if (*q == '@') {
            char hex[3];
            snprintf(hex, sizeof(hex), "%02x", c->index & 0xff);
            q[0] = hex[0];
            /* '@' becomes two characters: shift the rest right by one */
            memmove(q + 2, q + 1, strlen(q + 1) + 1);
            q[1] = hex[1];
            q++;
        }
    }
    n += put_str(p + n, path);
    n += put_str(p + n, "octet");
    char num[32];
    if (opt_blksize) {
        n += put_str(p + n, "blksize");
        snprintf(num, sizeof(num), "%d", opt_blksize);
        n += put_str(p + n, num);
    }
    if (opt_windowsize) {
        n += put_str(p + n, "windowsize");
        snprintf(num, sizeof(num), "%d", opt_windowsize);
        n += put_str(p + n, num);
    }
    if (opt_tsize) {
        n += put_str(p + n, "tsize");
        n += put_str(p + n, "0");
    }
    c->last_sent_len = n;
    c->have_tid = 0;
    c->expect = 1;
    c->last_acked = 0;
    c->blocks = 0;
    c->bytes = 0;
    c->blksize = 512;
    c->windowsize = 1;
    c->in_window = 0;
    c->tsize = -1;
    c->retries = 0;
    c->state = ST_WAIT_FIRST;
    c->start = c->last_rx = now();
    n_started++;
    send_last(c);
}

static void end_request(client_t *c, int ok) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->state = ST_DONE;
    if (ok) {
        n_ok++;
        n_bytes += c->bytes;
        record_latency(now() - c->start);
    } else {
        n_fail++;
    }
}

static void fail(client_t *c, uint64_t *counter, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    (*counter)++;
    end_request(c, 0);
}

/* Parses an OACK; returns 0 on success. */
static int parse_oack(client_t *c, const unsigned char *b, ssize_t len) {
    const unsigned char *p = b + 2, *end = b + len;
    while (p < end) {
        const unsigned char *name = p;
        const unsigned char *z = memchr(p, 0, end - p);
        if (!z) return -1;
        const unsigned char *value = z + 1;
        const unsigned char *z2 = memchr(value, 0, end - value);
        if (!z2) return -1;
        long long v = strtoll((const char *)value, NULL, 10);
        if (!strcasecmp((const char *)name, "blksize")) c->blksize = (int)v;
        else if (!strcasecmp((const char *)name, "windowsize")) c->windowsize = (int)v;
        else if (!strcasecmp((const char *)name, "tsize")) c->tsize = v;
        p = z2 + 1;
    }
    return 0;
}

static void on_datagram(client_t *c, unsigned char *b, ssize_t len, struct sockaddr_in *from) {
    if (len < 4) return;
    if (!c->have_tid) {
        c->server = *from;
        c->have_tid = 1;
    } else if (from->sin_port != c->server.sin_port) {
        return; /* a stray datagram from another TID: ignore */
    }
    c->last_rx = now();
    int op = (b[0] << 8) | b[1];
    if (op == OP_ERROR) {
        fail(c, &fail_error, "server ERROR %d: %.*s", (b[2] << 8) | b[3], (int)(len - 4), b + 4);
        return;
    }
    if (op == OP_OACK) {
        if (c->state != ST_WAIT_FIRST) return; /* duplicate OACK: our ACK 0 crossed it */
        if (parse_oack(c, b, len)) {
            fail(c, &fail_error, "malformed OACK");
            return;
        }
        if (negotiated_blksize < 0) {
            negotiated_blksize = c->blksize;
            negotiated_windowsize = c->windowsize;
        }
        c->state = ST_DATA;
        c->retries = 0;
        send_ack(c, 0);
        return;
    }
    if (op != OP_DATA) return;
    if (c->state == ST_WAIT_FIRST) {
        /* No OACK: the server accepted no option; RFC 1350 lockstep at 512 bytes. */
        c->state = ST_DATA;
        if (negotiated_blksize < 0) {
            negotiated_blksize = 512;
            negotiated_windowsize = 1;
        }
    }
    uint16_t block = (b[2] << 8) | b[3];
    ssize_t payload = len - 4;
    if (block != c->expect) {
        /* A block out of order or a duplicate. In a window, ACK the last in-order block so the server
         * restarts the window after it (RFC 7440 §4); in lockstep a duplicate needs no answer. */
        uint16_t previous = (uint16_t)(c->expect - 1);
        if (block != previous) n_out_of_order++;
        if (c->windowsize > 1 && c->in_window > 0) send_ack(c, previous);
        return;
    }
    if (payload > c->blksize) {
        fail(c, &fail_order, "block %u has %zd bytes, more than blksize %d", block, payload, c->blksize);
        return;
    }
    c->blocks++;
    c->bytes += payload;
    c->expect = block + 1; /* rolls over from 65535 to 0 */
    c->in_window++;
    c->retries = 0;
    if (payload < c->blksize) {
        send_ack(c, block);
        long long want = opt_expect >= 0 ? opt_expect : c->tsize;
        if (want >= 0 && (long long)c->bytes != want) {
            fail(c, &fail_size, "received %llu bytes, expected %lld", (unsigned long long)c->bytes, want);
            return;
        }
        end_request(c, 1);
        return;
    }
    if (c->in_window >= c->windowsize) send_ack(c, block);
}

static void check_timeouts(client_t *clients, double t) {
    for (int i = 0; i < opt_clients; i++) {
        client_t *c = &clients[i];
        if (c->state != ST_WAIT_FIRST && c->state != ST_DATA) continue;
        if (t - c->last_rx < opt_timeout) continue;
        if (++c->retries > opt_max_retries) {
            fail(c, &fail_timeout, "timed out after %d retries (block %u)", opt_max_retries, c->expect);
            continue;
        }
        n_retransmits++;
        c->last_rx = t;
        send_last(c);
    }
}

/* A transfer ended: in rate mode start the next one; returns 1 when the client has finished for good. */
static int after_done(client_t *c, int rate, double deadline) {
    if (rate && now() < deadline) {
        start_request(c);
        return 0;
    }
    c->state = ST_IDLE;
    return 1;
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(double p) {
    if (!n_latencies) return 0;
    size_t i = (size_t)(p * (n_latencies - 1) + 0.5);
    return latencies[i];
}

static void usage(void) {
    fprintf(stderr,
            "usage: tftpload -m one|storm|rate -f PATH [-s HOST] [-p PORT] [-n CLIENTS] [-b BLKSIZE]\n"
            "                [-w WINDOWSIZE] [-t] [-e EXPECTED_BYTES] [-T SECONDS] [-o TIMEOUT] [-r RETRIES]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int ch;
    while ((ch = getopt(argc, argv, "m:f:s:p:n:b:w:te:T:o:r:")) != -1) {
        switch (ch) {
        case 'm': opt_mode = optarg; break;
        case 'f': opt_path = optarg; break;
        case 's': opt_host = optarg; break;
        case 'p': opt_port = atoi(optarg); break;
        case 'n': opt_clients = atoi(optarg); break;
        case 'b': opt_blksize = atoi(optarg); break;
        case 'w': opt_windowsize = atoi(optarg); break;
        case 't': opt_tsize = 1; break;
        case 'e': opt_expect = atoll(optarg); break;
        case 'T': opt_seconds = atof(optarg); break;
        case 'o': opt_timeout = atof(optarg); break;
        case 'r': opt_max_retries = atoi(optarg); break;
        default: usage();
        }
    }
    if (!opt_path || strlen(opt_path) > 250 || opt_clients < 1) usage();
    int rate = !strcmp(opt_mode, "rate");
    if (!strcmp(opt_mode, "one")) opt_clients = 1;
    else if (!rate && strcmp(opt_mode, "storm")) usage();

    listen_addr.sin_family = AF_INET;
    listen_addr.sin_port = htons(opt_port);
    if (inet_pton(AF_INET, opt_host, &listen_addr.sin_addr) != 1) usage();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1");

    client_t *clients = calloc(opt_clients, sizeof(client_t));
    double t0 = now(), deadline = t0 + opt_seconds;
    for (int i = 0; i < opt_clients; i++) {
        clients[i].index = i;
        start_request(&clients[i]);
    }
    struct epoll_event events[256];
    static struct mmsghdr batch[BATCH];
    static struct iovec iovs[BATCH];
    static struct sockaddr_in froms[BATCH];
    static unsigned char bufs[BATCH][65536 + 4];
    for (int m = 0; m < BATCH; m++) {
        iovs[m].iov_base = bufs[m];
        iovs[m].iov_len = sizeof(bufs[m]);
        batch[m].msg_hdr.msg_iov = &iovs[m];
        batch[m].msg_hdr.msg_iovlen = 1;
        batch[m].msg_hdr.msg_name = &froms[m];
        batch[m].msg_hdr.msg_namelen = sizeof(froms[m]);
    }
    double last_scan = t0;
    int running = opt_clients;
    while (running > 0) {
        double t = now();
        if (t >= deadline) break;
        int n = epoll_wait(epfd, events, 256, 10);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int e = 0; e < n; e++) {
            client_t *c = events[e].data.ptr;
            /* Drain the socket in batches (one recvmmsg for a whole window); the client may finish, and
             * close it, part-way. A short batch means the socket is empty for now: epoll says when not. */
            for (int k = 0; k < 16 && (c->state == ST_WAIT_FIRST || c->state == ST_DATA); k++) {
                int got = recvmmsg(c->fd, batch, BATCH, MSG_DONTWAIT, NULL);
                if (got < 0) {
                    if (errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED) break;
                    die("recvmmsg");
                }
                for (int m = 0; m < got && (c->state == ST_WAIT_FIRST || c->state == ST_DATA); m++)
                    on_datagram(c, bufs[m], batch[m].msg_len, &froms[m]);
                if (got < BATCH) break;
            }
            if (c->state == ST_DONE) running -= after_done(c, rate, deadline);
        }
        t = now();
        if (t - last_scan >= 0.01) {
            last_scan = t;
            check_timeouts(clients, t);
            for (int i = 0; i < opt_clients; i++)
                if (clients[i].state == ST_DONE) running -= after_done(&clients[i], rate, deadline);
        }
    }
    double elapsed = now() - t0;
    /* In rate mode, transfers still running at the deadline are neither successes nor failures; in the
     * other modes, anything unfinished by the time limit failed. */
    uint64_t unfinished = 0;
    for (int i = 0; i < opt_clients; i++) {
        if (clients[i].state == ST_WAIT_FIRST || clients[i].state == ST_DATA) {
            unfinished++;
            close(clients[i].fd);
        }
    }
    if (!rate && unfinished) {
        n_fail += unfinished;
        fail_timeout += unfinished;
        snprintf(last_error, sizeof(last_error), "%llu transfers unfinished at the %.0f s limit",
                 (unsigned long long)unfinished, opt_seconds);
    }
    if (!rate && n_ok + n_fail > 0 && n_ok == (uint64_t)opt_clients && n_latencies) {
        /* one/storm: the run lasts until the slowest transfer ends */
        double slowest = 0;
        for (size_t i = 0; i < n_latencies; i++)
            if (latencies[i] > slowest) slowest = latencies[i];
        elapsed = slowest;
    }
    qsort(latencies, n_latencies, sizeof(double), compare_double);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu_user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    double cpu_sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("mode=%s clients=%d ok=%llu failed=%llu fail_size=%llu fail_order=%llu fail_error=%llu "
           "fail_timeout=%llu bytes=%llu seconds=%.4f MBps=%.2f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
           "retransmits=%llu out_of_order=%llu blksize=%d windowsize=%d gen_cpu_s=%.3f gen_user_s=%.3f gen_sys_s=%.3f\n",
           opt_mode, opt_clients, (unsigned long long)n_ok, (unsigned long long)n_fail,
           (unsigned long long)fail_size, (unsigned long long)fail_order, (unsigned long long)fail_error,
           (unsigned long long)fail_timeout, (unsigned long long)n_bytes, elapsed, n_bytes / elapsed / 1e6,
           n_ok / elapsed, percentile(0.5) * 1e3, percentile(0.99) * 1e3,
           n_latencies ? latencies[n_latencies - 1] * 1e3 : 0, (unsigned long long)n_retransmits,
           (unsigned long long)n_out_of_order, negotiated_blksize, negotiated_windowsize, cpu_user + cpu_sys, cpu_user, cpu_sys);
    if (n_fail) fprintf(stderr, "tftpload: %llu failed; last: %s\n", (unsigned long long)n_fail, last_error);
    return n_fail ? 1 : 0;
}
