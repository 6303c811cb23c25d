/*
 * nbdload: an NBD read-load generator for scripts/bench.
 *
 * Opens N connections (fixed newstyle, NBD_OPT_GO, falling back to NBD_OPT_EXPORT_NAME), then drives them
 * all from one epoll loop with simple READ requests, several in flight per connection. Reply payloads are
 * discarded in the kernel (recv with MSG_TRUNC) so the generator costs little more than the headers; every
 * reply's magic, handle and error are checked. Prints one `key=value` line with its own CPU time.
 *
 * Modes:
 *   storm  every connection reads -S bytes sequentially from its own region (connection i starts at i*S,
 *          modulo the export size): a boot storm. Reports total throughput and per-connection p50/p99.
 *   hold   every connection reads one 4 KiB block (-S 0: none), then all stay open: prints "held=N" and waits until
 *          stdin closes or -T seconds pass (the bench measures the server's memory meanwhile).
 *
 * Export names: -x a,b,c gives connection i the name number i % count.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NBD_OPT_EXPORT_NAME 1
#define NBD_OPT_GO 7
#define NBD_REP_ACK 1
#define NBD_REP_INFO 3
#define NBD_REP_ERR_UNSUP 0x80000001u
#define NBD_INFO_EXPORT 0
#define NBD_FLAG_FIXED_NEWSTYLE 1
#define NBD_FLAG_NO_ZEROES 2
#define NBD_REQUEST_MAGIC 0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698u
#define NBD_CMD_READ 0
#define NBD_CMD_DISC 2
#define MAX_INFLIGHT 64

typedef struct {
    int fd;
    int index;
    uint64_t size;          /* export size */
    uint64_t start, next, end; /* this connection's region and the next offset to ask for */
    uint32_t length[MAX_INFLIGHT];
    int inflight;
    unsigned char header[16];
    int header_have;
    uint32_t payload_left;
    uint64_t bytes;
    double t_start;
    int done;
} conn_t;

static const char *opt_host = "127.0.0.1";
static int opt_port = 10809;
static char *opt_exports = "";
static int opt_conns = 1;
static uint64_t opt_bytes = 16 << 20;
static uint32_t opt_request = 128 << 10;
static int opt_queue = 4;
static double opt_seconds = 120;
static const char *opt_mode = "storm";

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, const char *detail) {
    fprintf(stderr, "nbdload: ");
    fprintf(stderr, fmt, detail);
    fprintf(stderr, "\n");
    exit(2);
}

static uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}
static uint32_t get32(const unsigned char *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static void put64(unsigned char *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = v & 0xff;
}
static void put32(unsigned char *p, uint32_t v) {
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static void read_full(int fd, void *buf, size_t n) {
    unsigned char *p = buf;
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0) die("handshake: server closed the connection or failed (%s)", r ? strerror(errno) : "EOF");
        p += r;
        n -= r;
    }
}

static void write_full(int fd, const void *buf, size_t n) {
    const unsigned char *p = buf;
    while (n) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                poll(&pfd, 1, 1000);
                continue;
            }
            die("send: %s", strerror(errno));
        }
        p += r;
        n -= r;
    }
}

static void send_option(int fd, uint32_t option, const unsigned char *data, uint32_t len) {
    unsigned char h[16];
    memcpy(h, "IHAVEOPT", 8);
    put32(h + 8, option);
    put32(h + 12, len);
    write_full(fd, h, 16);
    write_full(fd, data, len);
}

