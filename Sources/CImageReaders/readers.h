#ifndef THINBOOT_READERS_PRIVATE_H
#define THINBOOT_READERS_PRIVATE_H
// What image.c shares with the two readers: the image and node layouts behind the opaque handles.
#include "CImageReaders.h"
#include <stdarg.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/meta_reader.h>
#include <sqfs/predef.h>
#include <sqfs/super.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

struct offset_file {
    sqfs_file_t base;
    int fd;
    uint64_t offset;
    uint64_t length;
};

struct thinboot_image {
    thinboot_fs_kind kind;
    int fd;
    uint64_t offset;
    uint64_t length;
    char error[256];
    // squashfs
    struct offset_file *file;
    sqfs_super_t super;
    sqfs_compressor_t *compressor;
    sqfs_meta_reader_t *inodes;
    sqfs_meta_reader_t *directories;
    sqfs_data_reader_t *data;
    // ext2/3/4
    ext2_filsys fs;
};

struct thinboot_node {
    thinboot_node_kind kind;
    uint64_t size;
    sqfs_inode_generic_t *squashfs;
    ext2_ino_t number;
    struct ext2_inode ext;
};

/// Records a message on `image`; returns THINBOOT_IMAGE_FAILED.
int thinboot_fail(thinboot_image *image, const char *format, ...) __attribute__((format(printf, 2, 3)));
/// Reads exactly `length` bytes at `offset` inside the image's range; 0 or -1.
int thinboot_pread_range(int fd, uint64_t base, uint64_t limit, uint64_t offset, void *buffer, size_t length);

/// What a libsquashfs error code means, for messages.
const char *thinboot_squashfs_reason(int error);
int thinboot_squashfs_open(thinboot_image *image);
void thinboot_squashfs_close(thinboot_image *image);
int thinboot_squashfs_root(thinboot_image *image, thinboot_node **out);
int thinboot_squashfs_lookup(thinboot_image *image, const thinboot_node *directory, const char *name,
                             thinboot_node **out);
int thinboot_squashfs_list(thinboot_image *image, const thinboot_node *directory, thinboot_list_callback callback,
                           void *context);
int thinboot_squashfs_read(thinboot_image *image, const thinboot_node *file, uint64_t offset, void *buffer,
                           size_t length, size_t *done);

int thinboot_ext_open(thinboot_image *image);
void thinboot_ext_close(thinboot_image *image);
int thinboot_ext_root(thinboot_image *image, thinboot_node **out);
int thinboot_ext_lookup(thinboot_image *image, const thinboot_node *directory, const char *name, thinboot_node **out);
int thinboot_ext_readlink(thinboot_image *image, const thinboot_node *link, char *buffer, size_t capacity,
                          size_t *length);
int thinboot_ext_list(thinboot_image *image, const thinboot_node *directory, thinboot_list_callback callback,
                      void *context);
int thinboot_ext_read(thinboot_image *image, const thinboot_node *file, uint64_t offset, void *buffer, size_t length,
                      size_t *done);
#endif
