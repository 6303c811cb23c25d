// linkshaper: a delayed, jittered, reordering link without netem (this kernel has no sch_netem).
//
// It holds every IPv4 and IPv6 packet that arrives on one interface of the network namespace it runs in for a delay,
// then lets it go on. The packets reach it through NFQUEUE (a mangle PREROUTING rule it adds at start and removes at
// exit); each one is held in a timer heap by its release time and accepted by its packet id when that time comes, so
// any number are held at once and leave in release order, not arrival order (NFQUEUE takes verdicts in any order).
// Holding on arrival, not on the sender's OUTPUT, matters: a veth orphans a packet as it crosses, so a held packet
// costs the sender's socket nothing, as on a real wire (held at OUTPUT it would count against TCP's small-queue limit
// and the socket's send buffer, and throttle TCP far below what the delay alone does).
//
//   linkshaper --dev DEV [--queue N] [--delay MS] [--jitter MS] [--keep-order]
//              [--reorder PERCENT] [--reorder-extra MS] [--seed N]
//
//   --delay MS          every packet is held MS (a fraction is fine: 0.5)
//   --jitter MS         ... plus a uniform amount in [-MS, +MS] (at least 0 in all): netem's "delay D J", which also
//                       reorders packets whose delays cross
//   --keep-order        jitter without reordering: no packet leaves before one that arrived earlier (a FIFO link)
//   --reorder PERCENT   that share of packets is held --reorder-extra MS longer (default: the delay, at least 1 ms),
//                       so the packets behind it overtake it
//   --seed N            the random sequence (default: from the clock); printed at exit to replay a run
//   --queue N           the NFQUEUE number (default 0); one per shaper in a namespace
//
// It prints "linkshaper ready ..." once the rule is in, and at exit (SIGTERM or SIGINT) removes the rule, lets every
// held packet go at once (counted as released_early when its time had not come), and prints one logfmt line of
// figures: packets held, the most held at once, how many were held longer (--reorder) and how many left out of order
// (after a packet that arrived later: --reorder, and jitter wider than the gaps between packets), the delays measured
// between arrival and release of the packets let go on time, and the kernel's own drop counts for the queue.
// SIGUSR1 prints the same line at any time. Run it as root inside the namespace: ip netns exec NS linkshaper ...
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// The kernel's queue holds at most this many packets (its default, 1024, is one 50 ms window of a fast TCP flow).
#define QUEUE_MAXLEN 262144
// Verdicts sent in one sendmsg when many packets fall due together.
#define VERDICT_BATCH 256

struct options {
    const char *dev;
    unsigned queue;
    double delay_ms, jitter_ms, reorder_percent, reorder_extra_ms;
    int keep_order;
    unsigned long long seed;
};

struct held {
    uint64_t release_ns;  // when it may go
    uint64_t arrival_ns;
    uint64_t sequence;  // arrival order: equal release times leave in it
    uint32_t id;  // the kernel's packet id, for the verdict
};

// A binary min-heap of held packets by (release, sequence).
static struct held *heap;
static size_t heap_count, heap_capacity;

struct figures {
    unsigned long long held, released, held_longer, out_of_order, max_held, verdict_errors, receive_overruns;
    // Let go at exit before their time: counted apart, so the delay figures hold only what the link really did.
    unsigned long long released_early;
    unsigned long long delay_min_ns, delay_max_ns, delay_sum_ns;
};
static struct figures figures = {.delay_min_ns = UINT64_MAX};

static volatile sig_atomic_t stopping, report_requested;

static void die(const char *what) {
    fprintf(stderr, "linkshaper: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// xorshift64*: reproducible from --seed, and cheap per packet.
static uint64_t random_state;
static double random_unit(void) {
    random_state ^= random_state >> 12;
    random_state ^= random_state << 25;
    random_state ^= random_state >> 27;
    return (double)((random_state * 2685821657736338717ull) >> 11) / (double)(1ull << 53);
}

static int earlier(const struct held *a, const struct held *b) {
    return a->release_ns < b->release_ns || (a->release_ns == b->release_ns && a->sequence < b->sequence);
}

static void heap_push(struct held item) {
    if (heap_count == heap_capacity) {
        heap_capacity = heap_capacity ? heap_capacity * 2 : 4096;
        heap = realloc(heap, heap_capacity * sizeof *heap);
        if (!heap) die("realloc");
    }
    size_t i = heap_count++;
    while (i > 0 && earlier(&item, &heap[(i - 1) / 2])) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = item;
}

static struct held heap_pop(void) {
    struct held top = heap[0], last = heap[--heap_count];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= heap_count) break;
        if (child + 1 < heap_count && earlier(&heap[child + 1], &heap[child])) child++;
        if (!earlier(&heap[child], &last)) break;
        heap[i] = heap[child];
        i = child;
    }
    if (heap_count) heap[i] = last;
    return top;
}

