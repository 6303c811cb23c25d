// ext2/3/4 through libext2fs: opened read-only over the image's byte range (unix_io's `offset=`), the super block
// checked against that range first, names looked up with ext2fs_lookup and bytes read with ext2fs_file_read.
#include "readers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t error_table_once = PTHREAD_ONCE_INIT;

static void load_error_table(void) { initialize_ext2_error_table(); }

static int fail_code(thinboot_image *image, const char *what, errcode_t code) {
    // libext2fs reads an inode into the next slot of its inode cache before checking the inode's checksum, and on a
    // mismatch leaves that slot under the number of the inode it held before: a later read of that inode (the root,
    // say) would get the corrupt one's bytes. Forgetting the cache after every failure keeps one bad inode from
    // standing in for another. (Found by the image-reader fuzz target.)
    if (image->fs != NULL) {
        ext2fs_flush_icache(image->fs);
    }
    return thinboot_fail(image, "ext: %s: %s", what, error_message(code));
}

/// Refuses a super block that claims more blocks than the image holds, or an impossible block size, before
/// libext2fs sizes its group tables by them.
static int check_super(thinboot_image *image) {
    struct ext2_super_block super;
    if (thinboot_pread_range(image->fd, image->offset, image->length, 1024, &super, sizeof super) != 0) {
        return thinboot_fail(image, "ext: the image is too short for a super block");
    }
    if (super.s_magic != EXT2_SUPER_MAGIC) {
        return thinboot_fail(image, "ext: no ext2/3/4 super block");
    }
    if (super.s_log_block_size > 6) {
        return thinboot_fail(image, "ext: invalid block size");
    }
    uint64_t block_size = 1024ull << super.s_log_block_size;
    uint64_t blocks = super.s_blocks_count;
    if (super.s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT) {
        blocks |= (uint64_t)super.s_blocks_count_hi << 32;
    }
    if (blocks == 0 || blocks > image->length / block_size + 1 || super.s_inodes_per_group == 0 ||
        super.s_blocks_per_group == 0) {
        return thinboot_fail(image, "ext: the super block claims %llu blocks of %llu bytes, the image has %llu bytes",
                             (unsigned long long)blocks, (unsigned long long)block_size,
                             (unsigned long long)image->length);
    }
    return THINBOOT_IMAGE_OK;
}

int thinboot_ext_open(thinboot_image *image) {
    pthread_once(&error_table_once, load_error_table);
    if (check_super(image) != THINBOOT_IMAGE_OK) {
        return THINBOOT_IMAGE_FAILED;
    }
    // unix_io opens by name: /proc/self/fd names the very file the caller opened (and checked), not the path.
    char name[64];
    char options[64];
    snprintf(name, sizeof name, "/proc/self/fd/%d", image->fd);
    snprintf(options, sizeof options, "offset=%llu", (unsigned long long)image->offset);
    errcode_t code =
        ext2fs_open2(name, options, EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP, 0, 0, unix_io_manager, &image->fs);
    if (code != 0) {
        image->fs = NULL;
        return fail_code(image, "cannot open", code);
    }
    return THINBOOT_IMAGE_OK;
}

void thinboot_ext_close(thinboot_image *image) {
    if (image->fs != NULL) {
        ext2fs_close_free(&image->fs);
    }
}

static int make_node(thinboot_image *image, ext2_ino_t number, thinboot_node **out) {
    thinboot_node *node = calloc(1, sizeof *node);
    if (node == NULL) {
        return thinboot_fail(image, "out of memory");
    }
    errcode_t code = ext2fs_read_inode(image->fs, number, &node->ext);
    if (code != 0) {
        free(node);
        return fail_code(image, "inode", code);
    }
    node->number = number;
    node->size = EXT2_I_SIZE(&node->ext);
    if (LINUX_S_ISDIR(node->ext.i_mode)) {
        node->kind = THINBOOT_NODE_DIRECTORY;
    } else if (LINUX_S_ISREG(node->ext.i_mode)) {
        node->kind = THINBOOT_NODE_FILE;
    } else if (LINUX_S_ISLNK(node->ext.i_mode)) {
        node->kind = THINBOOT_NODE_SYMLINK;
    } else {
        node->kind = THINBOOT_NODE_OTHER;
    }
    *out = node;
    return THINBOOT_IMAGE_OK;
}

