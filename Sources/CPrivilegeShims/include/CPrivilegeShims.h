#ifndef CPRIVILEGESHIMS_H
#define CPRIVILEGESHIMS_H

#include <stdint.h>
#include <sys/types.h>

/// The step of `cpriv_become_and_exec` that failed (its errno is the return value).
typedef enum {
    CPRIV_STEP_KEEPCAPS = 1,
    CPRIV_STEP_BOUNDING_SET,
    CPRIV_STEP_SETGROUPS,
    CPRIV_STEP_SETGID,
    CPRIV_STEP_SETUID,
    CPRIV_STEP_CHECK_IDS,
    CPRIV_STEP_CAPSET,
    CPRIV_STEP_AMBIENT,
    CPRIV_STEP_NO_NEW_PRIVS,
    CPRIV_STEP_ROOT_REGAINED,
    CPRIV_STEP_EXEC,
} cpriv_step;

/// As root: drops every capability but `keep_cap` from the bounding set, then setgroups, setgid, setuid (all
/// three ids each, in that order, checked), keeps `keep_cap` as permitted, effective, inheritable and ambient,
/// sets no_new_privs, checks that root cannot be regained, and execs `path` with `argv` and `envp`. Linux keeps
/// credentials per thread; exec makes this thread's the whole new process's, so every thread of the new image has
/// `keep_cap` and nothing else. Returns only on failure: the errno, with the step in `*failed_step`.
int cpriv_become_and_exec(
    uid_t uid, gid_t gid, const gid_t *groups, size_t group_count, int keep_cap, const char *path,
    char *const argv[], char *const envp[], int *failed_step);

/// The calling thread's effective capabilities as a bit mask (bit N is capability N); 0 on failure.
uint64_t cpriv_effective_capabilities(void);

/// 1 when `setresuid(0, 0, 0)` fails on the calling thread with raw syscalls (root cannot be regained), 0 when it
/// succeeded (and was undone at once by nothing: the caller must stop).
int cpriv_root_is_unreachable(void);

#endif
