#define _GNU_SOURCE
#include "CPrivilegeShims.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int capset_only(int cap) {
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2] = {{0}};
    data[cap / 32].effective = data[cap / 32].permitted = data[cap / 32].inheritable = 1u << (cap % 32);
    return (int)syscall(SYS_capset, &header, data);
}

uint64_t cpriv_effective_capabilities(void) {
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2] = {{0}};
    if (syscall(SYS_capget, &header, data) != 0) return 0;
    return (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
}

int cpriv_root_is_unreachable(void) {
    // The raw syscall changes this thread only, so a wrong answer cannot leave other threads as root.
    if (syscall(SYS_setresuid, 0, 0, 0) == 0) return 0;
    return 1;
}

#define FAIL(step)              \
    do {                        \
        *failed_step = (step);  \
        return errno ? errno : EPERM; \
    } while (0)

int cpriv_become_and_exec(
    uid_t uid, gid_t gid, const gid_t *groups, size_t group_count, int keep_cap, const char *path,
    char *const argv[], char *const envp[], int *failed_step) {
    errno = 0;
    // Without it the setuid below clears the permitted set, and keep_cap with it.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) FAIL(CPRIV_STEP_KEEPCAPS);
    // A smaller bounding set means no file capability of an exec'd binary can give anything else back.
    for (int cap = 0; cap <= 63; cap++) {
        if (cap == keep_cap) continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            if (errno == EINVAL) break;  // past the kernel's last capability
            FAIL(CPRIV_STEP_BOUNDING_SET);
        }
    }
    errno = 0;
    // glibc's wrappers change every thread of the process; the exec below keeps this one's.
    if (setgroups(group_count, groups) != 0) FAIL(CPRIV_STEP_SETGROUPS);
    if (setresgid(gid, gid, gid) != 0) FAIL(CPRIV_STEP_SETGID);
    if (setresuid(uid, uid, uid) != 0) FAIL(CPRIV_STEP_SETUID);
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0) FAIL(CPRIV_STEP_CHECK_IDS);
    if (ruid != uid || euid != uid || suid != uid || rgid != gid || egid != gid || sgid != gid) {
        errno = EPERM;
        FAIL(CPRIV_STEP_CHECK_IDS);
    }
    if (capset_only(keep_cap) != 0) FAIL(CPRIV_STEP_CAPSET);
    // Ambient capabilities are the ones an unprivileged exec keeps.
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, keep_cap, 0, 0) != 0) FAIL(CPRIV_STEP_AMBIENT);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) FAIL(CPRIV_STEP_NO_NEW_PRIVS);
    if (!cpriv_root_is_unreachable()) {
        errno = EPERM;
        FAIL(CPRIV_STEP_ROOT_REGAINED);
    }
    // The runtime's worker threads block signals; the new image must start with none blocked, or SIGTERM
    // and SIGHUP would never reach it.
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    execve(path, argv, envp);
    FAIL(CPRIV_STEP_EXEC);
}
