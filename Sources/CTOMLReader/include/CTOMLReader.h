#ifndef THINBOOT_CTOMLREADER_H
#define THINBOOT_CTOMLREADER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A TOML document parsed by toml++ and flattened into one buffer that the caller owns, so nothing of the parse
/// outlives the call (TOMLKit kept every parsed document and most of what was read from it). The layout, each
/// node a tag byte then its payload, numbers in host byte order:
///   't' u32 count, then per entry: u32 key length, key bytes, node     (a table)
///   'a' u32 count, then count nodes                                    (an array)
///   's' u32 length, bytes      (a string)       'i' int64     (an integer)
///   'f' double                 (a float)        'b' u8 0 or 1 (a boolean)
///   'D', 'T' or 'X' (a local date, a local time, a date-time), then u32 length and its TOML text
/// On a parse error `bytes` holds toml++'s description instead and `error_line` is its 1-based line.
typedef struct {
    uint8_t *_Nullable bytes;
    size_t count;
    uint32_t error_line;
} thinboot_toml_result;

/// Parses `length` bytes of TOML (not NUL-terminated; a NUL byte is a parse error; `text` may be NULL when `length`
/// is 0). `bytes` is NULL only when memory ran out.
thinboot_toml_result thinboot_toml_parse(const char *_Nullable text, size_t length);

/// Frees what `thinboot_toml_parse` returned.
void thinboot_toml_free(thinboot_toml_result *_Nonnull result);

#ifdef __cplusplus
}
#endif

#endif
