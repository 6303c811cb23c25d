#define _GNU_SOURCE
#include "CNBDShims.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

// The jump target of the guarded call running on this thread, or NULL outside one.
static _Thread_local sigjmp_buf *guard_target;
static struct sigaction previous_action;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static atomic_ulong caught_faults;

static void sigbus_handler(int signal_number, siginfo_t *info, void *context) {
    sigjmp_buf *target = guard_target;
    if (target != NULL) {
        guard_target = NULL;
        atomic_fetch_add(&caught_faults, 1);
        siglongjmp(*target, 1);
    }
    // Not ours: behave as if this handler were never installed.
    if (previous_action.sa_flags & SA_SIGINFO) {
        previous_action.sa_sigaction(signal_number, info, context);
        return;
    }
    if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN) {
        previous_action.sa_handler(signal_number);
        return;
    }
    signal(SIGBUS, SIG_DFL);
    raise(SIGBUS);
}

// SA_NODEFER keeps SIGBUS unblocked inside the handler, so the guarded calls can use sigsetjmp(…, 0) and skip
// saving the signal mask (a system call) on every read.
static void install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = sigbus_handler;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous_action);
}

// The way back from the handler. SA_NODEFER leaves SIGBUS unblocked in our own handler, but a wrapper around it
// (ThreadSanitizer's) may block it while it runs, and sigsetjmp(…, 0) does not restore the mask: a second fault on
// this thread would then kill the process. Unblocking here costs a system call only after a fault.
static int recover_from_fault(void) {
    sigset_t bus;
    sigemptyset(&bus);
    sigaddset(&bus, SIGBUS);
    pthread_sigmask(SIG_UNBLOCK, &bus, NULL);
    return -1;
}

void cnbd_install_sigbus_guard(void) { pthread_once(&install_once, install); }

int cnbd_guarded_touch(const void *start, size_t length) {
    if (length == 0) return 0;
    sigjmp_buf target;
    if (sigsetjmp(target, 0) != 0) return recover_from_fault();
    guard_target = &target;
    const volatile unsigned char *bytes = start;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char sink = 0;
    size_t offset = 0;
    // First byte, then each following page boundary, then the last byte.
    size_t misalignment = (size_t)start % page;
    while (offset < length) {
        sink ^= bytes[offset];
        offset = offset == 0 ? page - misalignment : offset + page;
    }
    sink ^= bytes[length - 1];
    guard_target = NULL;
    (void)sink;
    return 0;
}

int cnbd_guarded_copy(void *destination, const void *source, size_t length) {
    sigjmp_buf target;
    if (sigsetjmp(target, 0) != 0) return recover_from_fault();
    guard_target = &target;
    memcpy(destination, source, length);
    guard_target = NULL;
    return 0;
}

unsigned long cnbd_sigbus_count(void) { return atomic_load(&caught_faults); }

long long cnbd_seek_data(int fd, long long offset) { return lseek(fd, offset, SEEK_DATA); }

long long cnbd_seek_hole(int fd, long long offset) { return lseek(fd, offset, SEEK_HOLE); }

int cnbd_will_need(const void *start, size_t length) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t first = (uintptr_t)start & ~(uintptr_t)(page - 1);
    return madvise((void *)first, length + ((uintptr_t)start - first), MADV_WILLNEED);
}

int cnbd_punch_hole(int fd, long long offset, long long length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
}
