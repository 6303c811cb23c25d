#ifndef CNBD_SHIMS_H
#define CNBD_SHIMS_H

#include <stddef.h>

#pragma clang assume_nonnull begin

/// Installs the process-wide SIGBUS handler once (idempotent, thread-safe). A SIGBUS raised while the
/// faulting thread is inside `cnbd_guarded_touch` or `cnbd_guarded_copy` unwinds that call, which then
/// returns -1; any other SIGBUS goes to the handler that was installed before (or the default action).
void cnbd_install_sigbus_guard(void);

/// Reads one byte of every page in [start, start+length) so that a truncated mapping faults here, under
/// the guard, instead of in the kernel while a reply is half sent. Returns 0, or -1 after a SIGBUS.
int cnbd_guarded_touch(const void *start, size_t length);

/// memcpy under the SIGBUS guard. Returns 0, or -1 after a SIGBUS (the destination is then partly written).
int cnbd_guarded_copy(void *destination, const void *source, size_t length);

/// The number of SIGBUS faults the guard has caught since start (for logs and tests).
unsigned long cnbd_sigbus_count(void);

/// lseek(fd, offset, SEEK_DATA): the next data at or after offset, or -1 with errno (ENXIO past the last data).
long long cnbd_seek_data(int fd, long long offset);
/// lseek(fd, offset, SEEK_HOLE): the next hole at or after offset (end of file counts as a hole).
long long cnbd_seek_hole(int fd, long long offset);
/// madvise(MADV_WILLNEED) on the page-aligned span covering [start, start+length): a read-ahead hint.
int cnbd_will_need(const void *start, size_t length);
/// fallocate(PUNCH_HOLE | KEEP_SIZE): frees a range of a writable image so it reads as zeroes.
int cnbd_punch_hole(int fd, long long offset, long long length);

#pragma clang assume_nonnull end

#endif