/* Connects and negotiates `name`; returns the export size. */
static uint64_t handshake(int fd, const char *name) {
    unsigned char b[4096 + 64];
    read_full(fd, b, 18);
    if (memcmp(b, "NBDMAGIC", 8) || memcmp(b + 8, "IHAVEOPT", 8)) die("handshake: not a fixed newstyle server%s", "");
    int server_flags = b[16] << 8 | b[17];
    uint32_t client_flags = NBD_FLAG_FIXED_NEWSTYLE | (server_flags & NBD_FLAG_NO_ZEROES);
    put32(b, client_flags);
    write_full(fd, b, 4);

    size_t name_len = strlen(name);
    unsigned char go[4096 + 8];
    put32(go, (uint32_t)name_len);
    memcpy(go + 4, name, name_len);
    go[4 + name_len] = 0;
    go[5 + name_len] = 0; /* no information requests: NBD_INFO_EXPORT comes anyway */
    send_option(fd, NBD_OPT_GO, go, (uint32_t)(name_len + 6));
    uint64_t size = 0;
    for (int replies = 0; replies < 64; replies++) {
        read_full(fd, b, 20);
        uint32_t type = get32(b + 12), len = get32(b + 16);
        if (len > 4096) die("handshake: option reply too long%s", "");
        read_full(fd, b, len);
        if (type == NBD_REP_INFO && len >= 12 && (b[0] << 8 | b[1]) == NBD_INFO_EXPORT) size = get64(b + 2);
        else if (type == NBD_REP_ACK) return size;
        else if (type == NBD_REP_ERR_UNSUP) {
            send_option(fd, NBD_OPT_EXPORT_NAME, (const unsigned char *)name, (uint32_t)name_len);
            size_t n = (client_flags & NBD_FLAG_NO_ZEROES) ? 10 : 134;
            read_full(fd, b, n);
            return get64(b);
        } else if (type & 0x80000000u) {
            char why[64];
            snprintf(why, sizeof(why), "0x%08x for export '%.20s'", type, name);
            die("handshake: NBD_OPT_GO failed with %s", why);
        }
    }
    die("handshake: too many option replies%s", "");
    return 0;
}

static int connect_one(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(opt_port)};
    inet_pton(AF_INET, opt_host, &a.sin_addr);
    for (int attempt = 0;; attempt++) {
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) break;
        if (attempt > 50 || (errno != ECONNREFUSED && errno != EAGAIN)) die("connect: %s", strerror(errno));
        usleep(20000); /* a forking server's backlog can briefly overflow */
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static void send_read(conn_t *c, uint64_t offset, uint32_t length) {
    unsigned char r[28];
    put32(r, NBD_REQUEST_MAGIC);
    r[4] = r[5] = 0;
    r[6] = 0;
    r[7] = NBD_CMD_READ;
    /* the handle is the slot: replies may come in any order */
    int slot = -1;
    for (int i = 0; i < MAX_INFLIGHT; i++)
        if (c->length[i] == 0) {
            slot = i;
            break;
        }
    c->length[slot] = length;
    put64(r + 8, (uint64_t)slot);
    put64(r + 16, offset);
    put32(r + 24, length);
    write_full(c->fd, r, 28);
    c->inflight++;
}

