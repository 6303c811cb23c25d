// squashfs through libsquashfs: a file interface over the image's byte range, the super block checked against it,
// a directory reader for lookups and listings, a data reader for file bytes (blocks, fragments and holes).
#include "readers.h"

#include <stdlib.h>
#include <string.h>

static const char *squashfs_reason(int error) {
    switch (error) {
    case SQFS_ERROR_ALLOC: return "out of memory";
    case SQFS_ERROR_IO: return "read error";
    case SQFS_ERROR_COMPRESSOR: return "cannot decompress";
    case SQFS_ERROR_CORRUPTED: return "corrupt";
    case SQFS_ERROR_UNSUPPORTED: return "unsupported feature or compressor";
    case SQFS_ERROR_OVERFLOW: return "size overflow";
    case SQFS_ERROR_OUT_OF_BOUNDS: return "points past the end of the image";
    // The header spells these two SFQS_ (libsquashfs 1.2).
    case SFQS_ERROR_SUPER_MAGIC: return "not a squashfs super block";
    case SFQS_ERROR_SUPER_VERSION: return "unsupported squashfs version";
    case SQFS_ERROR_SUPER_BLOCK_SIZE: return "invalid block size";
    case SQFS_ERROR_NOT_DIR: return "not a folder";
    case SQFS_ERROR_NO_ENTRY: return "no such entry";
    default: return "unreadable";
    }
}

static int offset_read_at(sqfs_file_t *base, sqfs_u64 offset, void *buffer, size_t size) {
    struct offset_file *file = (struct offset_file *)base;
    if (offset > file->length || size > file->length - offset) {
        return SQFS_ERROR_OUT_OF_BOUNDS;
    }
    return thinboot_pread_range(file->fd, file->offset, file->length, offset, buffer, size) == 0 ? 0 : SQFS_ERROR_IO;
}

static int offset_write_at(sqfs_file_t *base, sqfs_u64 offset, const void *buffer, size_t size) {
    (void)base, (void)offset, (void)buffer, (void)size;
    return SQFS_ERROR_IO;
}

static sqfs_u64 offset_get_size(const sqfs_file_t *base) { return ((const struct offset_file *)base)->length; }

static int offset_truncate(sqfs_file_t *base, sqfs_u64 size) {
    (void)base, (void)size;
    return SQFS_ERROR_IO;
}

static void offset_destroy(sqfs_object_t *base) { free(base); }

/// Refuses a super block whose tables lie outside the image or whose counts ask for more bytes than it holds,
/// before libsquashfs sizes any allocation by them.
static int check_super(thinboot_image *image) {
    const sqfs_super_t *super = &image->super;
    uint64_t used = super->bytes_used;
    if (used > image->length) {
        return thinboot_fail(image, "squashfs claims %llu bytes, the image has %llu", (unsigned long long)used,
                             (unsigned long long)image->length);
    }
    const uint64_t none = UINT64_MAX;
    uint64_t starts[] = {super->id_table_start, super->inode_table_start, super->directory_table_start,
                         super->fragment_table_start, super->export_table_start, super->xattr_id_table_start};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        if (starts[i] != none && starts[i] > used) {
            return thinboot_fail(image, "squashfs table at %llu lies past its %llu bytes",
                                 (unsigned long long)starts[i], (unsigned long long)used);
        }
    }
    if ((uint64_t)super->fragment_entry_count * 16 > used || (uint64_t)super->id_count * 4 > used ||
        super->inode_count == 0) {
        return thinboot_fail(image, "squashfs counts do not fit its %llu bytes", (unsigned long long)used);
    }
    return THINBOOT_IMAGE_OK;
}

int thinboot_squashfs_open(thinboot_image *image) {
    struct offset_file *file = calloc(1, sizeof *file);
    if (file == NULL) {
        return thinboot_fail(image, "out of memory");
    }
    file->base.base.destroy = offset_destroy;
    file->base.read_at = offset_read_at;
    file->base.write_at = offset_write_at;
    file->base.get_size = offset_get_size;
    file->base.truncate = offset_truncate;
    file->fd = image->fd;
    file->offset = image->offset;
    file->length = image->length;
    image->file = file;

    int error = sqfs_super_read(&image->super, &file->base);
    if (error != 0) {
        return thinboot_fail(image, "squashfs super block: %s", squashfs_reason(error));
    }
    if (check_super(image) != THINBOOT_IMAGE_OK) {
        return THINBOOT_IMAGE_FAILED;
    }
    sqfs_compressor_config_t config;
    error = sqfs_compressor_config_init(&config, image->super.compression_id, image->super.block_size,
                                        SQFS_COMP_FLAG_UNCOMPRESS);
    if (error == 0) {
        error = sqfs_compressor_create(&config, &image->compressor);
    }
    if (error != 0) {
        return thinboot_fail(image, "squashfs compressor %d: %s", image->super.compression_id,
                             squashfs_reason(error));
    }
    if (image->super.flags & SQFS_FLAG_COMPRESSOR_OPTIONS) {
        error = image->compressor->read_options(image->compressor, &file->base);
        if (error != 0) {
            return thinboot_fail(image, "squashfs compressor options: %s", squashfs_reason(error));
        }
    }
    image->directories = sqfs_dir_reader_create(&image->super, image->compressor, &file->base, 0);
    image->data = sqfs_data_reader_create(&file->base, image->super.block_size, image->compressor, 0);
    if (image->directories == NULL || image->data == NULL) {
        return thinboot_fail(image, "out of memory");
    }
    error = sqfs_data_reader_load_fragment_table(image->data, &image->super);
    if (error != 0) {
        return thinboot_fail(image, "squashfs fragment table: %s", squashfs_reason(error));
    }
    return THINBOOT_IMAGE_OK;
}

