/*
 * cluster_routez.h - the "routez" service (version 1) the cluster module
 * registers for monitoring (/routez).  Another module finds it with
 *
 *     const cl_routez_v1 *rz = api->service_get(CL_ROUTEZ_SERVICE, 1);
 *
 * and may copy this header (it is the whole contract; fields are only
 * appended, and `size` says how much of the struct the cluster module
 * filled).  Strings in cl_routez_info are valid during the callback only.
 */
#ifndef CLUSTER_ROUTEZ_H
#define CLUSTER_ROUTEZ_H

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
    /* The cluster's name (valid until the next call). */
    const char *(*cluster_name)(void);
    /* Number of registered routes now. */
    size_t      (*num_routes)(void);
    /* Visit every registered route (a snapshot; fn on the caller's
     * thread, never while the module holds a lock). */
    int         (*foreach)(void (*fn)(void *ud, const cl_routez_info *ri), void *ud);
    /* The route listener "host:port" (NULL if none). */
    const char *(*listen_addr)(void);
    void       *reserved[4];
} cl_routez_v1;

#endif