static void fill_queue(conn_t *c) {
    while (c->inflight < opt_queue && c->next < c->end) {
        uint64_t left = c->end - c->next;
        uint32_t len = left < opt_request ? (uint32_t)left : opt_request;
        send_read(c, c->next % c->size, len);
        c->next += len;
    }
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int ch, bytes_given = 0;
    while ((ch = getopt(argc, argv, "m:s:p:x:n:S:R:q:T:")) != -1) {
        switch (ch) {
        case 'm': opt_mode = optarg; break;
        case 's': opt_host = optarg; break;
        case 'p': opt_port = atoi(optarg); break;
        case 'x': opt_exports = optarg; break;
        case 'n': opt_conns = atoi(optarg); break;
        case 'S':
            opt_bytes = strtoull(optarg, NULL, 10);
            bytes_given = 1;
            break;
        case 'R': opt_request = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'q': opt_queue = atoi(optarg); break;
        case 'T': opt_seconds = atof(optarg); break;
        default:
            fprintf(stderr, "usage: nbdload -m storm|hold [-s HOST] [-p PORT] [-x EXPORT[,EXPORT...]] [-n CONNS]\n"
                            "               [-S BYTES_PER_CONN] [-R REQUEST_BYTES] [-q INFLIGHT] [-T SECONDS]\n");
            return 2;
        }
    }
    int hold = !strcmp(opt_mode, "hold");
    if (hold) {
        /* each connection reads one block (-S 0: none) */
        opt_bytes = bytes_given && opt_bytes == 0 ? 0 : 4096;
        opt_request = 4096;
    }
    if (opt_queue < 1 || opt_queue > MAX_INFLIGHT || opt_conns < 1) die("bad -q or -n%s", "");
    char *names[1024];
    int n_names = 0;
    for (char *s = strtok(opt_exports, ","); s && n_names < 1024; s = strtok(NULL, ",")) names[n_names++] = s;
    if (!n_names) names[n_names++] = "";

    conn_t *conns = calloc(opt_conns, sizeof(conn_t));
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    double t_handshake = now();
    for (int i = 0; i < opt_conns; i++) {
        conn_t *c = &conns[i];
        c->index = i;
        c->fd = connect_one();
        c->size = handshake(c->fd, names[i % n_names]);
        if (c->size < opt_request) die("export is smaller than one request%s", "");
        c->start = hold ? ((uint64_t)i * (4u << 20)) % c->size / 4096 * 4096 : ((uint64_t)i * opt_bytes) % c->size;
        c->next = c->start;
        c->end = c->start + opt_bytes;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    }
    double t0 = now(), deadline = t0 + opt_seconds;
    t_handshake = t0 - t_handshake;
    for (int i = 0; i < opt_conns; i++) {
        conns[i].t_start = t0;
        fill_queue(&conns[i]);
    }
    double *latencies = calloc(opt_conns, sizeof(double));
    int finished = 0, failed = 0;
    for (int i = 0; i < opt_conns; i++)
        if (conns[i].inflight == 0) { /* nothing to read (hold -S 0) */
            conns[i].done = 1;
            finished++;
        }
    uint64_t total = 0;
    struct epoll_event events[256];
    while (finished < opt_conns && now() < deadline) {
        int n = epoll_wait(epfd, events, 256, 100);
        for (int e = 0; e < n; e++) {
            conn_t *c = events[e].data.ptr;
            for (int k = 0; k < 64 && !c->done; k++) {
                ssize_t r;
                if (c->payload_left) {
                    /* discard the payload in the kernel: the generator must stay cheap */
                    r = recv(c->fd, NULL, c->payload_left, MSG_TRUNC | MSG_DONTWAIT);
                    if (r > 0) {
                        c->payload_left -= (uint32_t)r;
                        c->bytes += r;
                        total += r;
                    }
                } else {
                    r = recv(c->fd, c->header + c->header_have, 16 - c->header_have, MSG_DONTWAIT);
                    if (r > 0) {
                        c->header_have += (int)r;
                        if (c->header_have == 16) {
                            c->header_have = 0;
                            uint64_t slot = get64(c->header + 8);
                            if (get32(c->header) != NBD_SIMPLE_REPLY_MAGIC || slot >= MAX_INFLIGHT ||
                                !c->length[slot] || get32(c->header + 4) != 0) {
                                fprintf(stderr, "nbdload: connection %d: bad reply (magic %08x error %u)\n", c->index,
                                        get32(c->header), get32(c->header + 4));
                                failed++;
                                c->done = 1;
                                finished++;
                                break;
                            }
                            c->payload_left = c->length[slot];
                            c->length[slot] = 0;
                            c->inflight--;
                        }
                    }
                }
                if (r == 0) {
                    fprintf(stderr, "nbdload: connection %d closed by the server\n", c->index);
                    failed++;
                    c->done = 1;
                    finished++;
                    break;
                }
                if (r < 0) {
                    if (errno == EAGAIN || errno == EINTR) break;
                    die("recv: %s", strerror(errno));
                }
                if (!c->payload_left && !c->header_have) {
                    fill_queue(c);
                    if (c->inflight == 0 && c->next >= c->end) {
                        latencies[finished - failed] = now() - c->t_start;
                        c->done = 1;
                        finished++;
                    }
                }
            }
        }
    }
    double elapsed = now() - t0;
    int ok = finished - failed;
    failed += opt_conns - finished; /* unfinished at the time limit */
    qsort(latencies, ok, sizeof(double), compare_double);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    if (hold) {
        printf("held=%d failed=%d handshake_s=%.3f\n", ok, failed, t_handshake);
        fflush(stdout);
        /* stay connected until the bench closes our stdin, or the time limit */
        struct pollfd pfd = {.fd = 0, .events = POLLIN};
        double end = now() + opt_seconds;
        while (now() < end) {
            if (poll(&pfd, 1, 200) > 0) {
                char b[64];
                if (read(0, b, sizeof(b)) <= 0) break;
            }
        }
    } else {
        printf("mode=storm conns=%d ok=%d failed=%d bytes=%llu seconds=%.4f MBps=%.2f p50_s=%.4f p99_s=%.4f "
               "handshake_s=%.3f gen_cpu_s=%.3f\n",
               opt_conns, ok, failed, (unsigned long long)total, elapsed, total / elapsed / 1e6,
               ok ? latencies[(int)(0.5 * (ok - 1) + 0.5)] : 0, ok ? latencies[(int)(0.99 * (ok - 1) + 0.5)] : 0,
               t_handshake, cpu);
    }
    for (int i = 0; i < opt_conns; i++) {
        unsigned char r[28] = {0};
        put32(r, NBD_REQUEST_MAGIC);
        r[7] = NBD_CMD_DISC;
        send(conns[i].fd, r, 28, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(conns[i].fd);
    }
    return failed ? 1 : 0;
}
