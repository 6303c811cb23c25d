// A whole file copied out of an image into a descriptor. squashfs decompresses one block at a time on one thread,
// so a large file is cut into a range per worker, each decoded by its own data reader and decompressor (neither is
// thread-safe; the image's file interface is pread only) and written at its own offsets. A 32 MiB xz initrd took
// 1.46x as long as `unsquashfs -cat` (which decompresses on every core) on one thread.
#include "readers.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/// Bytes each read asks a reader for, and each write hands the kernel.
#define CHUNK (1u << 20)
/// The most workers one extraction starts.
#define MAXIMUM_WORKERS 4

struct range {
    thinboot_image *image;
    const thinboot_node *file;
    sqfs_compressor_t *compressor;
    sqfs_data_reader_t *data;
    int out;
    uint64_t start;
    uint64_t end;
    int status;
    char error[256];
};

static int range_fail(struct range *range, int status, const char *what, const char *reason) {
    snprintf(range->error, sizeof range->error, "%s: %s", what, reason);
    range->status = status;
    return status;
}

static int write_all(int out, const char *bytes, size_t length, uint64_t offset) {
    while (length > 0) {
        ssize_t written = pwrite(out, bytes, length, (off_t)offset);
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            return -1;
        }
        bytes += written;
        length -= (size_t)written;
        offset += (uint64_t)written;
    }
    return 0;
}

/// Copies the range's bytes: through its own squashfs data reader when it has one, else through the image.
static void *copy_range(void *context) {
    struct range *range = context;
    char *buffer = malloc(CHUNK);
    if (buffer == NULL) {
        range_fail(range, THINBOOT_IMAGE_FAILED, "extract", "out of memory");
        return NULL;
    }
    for (uint64_t offset = range->start; offset < range->end && range->status == THINBOOT_IMAGE_OK;) {
        size_t wanted = range->end - offset < CHUNK ? (size_t)(range->end - offset) : CHUNK;
        size_t done = 0;
        if (range->data != NULL) {
            sqfs_s32 read = sqfs_data_reader_read(range->data, range->file->squashfs, offset, buffer, (sqfs_u32)wanted);
            if (read < 0) {
                range_fail(range, THINBOOT_IMAGE_FAILED, "squashfs data", thinboot_squashfs_reason(read));
                break;
            }
            done = (size_t)read;
        } else if (thinboot_image_read(range->image, range->file, offset, buffer, wanted, &done) != 0) {
            range_fail(range, THINBOOT_IMAGE_FAILED, "data", range->image->error);
            break;
        }
        if (done != wanted) {
            range_fail(range, THINBOOT_IMAGE_FAILED, "data", "the file ends before its size");
            break;
        }
        if (write_all(range->out, buffer, done, offset) != 0) {
            range_fail(range, THINBOOT_IMAGE_WRITE_FAILED, "cannot write the copy", strerror(errno));
            break;
        }
        offset += done;
    }
    free(buffer);
    return NULL;
}

/// A data reader of its own for a squashfs worker, with its own decompressor; 0, or -1 when one cannot be made.
static int own_reader(struct range *range) {
    thinboot_image *image = range->image;
    range->compressor = sqfs_copy(image->compressor);
    if (range->compressor == NULL) {
        return -1;
    }
    range->data = sqfs_data_reader_create(&image->file->base, image->super.block_size, range->compressor, 0);
    if (range->data == NULL || sqfs_data_reader_load_fragment_table(range->data, &image->super) != 0) {
        return -1;
    }
    return 0;
}

static void release(struct range *range) {
    sqfs_destroy(range->data);
    sqfs_destroy(range->compressor);
}

int thinboot_image_extract(thinboot_image *image, const thinboot_node *file, int out) {
    if (file->kind != THINBOOT_NODE_FILE) {
        return thinboot_fail(image, "not a regular file");
    }
    unsigned workers = 1;
    if (image->kind == THINBOOT_FS_SQUASHFS) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        uint64_t blocks = file->size / image->super.block_size;
        workers = cores < 1 ? 1 : cores > MAXIMUM_WORKERS ? MAXIMUM_WORKERS : (unsigned)cores;
        // Two blocks per worker at least: a small file is not worth a thread.
        if (blocks < 2ull * workers) {
            workers = blocks < 4 ? 1 : (unsigned)(blocks / 2);
        }
    }
    struct range ranges[MAXIMUM_WORKERS];
    memset(ranges, 0, sizeof ranges);
    // Whole blocks per worker, so no block is decompressed by two of them.
    uint64_t block = image->kind == THINBOOT_FS_SQUASHFS ? image->super.block_size : CHUNK;
    uint64_t share = (file->size / block / workers) * block;
    for (unsigned index = 0; index < workers; index++) {
        struct range *range = &ranges[index];
        range->image = image;
        range->file = file;
        range->out = out;
        range->start = share * index;
        range->end = index + 1 == workers ? file->size : share * (index + 1);
        range->status = THINBOOT_IMAGE_OK;
        if (workers > 1 && own_reader(range) != 0) {
            for (unsigned made = 0; made <= index; made++) {
                release(&ranges[made]);
            }
            return thinboot_fail(image, "extract: out of memory");
        }
    }
    pthread_t threads[MAXIMUM_WORKERS];
    bool running[MAXIMUM_WORKERS] = {false};
    // The first range runs on this thread, and so does one whose thread cannot start.
    for (unsigned index = 1; index < workers; index++) {
        running[index] = pthread_create(&threads[index], NULL, copy_range, &ranges[index]) == 0;
        if (!running[index]) {
            copy_range(&ranges[index]);
        }
    }
    copy_range(&ranges[0]);
    for (unsigned index = 1; index < workers; index++) {
        if (running[index]) {
            pthread_join(threads[index], NULL);
        }
    }
    int status = THINBOOT_IMAGE_OK;
    for (unsigned index = 0; index < workers; index++) {
        if (status == THINBOOT_IMAGE_OK && ranges[index].status != THINBOOT_IMAGE_OK) {
            status = ranges[index].status;
            thinboot_fail(image, "%s", ranges[index].error);
        }
        release(&ranges[index]);
    }
    return status;
}