int thinboot_ext_root(thinboot_image *image, thinboot_node **out) { return make_node(image, EXT2_ROOT_INO, out); }

int thinboot_ext_lookup(thinboot_image *image, const thinboot_node *directory, const char *name, thinboot_node **out) {
    ext2_ino_t number = 0;
    errcode_t code = ext2fs_lookup(image->fs, directory->number, name, (int)strlen(name), NULL, &number);
    if (code == EXT2_ET_FILE_NOT_FOUND) {
        return THINBOOT_IMAGE_NOT_FOUND;
    }
    if (code != 0) {
        return fail_code(image, "folder", code);
    }
    return make_node(image, number, out);
}

/// Reads up to `length` bytes of inode `node` from `offset` (inline data, extents and holes alike).
static int read_inode_bytes(thinboot_image *image, const thinboot_node *node, uint64_t offset, void *buffer,
                            size_t length, size_t *done) {
    ext2_file_t file = NULL;
    struct ext2_inode inode = node->ext;
    errcode_t code = ext2fs_file_open2(image->fs, node->number, &inode, 0, &file);
    if (code == 0) {
        code = ext2fs_file_llseek(file, offset, EXT2_SEEK_SET, NULL);
    }
    while (code == 0 && *done < length) {
        size_t chunk = length - *done;
        if (chunk > (1u << 30)) {
            chunk = 1u << 30;
        }
        unsigned int got = 0;
        code = ext2fs_file_read(file, (char *)buffer + *done, (unsigned int)chunk, &got);
        if (code == 0 && got == 0) {
            break;
        }
        *done += got;
    }
    if (file != NULL) {
        ext2fs_file_close(file);
    }
    return code == 0 ? THINBOOT_IMAGE_OK : fail_code(image, "file data", code);
}

int thinboot_ext_readlink(thinboot_image *image, const thinboot_node *link, char *buffer, size_t capacity,
                          size_t *length) {
    struct ext2_inode inode = link->ext;
    if (ext2fs_is_fast_symlink(&inode)) {
        // A short target lives in the inode's block array itself.
        if (link->size > sizeof inode.i_block) {
            return thinboot_fail(image, "ext: fast symlink longer than its inode");
        }
        memcpy(buffer, inode.i_block, (size_t)link->size);
        *length = (size_t)link->size;
        return THINBOOT_IMAGE_OK;
    }
    *length = 0;
    int status = read_inode_bytes(image, link, 0, buffer, (size_t)link->size, length);
    if (status == THINBOOT_IMAGE_OK && *length != link->size) {
        return thinboot_fail(image, "ext: symlink target ends early");
    }
    (void)capacity;
    return status;
}

struct list_context {
    thinboot_list_callback callback;
    void *context;
};

static int list_entry(ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent, int offset, int blocksize, char *buf,
                      void *private) {
    (void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
    struct list_context *list = private;
    return list->callback(list->context, dirent->name, (size_t)ext2fs_dirent_name_len(dirent)) ? DIRENT_ABORT : 0;
}

int thinboot_ext_list(thinboot_image *image, const thinboot_node *directory, thinboot_list_callback callback,
                      void *context) {
    struct list_context list = {callback, context};
    errcode_t code = ext2fs_dir_iterate2(image->fs, directory->number, 0, NULL, list_entry, &list);
    return code == 0 ? THINBOOT_IMAGE_OK : fail_code(image, "folder", code);
}

int thinboot_ext_read(thinboot_image *image, const thinboot_node *file, uint64_t offset, void *buffer, size_t length,
                      size_t *done) {
    return read_inode_bytes(image, file, offset, buffer, length, done);
}
