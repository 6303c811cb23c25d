// squashfs through libsquashfs: a file interface over the image's byte range, the super block checked against it,
// metadata readers over the inode and folder tables for lookups and listings (each inode's claimed sizes checked
// before libsquashfs allocates by them), a data reader for file bytes (blocks, fragments and holes).
#include "readers.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

/// The longest symlink target an inode may claim (Linux's PATH_MAX): libsquashfs allocates the claimed size when it
/// reads the inode, so a corrupt one asked for up to 4 GiB.
#define MAXIMUM_SYMLINK_TARGET 4096u
/// The longest name in a squashfs folder. An extended folder inode's index holds one name per metadata block of
/// its listing, each with a 32-bit size that libsquashfs allocates by (realloc of 4 GiB, found by the fuzz smoke).
#define MAXIMUM_NAME 256u

const char *thinboot_squashfs_reason(int error) {
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
        return thinboot_fail(image, "squashfs super block: %s", thinboot_squashfs_reason(error));
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
                             thinboot_squashfs_reason(error));
    }
    if (image->super.flags & SQFS_FLAG_COMPRESSOR_OPTIONS) {
        error = image->compressor->read_options(image->compressor, &file->base);
        if (error != 0) {
            return thinboot_fail(image, "squashfs compressor options: %s", thinboot_squashfs_reason(error));
        }
    }
    // The tables' bounds, as libsquashfs's own directory reader sets them: inodes up to the folder table, folders
    // up to the first table after it.
    const sqfs_super_t *super = &image->super;
    uint64_t folders_end = super->id_table_start;
    if (super->fragment_table_start < folders_end) {
        folders_end = super->fragment_table_start;
    }
    if (super->export_table_start < folders_end) {
        folders_end = super->export_table_start;
    }
    image->inodes =
        sqfs_meta_reader_create(&file->base, image->compressor, super->inode_table_start, super->directory_table_start);
    image->directories =
        sqfs_meta_reader_create(&file->base, image->compressor, super->directory_table_start, folders_end);
    image->data = sqfs_data_reader_create(&file->base, image->super.block_size, image->compressor, 0);
    if (image->inodes == NULL || image->directories == NULL || image->data == NULL) {
        return thinboot_fail(image, "out of memory");
    }
    error = sqfs_data_reader_load_fragment_table(image->data, &image->super);
    if (error != 0) {
        return thinboot_fail(image, "squashfs fragment table: %s", thinboot_squashfs_reason(error));
    }
    return THINBOOT_IMAGE_OK;
}