// ---------------------------------------------------------------------------------------------- netlink

static int sock;

static void put_attribute(char *buffer, size_t *length, uint16_t type, const void *data, uint16_t size) {
    struct nlattr *attribute = (struct nlattr *)(buffer + *length);
    attribute->nla_type = type;
    attribute->nla_len = NLA_HDRLEN + size;
    memcpy(buffer + *length + NLA_HDRLEN, data, size);
    *length += NLA_ALIGN(attribute->nla_len);
}

// Starts a queue message in `buffer`; returns its header for put_attribute and the final length.
static struct nlmsghdr *begin_message(char *buffer, size_t *length, uint16_t type, uint16_t flags, unsigned queue) {
    struct nlmsghdr *header = (struct nlmsghdr *)(buffer + *length);
    memset(header, 0, NLMSG_HDRLEN + sizeof(struct nfgenmsg));
    header->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
    header->nlmsg_flags = NLM_F_REQUEST | flags;
    struct nfgenmsg *message = NLMSG_DATA(header);
    message->nfgen_family = AF_UNSPEC;
    message->version = NFNETLINK_V0;
    message->res_id = htons(queue);
    *length += NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
    return header;
}

static void send_all(const char *buffer, size_t length) {
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    while (sendto(sock, buffer, length, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        if (errno != EINTR) die("sendto netlink");
    }
}

// Sends one configuration message and waits for the kernel's acknowledgement.
static void configure(unsigned queue, void (*fill)(char *, size_t *)) {
    char buffer[256] __attribute__((aligned(4))) = {0};
    size_t length = 0;
    struct nlmsghdr *header = begin_message(buffer, &length, NFQNL_MSG_CONFIG, NLM_F_ACK, queue);
    fill(buffer, &length);
    header->nlmsg_len = length;
    send_all(buffer, length);
    char reply[4096] __attribute__((aligned(4)));
    for (int attempt = 0; attempt < 100; attempt++) {
        int got = (int)recv(sock, reply, sizeof reply, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) die("recv netlink acknowledgement");
        for (struct nlmsghdr *m = (struct nlmsghdr *)reply; NLMSG_OK(m, got); m = NLMSG_NEXT(m, got)) {
            if (m->nlmsg_type != NLMSG_ERROR) continue;
            int error = ((struct nlmsgerr *)NLMSG_DATA(m))->error;
            if (error == 0) return;
            errno = -error;
            die("configuring the queue (is another program bound to this --queue?)");
        }
    }
    fprintf(stderr, "linkshaper: no acknowledgement from the kernel for the queue configuration\n");
    exit(1);
}

static void fill_bind(char *buffer, size_t *length) {
    struct nfqnl_msg_config_cmd command = {.command = NFQNL_CFG_CMD_BIND, .pf = htons(AF_INET)};
    put_attribute(buffer, length, NFQA_CFG_CMD, &command, sizeof command);
}

// Metadata only (the verdict needs the id, nothing else) and a long queue. A GSO packet (a TCP burst, a TFTP window sent
// as one UDP GSO send) is held whole only when every packet gets the same delay: the same as holding each of its
// segments, for far fewer packets. With jitter or reordering the kernel cuts it into the datagrams that a wire carries,
// so each gets its own delay.
static int whole_gso;
static void fill_parameters(char *buffer, size_t *length) {
    struct nfqnl_msg_config_params parameters = {.copy_range = htonl(0), .copy_mode = NFQNL_COPY_META};
    put_attribute(buffer, length, NFQA_CFG_PARAMS, &parameters, sizeof parameters);
    uint32_t maxlen = htonl(QUEUE_MAXLEN), mask = htonl(NFQA_CFG_F_GSO), flags = htonl(whole_gso ? NFQA_CFG_F_GSO : 0);
    put_attribute(buffer, length, NFQA_CFG_QUEUE_MAXLEN, &maxlen, sizeof maxlen);
    put_attribute(buffer, length, NFQA_CFG_MASK, &mask, sizeof mask);
    put_attribute(buffer, length, NFQA_CFG_FLAGS, &flags, sizeof flags);
}

static unsigned queue_number;
// The latest arrival released so far: a packet released after it left out of order.
static uint64_t latest_released_sequence;
static int released_any;
static char verdicts[VERDICT_BATCH * 64] __attribute__((aligned(4)));
static size_t verdicts_length;

static void flush_verdicts(void) {
    if (verdicts_length) send_all(verdicts, verdicts_length);
    verdicts_length = 0;
}

static void release(struct held item, uint64_t now) {
    if (verdicts_length + 64 > sizeof verdicts) flush_verdicts();
    struct nlmsghdr *header = begin_message(verdicts, &verdicts_length, NFQNL_MSG_VERDICT, 0, queue_number);
    struct nfqnl_msg_verdict_hdr verdict = {.verdict = htonl(NF_ACCEPT), .id = htonl(item.id)};
    put_attribute(verdicts, &verdicts_length, NFQA_VERDICT_HDR, &verdict, sizeof verdict);
    header->nlmsg_len = (uint32_t)((char *)verdicts + verdicts_length - (char *)header);
    if (released_any && item.sequence < latest_released_sequence) figures.out_of_order++;
    if (!released_any || item.sequence > latest_released_sequence) latest_released_sequence = item.sequence;
    released_any = 1;
    figures.released++;
    if (item.release_ns > now) {
        figures.released_early++;
        return;
    }
    uint64_t delay = now - item.arrival_ns;
    figures.delay_sum_ns += delay;
    if (delay < figures.delay_min_ns) figures.delay_min_ns = delay;
    if (delay > figures.delay_max_ns) figures.delay_max_ns = delay;
}

// ---------------------------------------------------------------------------------------------- shaping

static struct options options;
static uint64_t next_sequence, last_release_ns;

static uint64_t ms_to_ns(double ms) { return ms <= 0 ? 0 : (uint64_t)(ms * 1e6 + 0.5); }

static void hold(uint32_t id, uint64_t now) {
    double delay = options.delay_ms;
    if (options.jitter_ms > 0) delay += (2 * random_unit() - 1) * options.jitter_ms;
    if (options.reorder_percent > 0 && random_unit() * 100 < options.reorder_percent) {
        delay += options.reorder_extra_ms;
        figures.held_longer++;
    }
    uint64_t release_ns = now + ms_to_ns(delay);
    if (options.keep_order && release_ns < last_release_ns) release_ns = last_release_ns;
    if (release_ns > last_release_ns) last_release_ns = release_ns;
    heap_push((struct held){.release_ns = release_ns, .arrival_ns = now, .sequence = next_sequence++, .id = id});
    figures.held++;
    if (heap_count > figures.max_held) figures.max_held = heap_count;
}

static void receive_packets(void) {
    static char buffer[1 << 16] __attribute__((aligned(4)));
    for (;;) {
        int got = (int)recv(sock, buffer, sizeof buffer, MSG_DONTWAIT);
        if (got < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            // The socket's buffer overflowed: the kernel dropped what did not fit (its queue_dropped says how many).
            if (errno == ENOBUFS) {
                figures.receive_overruns++;
                continue;
            }
            die("recv netlink");
        }
        uint64_t now = now_ns();
        for (struct nlmsghdr *m = (struct nlmsghdr *)buffer; NLMSG_OK(m, got); m = NLMSG_NEXT(m, got)) {
            if (m->nlmsg_type == NLMSG_ERROR) {
                if (((struct nlmsgerr *)NLMSG_DATA(m))->error != 0) figures.verdict_errors++;
                continue;
            }
            if (m->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) continue;
            int left = (int)(m->nlmsg_len - NLMSG_SPACE(sizeof(struct nfgenmsg)));
            struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(m) + NLMSG_ALIGN(sizeof(struct nfgenmsg)));
            for (; left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left;
                 left -= NLA_ALIGN(a->nla_len), a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len))) {
                if ((a->nla_type & NLA_TYPE_MASK) != NFQA_PACKET_HDR) continue;
                struct nfqnl_msg_packet_hdr header;
                memcpy(&header, (char *)a + NLA_HDRLEN, sizeof header);
                hold(ntohl(header.packet_id), now);
                break;
            }
        }
    }
}

