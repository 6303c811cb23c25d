#ifndef THINBOOT_CIMAGE_READERS_H
#define THINBOOT_CIMAGE_READERS_H
// One narrow interface over the two file system libraries: libsquashfs (squashfs-tools-ng) and libext2fs
// (e2fsprogs). An image is opened from a descriptor and a byte range (a whole file, or one partition of a disk);
// nodes are looked up one name at a time, so path rules (symlinks, `..`, the image as root) live in Swift, once.
// Handles are not thread-safe: the caller serialises every call on one image.
#include <stddef.h>
#include <stdint.h>

typedef struct thinboot_image thinboot_image;
typedef struct thinboot_node thinboot_node;

/// Which library reads the file system.
typedef enum thinboot_fs_kind {
    THINBOOT_FS_SQUASHFS = 1,
    THINBOOT_FS_EXT = 2,
} thinboot_fs_kind;

typedef enum thinboot_node_kind {
    THINBOOT_NODE_FILE = 1,
    THINBOOT_NODE_DIRECTORY = 2,
    THINBOOT_NODE_SYMLINK = 3,
    THINBOOT_NODE_OTHER = 4,
} thinboot_node_kind;

/// Results: 0 on success, 1 when a lookup finds no such name, negative when the image is corrupt or cannot be
/// read (the message is in `thinboot_image_error`).
#define THINBOOT_IMAGE_OK 0
#define THINBOOT_IMAGE_NOT_FOUND 1
#define THINBOOT_IMAGE_FAILED (-1)
/// Writing a copy failed (``thinboot_image_extract``): the output's fault, not the image's.
#define THINBOOT_IMAGE_WRITE_FAILED (-2)

/// Opens the file system stored in `fd` (duplicated; the caller keeps its own) from `offset` for `length` bytes.
/// On failure returns NULL with a message in `message`.
thinboot_image *thinboot_image_open(int fd, uint64_t offset, uint64_t length, thinboot_fs_kind kind, char *message,
                                    size_t capacity);
void thinboot_image_close(thinboot_image *image);
/// The message of the last failure on `image`.
const char *thinboot_image_error(const thinboot_image *image);

/// The root folder.
int thinboot_image_root(thinboot_image *image, thinboot_node **out);
/// The entry `name` (NUL-terminated, no `/`) of the folder `directory`.
int thinboot_image_lookup(thinboot_image *image, const thinboot_node *directory, const char *name,
                          thinboot_node **out);
void thinboot_node_free(thinboot_node *node);
thinboot_node_kind thinboot_node_kind_of(const thinboot_node *node);
/// Bytes in a file, or in a symlink's target.
uint64_t thinboot_node_size(const thinboot_node *node);

/// A symlink's target into `buffer` (not NUL-terminated), its length in `length`.
int thinboot_image_readlink(thinboot_image *image, const thinboot_node *link, char *buffer, size_t capacity,
                            size_t *length);
/// Calls `callback` for every name in `directory` that a lookup reaches (not `.`, `..`, empty, nor holding `/` or NUL);
/// a non-zero return stops the listing.
typedef int (*thinboot_list_callback)(void *context, const char *name, size_t length);
int thinboot_image_list(thinboot_image *image, const thinboot_node *directory, thinboot_list_callback callback,
                        void *context);
/// Reads up to `length` bytes of `file` from `offset`; `done` is fewer only at the end of the file. Holes read as
/// zeros.
int thinboot_image_read(thinboot_image *image, const thinboot_node *file, uint64_t offset, void *buffer,
                        size_t length, size_t *done);

/// Copies the whole of `file` into `out` at the same offsets, decompressing squashfs on up to one thread per core
/// (4 at most); THINBOOT_IMAGE_WRITE_FAILED when writing to `out` failed.
int thinboot_image_extract(thinboot_image *image, const thinboot_node *file, int out);

/// An anonymous in-memory file holding `bytes` (for opening an image from bytes: fuzzing, tests); -1 on failure.
int thinboot_memory_file(const void *bytes, size_t length);

#endif