void thinboot_squashfs_close(thinboot_image *image) {
    sqfs_destroy(image->data);
    sqfs_destroy(image->directories);
    sqfs_destroy(image->inodes);
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

/// How many sizes a file's block list holds, counted as libsquashfs counts them: one a whole block, and one for a
/// tail that is not kept in a fragment.
static uint64_t block_count(uint64_t size, uint32_t block_size, uint32_t fragment_index, uint32_t fragment_offset) {
    uint64_t count = size / block_size;
    if (size % block_size != 0 && (fragment_index == 0xFFFFFFFFu || fragment_offset == 0xFFFFFFFFu)) {
        ++count;
    }
    return count;
}

/// Reads `count` block sizes from where the inode reader stands and drops them. libsquashfs allocates the whole list
/// by the file's 64-bit size before it reads it: a corrupt size asked for gigabytes. Walked first, a list that the
/// inode table does not hold is refused unallocated, and one it does hold (a sparse file of terabytes is a few
/// compressed metadata blocks) costs what it really is.
static int skip_block_list(thinboot_image *image, uint64_t count) {
    uint32_t sizes[1024];
    int error = 0;
    while (error == 0 && count > 0) {
        size_t step = count < 1024 ? (size_t)count : 1024;
        error = sqfs_meta_reader_read(image->inodes, sizes, step * sizeof sizes[0]);
        count -= step;
    }
    return error;
}

/// Refuses the inode at `ref` when it claims a symlink target or a folder index name beyond the bounds above, or a
/// block list its inode table does not hold: read before libsquashfs reads the inode and sizes its allocation by
/// those claims.
static int check_inode(thinboot_image *image, sqfs_u64 ref) {
    sqfs_inode_t base;
    int error = sqfs_meta_reader_seek(image->inodes, image->super.inode_table_start + (ref >> 16), ref & 0xFFFF);
    if (error == 0) {
        error = sqfs_meta_reader_read(image->inodes, &base, sizeof base);
    }
    uint64_t target = 0;
    uint64_t size = 0;
    uint64_t blocks = 0;
    switch (error == 0 ? le16toh(base.type) : 0) {
    case SQFS_INODE_SLINK:
    case SQFS_INODE_EXT_SLINK: {
        // Both symlink layouts start with nlink and target_size.
        sqfs_inode_slink_t link;
        error = sqfs_meta_reader_read(image->inodes, &link, sizeof link);
        target = le32toh(link.target_size);
        break;
    }
    case SQFS_INODE_FILE: {
        sqfs_inode_file_t file;
        error = sqfs_meta_reader_read(image->inodes, &file, sizeof file);
        size = le32toh(file.file_size);
        blocks = block_count(size, image->super.block_size, le32toh(file.fragment_index),
                             le32toh(file.fragment_offset));
        break;
    }
    case SQFS_INODE_EXT_FILE: {
        sqfs_inode_file_ext_t file;
        error = sqfs_meta_reader_read(image->inodes, &file, sizeof file);
        size = le64toh(file.file_size);
        blocks = block_count(size, image->super.block_size, le32toh(file.fragment_idx), le32toh(file.fragment_offset));
        break;
    }
    case SQFS_INODE_EXT_DIR: {
        sqfs_inode_dir_ext_t folder;
        error = sqfs_meta_reader_read(image->inodes, &folder, sizeof folder);
        // Each index entry is read as libsquashfs will, its name skipped; the walk ends with the metadata.
        for (uint32_t entry = 0; error == 0 && entry < le16toh(folder.inodex_count); ++entry) {
            sqfs_dir_index_t index;
            error = sqfs_meta_reader_read(image->inodes, &index, sizeof index);
            if (error != 0) {
                break;
            }
            // The size field is the name's length - 1; 64 bits, so 0xFFFFFFFF + 1 does not wrap to 0.
            uint64_t name = (uint64_t)le32toh(index.size) + 1;
            if (name > MAXIMUM_NAME) {
                return thinboot_fail(image, "squashfs folder index claims a name of %llu bytes, more than %u",
                                     (unsigned long long)name, MAXIMUM_NAME);
            }
            char skipped[MAXIMUM_NAME];
            error = sqfs_meta_reader_read(image->inodes, skipped, (size_t)name);
        }
        break;
    }
    default:
        break;
    }
    if (error != 0) {
        return thinboot_fail(image, "squashfs inode: %s", thinboot_squashfs_reason(error));
    }
    if (target > MAXIMUM_SYMLINK_TARGET) {
        return thinboot_fail(image, "squashfs symlink claims a target of %llu bytes, more than %u",
                             (unsigned long long)target, MAXIMUM_SYMLINK_TARGET);
    }
    error = skip_block_list(image, blocks);
    if (error != 0) {
        return thinboot_fail(image, "squashfs file claims %llu bytes, a list of %llu blocks its inode table lacks (%s)",
                             (unsigned long long)size, (unsigned long long)blocks, thinboot_squashfs_reason(error));
    }
    return THINBOOT_IMAGE_OK;
}

/// The inode at `ref` into a new node.
static int read_node(thinboot_image *image, sqfs_u64 ref, thinboot_node **out) {
    if (check_inode(image, ref) != THINBOOT_IMAGE_OK) {
        return THINBOOT_IMAGE_FAILED;
    }
    sqfs_inode_generic_t *inode = NULL;
    int error = sqfs_meta_reader_read_inode(image->inodes, &image->super, ref >> 16, ref & 0xFFFF, &inode);
    if (error != 0) {
        return thinboot_fail(image, "squashfs inode: %s", thinboot_squashfs_reason(error));
    }
    return make_node(image, inode, out);
}

int thinboot_squashfs_root(thinboot_image *image, thinboot_node **out) {
    return read_node(image, image->super.root_inode_ref, out);
}

/// Calls `visit` with each entry of `directory` and its inode reference until it returns non-zero (then
/// THINBOOT_IMAGE_OK) or the folder ends (THINBOOT_IMAGE_NOT_FOUND).
static int each_entry(thinboot_image *image, const thinboot_node *directory,
                      int (*visit)(void *context, const sqfs_dir_entry_t *entry, sqfs_u64 ref), void *context) {
    sqfs_readdir_state_t state;
    int error = sqfs_readdir_state_init(&state, &image->super, directory->squashfs);
    while (error == 0) {
        sqfs_dir_entry_t *entry = NULL;
        sqfs_u64 ref = 0;
        error = sqfs_meta_reader_readdir(image->directories, &state, &entry, NULL, &ref);
        if (error > 0) {
            return THINBOOT_IMAGE_NOT_FOUND;
        }
        if (error == 0) {
            int stop = visit(context, entry, ref);
            sqfs_free(entry);
            if (stop) {
                return THINBOOT_IMAGE_OK;
            }
        }
    }
    return thinboot_fail(image, "squashfs folder: %s", thinboot_squashfs_reason(error));
}

struct wanted_name {
    const char *name;
    size_t length;
    sqfs_u64 ref;
};

static int find_name(void *context, const sqfs_dir_entry_t *entry, sqfs_u64 ref) {
    struct wanted_name *wanted = context;
    // The stored size is the name's length less one.
    if ((size_t)entry->size + 1 != wanted->length || memcmp(entry->name, wanted->name, wanted->length) != 0) {
        return 0;
    }
    wanted->ref = ref;
    return 1;
}

int thinboot_squashfs_lookup(thinboot_image *image, const thinboot_node *directory, const char *name,
                             thinboot_node **out) {
    struct wanted_name wanted = {name, strlen(name), 0};
    int status = each_entry(image, directory, find_name, &wanted);
    if (status != THINBOOT_IMAGE_OK) {
        return status;
    }
    return read_node(image, wanted.ref, out);
}

struct listing {
    thinboot_list_callback callback;
    void *context;
};

static int list_name(void *context, const sqfs_dir_entry_t *entry, sqfs_u64 ref) {
    (void)ref;
    const struct listing *listing = context;
    return listing->callback(listing->context, (const char *)entry->name, (size_t)entry->size + 1);
}

int thinboot_squashfs_list(thinboot_image *image, const thinboot_node *directory, thinboot_list_callback callback,
                           void *context) {
    struct listing listing = {callback, context};
    int status = each_entry(image, directory, list_name, &listing);
    return status == THINBOOT_IMAGE_NOT_FOUND ? THINBOOT_IMAGE_OK : status;
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
            return thinboot_fail(image, "squashfs data: %s", thinboot_squashfs_reason(read));
        }
        if (read == 0) {
            break;
        }
        *done += (size_t)read;
    }
    return THINBOOT_IMAGE_OK;
}