// The kernel's counters for this queue (/proc/net/netfilter/nfnetlink_queue, per namespace): packets it dropped
// because the queue was full, and because this socket's buffer was.
static void kernel_drops(unsigned long *queue_dropped, unsigned long *user_dropped) {
    *queue_dropped = *user_dropped = 0;
    FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
    if (!f) return;
    unsigned number, portid, waiting, mode, range;
    unsigned long qd, ud, sequence;
    while (fscanf(f, "%u %u %u %u %u %lu %lu %lu %*[^\n]", &number, &portid, &waiting, &mode, &range, &qd, &ud,
                  &sequence) == 8) {
        if (number == queue_number) *queue_dropped = qd, *user_dropped = ud;
    }
    fclose(f);
}

static void report(const char *event) {
    unsigned long queue_dropped, user_dropped;
    kernel_drops(&queue_dropped, &user_dropped);
    unsigned long long timed = figures.released - figures.released_early;
    double mean = timed ? (double)figures.delay_sum_ns / (double)timed / 1e6 : 0;
    printf("linkshaper %s dev=%s queue=%u seed=%llu held=%llu released=%llu released_early=%llu holding=%zu "
           "max_held=%llu held_longer=%llu out_of_order=%llu delay_min_ms=%.3f delay_mean_ms=%.3f delay_max_ms=%.3f "
           "queue_dropped=%lu user_dropped=%lu verdict_errors=%llu receive_overruns=%llu\n",
           event, options.dev, queue_number, options.seed, figures.held, figures.released, figures.released_early,
           heap_count, figures.max_held, figures.held_longer, figures.out_of_order,
           timed ? (double)figures.delay_min_ns / 1e6 : 0, mean, (double)figures.delay_max_ns / 1e6,
           queue_dropped, user_dropped, figures.verdict_errors, figures.receive_overruns);
    fflush(stdout);
}

