#ifndef THINBOOT_CSYSTEMD_SHIM_H
#define THINBOOT_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#endif