void thinboot_squashfs_close(thinboot_image *image) {
    sqfs_destroy(image->data);
    sqfs_destroy(image->directories);
    sqfs_destroy(image->compressor);
    sqfs_destroy(image->file);
}

/// Takes `inode` into a new node.
static int make_node(thinboot_image *image, sqfs_inode_generic_t *inode, thinboot_node **out) {
    thinboot_node *node = calloc(1, sizeof *node);
    if (node == NULL) {
        sqfs_free(inode);
        return thinboot_fail(image, "out of memory");
    }
    node->squashfs = inode;
    switch (inode->base.type) {
    case SQFS_INODE_DIR:
    case SQFS_INODE_EXT_DIR:
        node->kind = THINBOOT_NODE_DIRECTORY;
        break;
    case SQFS_INODE_FILE:
    case SQFS_INODE_EXT_FILE: {
        sqfs_u64 size = 0;
        sqfs_inode_get_file_size(inode, &size);
        node->kind = THINBOOT_NODE_FILE;
        node->size = size;
        break;
    }
    case SQFS_INODE_SLINK:
    case SQFS_INODE_EXT_SLINK:
        node->kind = THINBOOT_NODE_SYMLINK;
        // Both symlink layouts start with nlink and target_size.
        node->size = inode->data.slink.target_size;
        break;
    default:
        node->kind = THINBOOT_NODE_OTHER;
        break;
    }
    *out = node;
    return THINBOOT_IMAGE_OK;
}

int thinboot_squashfs_root(thinboot_image *image, thinboot_node **out) {
    sqfs_inode_generic_t *inode = NULL;
    int error = sqfs_dir_reader_get_root_inode(image->directories, &inode);
    if (error != 0) {
        return thinboot_fail(image, "squashfs root inode: %s", squashfs_reason(error));
    }
    return make_node(image, inode, out);
}

int thinboot_squashfs_lookup(thinboot_image *image, const thinboot_node *directory, const char *name,
                             thinboot_node **out) {
    int error = sqfs_dir_reader_open_dir(image->directories, directory->squashfs, 0);
    if (error == 0) {
        error = sqfs_dir_reader_find(image->directories, name);
        if (error == SQFS_ERROR_NO_ENTRY) {
            return THINBOOT_IMAGE_NOT_FOUND;
        }
    }
    sqfs_inode_generic_t *inode = NULL;
    if (error == 0) {
        error = sqfs_dir_reader_get_inode(image->directories, &inode);
    }
    if (error != 0) {
        return thinboot_fail(image, "squashfs folder: %s", squashfs_reason(error));
    }
    return make_node(image, inode, out);
}

int thinboot_squashfs_list(thinboot_image *image, const thinboot_node *directory, thinboot_list_callback callback,
                           void *context) {
    int error = sqfs_dir_reader_open_dir(image->directories, directory->squashfs, 0);
    while (error == 0) {
        sqfs_dir_entry_t *entry = NULL;
        error = sqfs_dir_reader_read(image->directories, &entry);
        if (error > 0) {
            return THINBOOT_IMAGE_OK;
        }
        if (error == 0) {
            int stop = callback(context, (const char *)entry->name, (size_t)entry->size + 1);
            sqfs_free(entry);
            if (stop) {
                return THINBOOT_IMAGE_OK;
            }
        }
    }
    return thinboot_fail(image, "squashfs folder: %s", squashfs_reason(error));
}

int thinboot_squashfs_read(thinboot_image *image, const thinboot_node *file, uint64_t offset, void *buffer,
                           size_t length, size_t *done) {
    while (*done < length) {
        size_t chunk = length - *done;
        if (chunk > (1u << 30)) {
            chunk = 1u << 30;
        }
        sqfs_s32 read = sqfs_data_reader_read(image->data, file->squashfs, offset + *done, (char *)buffer + *done,
                                              (sqfs_u32)chunk);
        if (read < 0) {
            return thinboot_fail(image, "squashfs data: %s", squashfs_reason(read));
        }
        if (read == 0) {
            break;
        }
        *done += (size_t)read;
    }
    return THINBOOT_IMAGE_OK;
}