// ---------------------------------------------------------------------------------------------- the rule

// iptables or ip6tables, -I or -D, our rule: mangle PREROUTING (before the filter table, whose rules a test's loss
// faults live in: an accepted packet goes on to them).
static int rule(const char *tool, const char *action) {
    char queue[16];
    snprintf(queue, sizeof queue, "%u", queue_number);
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        execlp(tool, tool, "-w", "5", "-t", "mangle", action, "PREROUTING", "-i", options.dev, "-j", "NFQUEUE",
               "--queue-num", queue, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) die("waitpid");
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void on_signal(int number) {
    if (number == SIGUSR1)
        report_requested = 1;
    else
        stopping = 1;
}

static void usage(void) {
    fprintf(stderr, "usage: linkshaper --dev DEV [--queue N] [--delay MS] [--jitter MS] [--keep-order] "
                    "[--reorder PERCENT] [--reorder-extra MS] [--seed N]\n");
    exit(2);
}

static double number_argument(const char *name, const char *text) {
    char *end;
    double value = strtod(text, &end);
    if (*text == 0 || *end != 0 || value < 0) {
        fprintf(stderr, "linkshaper: %s takes a number of 0 or more, not '%s'\n", name, text);
        exit(2);
    }
    return value;
}

int main(int argc, char **argv) {
    static const struct option long_options[] = {
        {"dev", required_argument, 0, 'd'},          {"queue", required_argument, 0, 'q'},
        {"delay", required_argument, 0, 'l'},        {"jitter", required_argument, 0, 'j'},
        {"keep-order", no_argument, 0, 'k'},         {"reorder", required_argument, 0, 'r'},
        {"reorder-extra", required_argument, 0, 'x'}, {"seed", required_argument, 0, 's'},
        {0, 0, 0, 0},
    };
    options.seed = now_ns();
    options.reorder_extra_ms = -1;
    for (int c; (c = getopt_long(argc, argv, "", long_options, NULL)) != -1;) {
        switch (c) {
        case 'd': options.dev = optarg; break;
        case 'q': options.queue = (unsigned)number_argument("--queue", optarg); break;
        case 'l': options.delay_ms = number_argument("--delay", optarg); break;
        case 'j': options.jitter_ms = number_argument("--jitter", optarg); break;
        case 'k': options.keep_order = 1; break;
        case 'r': options.reorder_percent = number_argument("--reorder", optarg); break;
        case 'x': options.reorder_extra_ms = number_argument("--reorder-extra", optarg); break;
        case 's': options.seed = strtoull(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (!options.dev || optind != argc) usage();
    if (options.reorder_extra_ms < 0) options.reorder_extra_ms = options.delay_ms > 1 ? options.delay_ms : 1;
    queue_number = options.queue;
    whole_gso = options.jitter_ms == 0 && options.reorder_percent == 0;
    random_state = options.seed | 1;
    // Timers fire within a microsecond instead of the default 50 µs slack, and a busy machine (builds beside a
    // benchmark) does not make the link slower: the shaper is the wire. It sleeps between packets, so a real-time
    // priority costs others little (and the kernel's real-time throttling bounds it anyway).
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    struct sched_param priority = {.sched_priority = 10};
    int realtime = sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &priority) == 0;

    struct sigaction action = {.sa_handler = on_signal};
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGUSR1, &action, NULL);
    // A parent may hand down blocked signals (a test runner's threads do): SIGTERM must reach the handler.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (sock < 0) die("socket(NETLINK_NETFILTER) (run as root)");
    int buffer_size = 64 << 20, on = 1;
    if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof buffer_size) < 0)
        setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof buffer_size);
    setsockopt(sock, SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof on);
    struct sockaddr_nl local = {.nl_family = AF_NETLINK};
    if (bind(sock, (struct sockaddr *)&local, sizeof local) < 0) die("bind netlink");
    configure(queue_number, fill_bind);
    configure(queue_number, fill_parameters);

    // The rule goes in only once the queue is bound: a queued packet with nobody bound is dropped.
    if (!rule("iptables", "-I")) {
        fprintf(stderr, "linkshaper: iptables -t mangle -I PREROUTING -i %s -j NFQUEUE failed (is %s in this "
                        "namespace? run scripts/bootstrap for iptables)\n", options.dev, options.dev);
        return 1;
    }
    int ipv6 = rule("ip6tables", "-I");
    printf("linkshaper ready dev=%s queue=%u delay_ms=%.3f jitter_ms=%.3f keep_order=%d reorder_percent=%.3f "
           "reorder_extra_ms=%.3f whole_gso=%d ipv6=%d realtime=%d seed=%llu\n",
           options.dev, queue_number, options.delay_ms, options.jitter_ms, options.keep_order,
           options.reorder_percent, options.reorder_extra_ms, whole_gso, ipv6, realtime, options.seed);
    fflush(stdout);

    struct pollfd descriptor = {.fd = sock, .events = POLLIN};
    while (!stopping) {
        if (report_requested) {
            report_requested = 0;
            report("figures");
        }
        uint64_t now = now_ns();
        while (heap_count && heap[0].release_ns <= now) release(heap_pop(), now);
        flush_verdicts();
        struct timespec wait = {.tv_sec = 1}, *timeout = &wait;
        if (heap_count) {
            uint64_t left = heap[0].release_ns - now;
            wait.tv_sec = (time_t)(left / 1000000000u);
            wait.tv_nsec = (long)(left % 1000000000u);
        }
        int ready = ppoll(&descriptor, 1, timeout, NULL);
        if (ready < 0 && errno != EINTR) die("ppoll");
        if (ready > 0) receive_packets();
    }

    // The rule goes first, so nothing new is queued; then every held packet is let go, in release order.
    rule("iptables", "-D");
    if (ipv6) rule("ip6tables", "-D");
    receive_packets();
    uint64_t now = now_ns();
    while (heap_count) release(heap_pop(), now);
    flush_verdicts();
    report("done");
    return 0;
}
