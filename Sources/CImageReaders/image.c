// The dispatch behind the public interface: checks shared by both readers, then the reader for the image's kind.
#define _GNU_SOURCE
#include "readers.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int thinboot_fail(thinboot_image *image, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(image->error, sizeof image->error, format, arguments);
    va_end(arguments);
    return THINBOOT_IMAGE_FAILED;
}

int thinboot_pread_range(int fd, uint64_t base, uint64_t limit, uint64_t offset, void *buffer, size_t length) {
    if (offset > limit || length > limit - offset) {
        return -1;
    }
    size_t done = 0;
    while (done < length) {
        ssize_t result = pread(fd, (char *)buffer + done, length - done, (off_t)(base + offset + done));
        if (result < 0 && errno == EINTR) {
            continue;
        }
        if (result <= 0) {
            return -1;
        }
        done += (size_t)result;
    }
    return 0;
}

thinboot_image *thinboot_image_open(int fd, uint64_t offset, uint64_t length, thinboot_fs_kind kind, char *message,
                                    size_t capacity) {
    thinboot_image *image = calloc(1, sizeof *image);
    if (image == NULL) {
        snprintf(message, capacity, "out of memory");
        return NULL;
    }
    image->kind = kind;
    image->offset = offset;
    image->length = length;
    image->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (image->fd < 0) {
        snprintf(message, capacity, "cannot duplicate the image descriptor: %s", strerror(errno));
        free(image);
        return NULL;
    }
    int status = kind == THINBOOT_FS_SQUASHFS ? thinboot_squashfs_open(image) : thinboot_ext_open(image);
    if (status != THINBOOT_IMAGE_OK) {
        snprintf(message, capacity, "%s", image->error);
        thinboot_image_close(image);
        return NULL;
    }
    return image;
}

void thinboot_image_close(thinboot_image *image) {
    if (image == NULL) {
        return;
    }
    if (image->kind == THINBOOT_FS_SQUASHFS) {
        thinboot_squashfs_close(image);
    } else {
        thinboot_ext_close(image);
    }
    close(image->fd);
    free(image);
}

const char *thinboot_image_error(const thinboot_image *image) { return image->error; }

int thinboot_image_root(thinboot_image *image, thinboot_node **out) {
    return image->kind == THINBOOT_FS_SQUASHFS ? thinboot_squashfs_root(image, out) : thinboot_ext_root(image, out);
}

int thinboot_image_lookup(thinboot_image *image, const thinboot_node *directory, const char *name,
                          thinboot_node **out) {
    if (directory->kind != THINBOOT_NODE_DIRECTORY) {
        return THINBOOT_IMAGE_NOT_FOUND;
    }
    return image->kind == THINBOOT_FS_SQUASHFS ? thinboot_squashfs_lookup(image, directory, name, out)
                                               : thinboot_ext_lookup(image, directory, name, out);
}

void thinboot_node_free(thinboot_node *node) {
    if (node == NULL) {
        return;
    }
    sqfs_free(node->squashfs);
    free(node);
}

thinboot_node_kind thinboot_node_kind_of(const thinboot_node *node) { return node->kind; }

uint64_t thinboot_node_size(const thinboot_node *node) { return node->size; }

int thinboot_image_readlink(thinboot_image *image, const thinboot_node *link, char *buffer, size_t capacity,
                            size_t *length) {
    if (link->kind != THINBOOT_NODE_SYMLINK) {
        return thinboot_fail(image, "not a symlink");
    }
    if (link->size > capacity) {
        return thinboot_fail(image, "symlink target of %llu bytes is too long", (unsigned long long)link->size);
    }
    if (image->kind == THINBOOT_FS_EXT) {
        return thinboot_ext_readlink(image, link, buffer, capacity, length);
    }
    // libsquashfs keeps the target right after the inode, target_size bytes.
    memcpy(buffer, link->squashfs->extra, (size_t)link->size);
    *length = (size_t)link->size;
    return THINBOOT_IMAGE_OK;
}

struct named_list {
    thinboot_list_callback callback;
    void *context;
};

/// Passes on only names a path can reach: one component, neither `.` nor `..`. A corrupt folder may hold an entry
/// named "" (an ext entry of name length 0), `.`, `..`, or one with a `/` or NUL in it; listed, it would name
/// nothing, or another file.
static int list_named(void *context, const char *name, size_t length) {
    const struct named_list *list = context;
    bool dots = (length == 1 && name[0] == '.') || (length == 2 && name[0] == '.' && name[1] == '.');
    if (length == 0 || dots || memchr(name, '/', length) != NULL || memchr(name, 0, length) != NULL) {
        return 0;
    }
    return list->callback(list->context, name, length);
}

int thinboot_image_list(thinboot_image *image, const thinboot_node *directory, thinboot_list_callback callback,
                        void *context) {
    if (directory->kind != THINBOOT_NODE_DIRECTORY) {
        return thinboot_fail(image, "not a folder");
    }
    struct named_list list = {callback, context};
    return image->kind == THINBOOT_FS_SQUASHFS ? thinboot_squashfs_list(image, directory, list_named, &list)
                                               : thinboot_ext_list(image, directory, list_named, &list);
}

int thinboot_image_read(thinboot_image *image, const thinboot_node *file, uint64_t offset, void *buffer,
                        size_t length, size_t *done) {
    *done = 0;
    if (file->kind != THINBOOT_NODE_FILE) {
        return thinboot_fail(image, "not a regular file");
    }
    if (offset >= file->size || length == 0) {
        return THINBOOT_IMAGE_OK;
    }
    if (length > file->size - offset) {
        length = (size_t)(file->size - offset);
    }
    return image->kind == THINBOOT_FS_SQUASHFS ? thinboot_squashfs_read(image, file, offset, buffer, length, done)
                                               : thinboot_ext_read(image, file, offset, buffer, length, done);
}

int thinboot_memory_file(const void *bytes, size_t length) {
    int fd = memfd_create("thinboot-image", MFD_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    size_t done = 0;
    while (done < length) {
        ssize_t written = write(fd, (const char *)bytes + done, length - done);
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)written;
    }
    return fd;
}
