/*
 * abi_version.c - one source, several ABI test modules, each built with
 * -DABI_MOD_NAME=<name> and one of:
 *   ABI_MINOR_DELTA=<d>   report abi_minor = MODNATS_ABI_MINOR + d
 *                         (0: same minor; 1: newer, must be refused)
 *   ABI_MINOR_OLDER       report one minor less than the header (0 while
 *                         the header's minor is 0: then it equals "same")
 *   ABI_MAJOR_DELTA=<d>   report abi_major = MODNATS_ABI_MAJOR + d
 *   ABI_SMALL_DESC        desc.size = offsetof(modnats_module_desc, reserved):
 *                         a descriptor from before the reserved slots
 *   ABI_BAD_MAGIC         a wrong magic number
 *   ABI_DESC_NAME=<s>     the name in the descriptor, if not ABI_MOD_NAME
 *   ABI_INIT_FAIL         init logs why and returns MODNATS_ERR
 *   ABI_INIT_SLEEP_MS=<n> init sleeps first (to look at the port meanwhile)
 * A module that loads logs the host table's size and ABI from init and
 * "fini" from fini, so the tests see init and cleanup.
 */
#include "abi_mod.h"

#include <time.h>

#ifndef ABI_MOD_NAME
#error "build with -DABI_MOD_NAME=<name>"
#endif
#define STR2(x) #x
#define STR(x) STR2(x)
#ifndef ABI_DESC_NAME
#define ABI_DESC_NAME STR(ABI_MOD_NAME)
#endif
#ifndef ABI_MINOR_DELTA
#define ABI_MINOR_DELTA 0
#endif
#ifndef ABI_MAJOR_DELTA
#define ABI_MAJOR_DELTA 0
#endif

#ifdef ABI_MINOR_OLDER
#define ABI_REPORTED_MINOR (MODNATS_ABI_MINOR > 0 ? MODNATS_ABI_MINOR - 1 : 0)
#else
#define ABI_REPORTED_MINOR (MODNATS_ABI_MINOR + ABI_MINOR_DELTA)
#endif

static const modnats_host_api *api;
static modnats_module *self;

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
#ifdef ABI_INIT_SLEEP_MS
    struct timespec ts = { ABI_INIT_SLEEP_MS / 1000, (ABI_INIT_SLEEP_MS % 1000) * 1000000L };
    nanosleep(&ts, NULL);
#endif
#ifdef ABI_INIT_FAIL
    api->log(m, MODNATS_LOG_ERROR, "refusing to start: this module always fails its init");
    return MODNATS_ERR;
#else
    api->log(m, MODNATS_LOG_INFO,
             "init: host ABI %u.%u api_size_ok=%s has_server_name=%s server_version=%s",
             a->abi_major, a->abi_minor, a->size >= sizeof(modnats_host_api) ? "yes" : "no",
             MODNATS_HAS(a, server_name) ? "yes" : "no", a->server_version);
    return MODNATS_OK;
#endif
}

static void fini(modnats_module *m)
{
    (void)m;
    api->log(self, MODNATS_LOG_INFO, "fini");
}

static const modnats_module_desc desc = {
#ifdef ABI_BAD_MAGIC
    .magic = 0x0badf00du,
#else
    .magic = MODNATS_MODULE_MAGIC,
#endif
#ifdef ABI_SMALL_DESC
    .size = offsetof(modnats_module_desc, reserved),
#else
    .size = sizeof(modnats_module_desc),
#endif
    .abi_major = MODNATS_ABI_MAJOR + ABI_MAJOR_DELTA,
    .abi_minor = ABI_REPORTED_MINOR,
    .name = ABI_DESC_NAME,
    .version = "1.0",
    .description = "ABI version test module " STR(ABI_MOD_NAME),
    .options = NULL,
    .init = init,
    .fini = fini,
};

MODNATS_MODULE(ABI_MOD_NAME) { return &desc; }
