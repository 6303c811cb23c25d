#ifndef THINBOOT_CSQUASHFS_SHIM_H
#define THINBOOT_CSQUASHFS_SHIM_H
#include <sqfs/predef.h>
#include <sqfs/error.h>
#include <sqfs/io.h>
#include <sqfs/super.h>
#include <sqfs/compressor.h>
#include <sqfs/inode.h>
#include <sqfs/dir.h>
#include <sqfs/dir_reader.h>
#include <sqfs/data_reader.h>
#endif
