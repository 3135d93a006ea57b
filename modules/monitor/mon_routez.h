/*
 * mon_routez.h - the "routez" service, version 1, as the cluster module
 * publishes it (docs/modules/cluster.md, "The routez service").
 *
 * This mirrors the service's published v1 layout; the monitor includes
 * nothing from modules/cluster (docs/modules/cluster.md: a monitoring
 * module copies the contract).  Fields are only appended and each
 * struct's `size` says how much the cluster module filled, so a reader
 * checks `size` before touching a field (MON_RZ_HAS).  Strings in
 * cl_routez_info are valid during the foreach callback only.
 */
#ifndef MON_ROUTEZ_H
#define MON_ROUTEZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CL_ROUTEZ_SERVICE "routez"

typedef struct cl_routez_info {
    size_t      size;             /* sizeof(cl_routez_info) of the writer */
    uint64_t    rid;              /* connection id */
    const char *remote_id;        /* peer's server_id ("" before its INFO) */
    const char *remote_name;      /* peer's server_name */
    const char *ip;  int port;    /* TCP peer address */
    bool        did_solicit;      /* we dialed it */
    bool        is_configured;    /* an explicit route from the settings */
    uint64_t    start_unix_ms;
    uint64_t    in_msgs, in_bytes, out_msgs, out_bytes;
    uint32_t    subscriptions;    /* the peer's interest held for it */
    const char *const *connect_urls;  size_t nconnect_urls;  /* its client URLs */
    void       *reserved[4];
    /* appended: check size */
    uint64_t    rtt_ns;           /* last PING/PONG round trip (0: not measured yet) */
    uint64_t    pending_bytes;    /* queued output not yet written (0: not known) */
    const char *const *subs;      /* the peer's interest held: "account subject[ queue]" */
    size_t      nsubs;
} cl_routez_info;

typedef struct cl_routez_v1 {
    size_t      size;             /* sizeof(cl_routez_v1) of the writer */
    const char *(*cluster_name)(void);
    size_t      (*num_routes)(void);
    int         (*foreach)(void (*fn)(void *ud, const cl_routez_info *ri), void *ud);
    const char *(*listen_addr)(void);
    void       *reserved[4];
} cl_routez_v1;

/* Did the writer of *p (whose first member is its size) fill `field`? */
#define MON_RZ_HAS(p, type, field) \
    ((p)->size >= offsetof(type, field) + sizeof(((type *)0)->field))

#endif
