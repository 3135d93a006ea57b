/*
 * mn.h - conventions shared by every file of the modnats core.
 *
 * One error convention everywhere: functions that can fail return an int,
 * MN_OK (0) on success and a negative MN_E* code otherwise.  Functions that
 * return pointers return NULL on failure.  Internal names carry the mn_
 * prefix; the public SDK uses modnats_ and lives in sdk/.
 */
#ifndef MN_H
#define MN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define MN_OK        0
#define MN_ERR      -1   /* generic failure; details were logged or set */
#define MN_ENOMEM   -2
#define MN_EINVAL   -3   /* bad argument or bad input from a peer */
#define MN_EAGAIN   -4   /* would block; try later */
#define MN_ECLOSED  -5   /* the connection is closing */
#define MN_ENOTFOUND -6

/* The nats-server feature level we implement; clients gate features on it. */
#define MN_NATS_COMPAT_VERSION "2.10.0"
/* modnats's own version. */
#define MN_VERSION "0.1.0"
#define MN_PROTO_VERSION 1

#define MN_UNUSED(x) ((void)(x))
#define MN_LIKELY(x) __builtin_expect(!!(x), 1)
#define MN_UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif
