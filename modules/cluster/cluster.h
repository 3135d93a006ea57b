/*
 * cluster.h - internals of the cluster module (routes between servers of
 * one cluster, a full mesh, speaking nats-server 2.9's route protocol).
 *
 * Files: cluster.c (entry, settings, init/fini, the routez service),
 * cl_route.c (connections: INFO/CONNECT, duplicates, gossip, reconnects,
 * pings), cl_proto.c (the route protocol parser), cl_interest.c (local
 * interest -> RS+/RS-, remote interest -> one sink per route, RMSG both
 * ways),
 * cl_json.c (the little JSON this needs).
 *
 * Locks, in the only order they are taken: g_cl.lock (the route list,
 * the local interest table, settings that change) -> route->wlock (the
 * route's connection pointer, for writers on any thread).  Never held
 * while calling sink_subscribe/sink_free/publish (they may run our hooks).
 */
#ifndef CLUSTER_H
#define CLUSTER_H

#include <modnats/modnats.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster_routez.h"

#define CL_VERSION "0.1.0"
#define CL_ID_MAX 64

/* A route URL from the settings or from gossip. */
typedef struct cl_url {
    char *host;
    int   port;
    char *user, *pass;       /* NULL: none */
} cl_url;

typedef enum cl_state {
    CL_DIALING = 0,          /* dial issued, no connection yet */
    CL_OPEN,                 /* connected, waiting for INFO (and CONNECT) */
    CL_ACTIVE,               /* registered: interest and messages flow */
    CL_CLOSED,
} cl_state;

/* One remote subscription of a route, by "account subject[ queue]". */
typedef struct cl_rsub {
    char           *key;
    modnats_sub    *sub;
    int             weight;
    struct cl_rsub *next;
} cl_rsub;

typedef struct cl_route cl_route;

/* Route permissions (cl_perms.c): allow/deny subject lists. */
typedef struct cl_plist {
    char  **v;
    size_t  n;
} cl_plist;

typedef struct cl_perms {
    cl_plist imp_allow, imp_deny, exp_allow, exp_deny;
    struct cl_perms *retired_next;
} cl_perms;

struct cl_route {
    _Atomic int      refs;
    pthread_mutex_t  wlock;          /* conn */
    modnats_conn    *conn;           /* NULL before open / after close */
    pthread_t        owner;          /* the conn's worker thread */
    bool             has_owner;

    /* g_cl.lock */
    cl_state         state;
    bool             solicited;
    int              explicit_idx;   /* index in the routes setting, -1: implicit */
    cl_url           url;            /* what we dialed (solicited) */
    char             remote_id[CL_ID_MAX];
    char            *remote_name;
    char            *remote_host;    /* INFO host/port: the remote's route listener */
    int              remote_port;
    char            *gossip_url;     /* nats-route://ip:port/ as we tell others */
    char           **connect_urls;   /* the remote's client URLs */
    size_t           nconnect_urls;
    bool             got_info, got_connect;
    bool             remote_auth_required;
    bool             no_redial;      /* removed from the settings: let it go */
    char            *conn_user, *conn_pass;   /* an accepted route's CONNECT credentials */
    cl_perms        *peer_export;    /* the export permissions its INFO announced */
    uint64_t         ping_sent_ns;   /* our PING in flight (0: none), for rtt */
    uint64_t         opened_ms, auth_deadline_ms, last_ping_ms;
    int              pings_out;
    modnats_origin   origin;
    cl_route        *next;

    /* the connection's worker only */
    char            *rbuf;
    size_t           rlen, rcap;
    modnats_sink    *sink;           /* the remote interest (all accounts), or NULL */
    cl_rsub        **rtab;           /* its subscriptions, hashed by key */
    size_t           rbuckets, rcount;
    modnats_account *rmsg_acc;       /* the account of the last RMSG, by name */
    char             rmsg_acc_name[64];
    unsigned         perm_gen;       /* g_cl.perms_gen its remote interest was checked at */

    /* counters (relaxed atomics) */
    _Atomic uint64_t in_msgs, in_bytes, out_msgs, out_bytes, nsubs;
    _Atomic uint64_t rtt_ns;         /* last PING/PONG round trip (0: none yet) */
    pthread_mutex_t  slock;          /* rtab's shape, for routez readers */
};

/* An explicit route from the settings, with its retry state. */
typedef struct cl_explicit {
    cl_url    url;
    char      last_id[CL_ID_MAX];    /* whom it reached last time */
    bool      dialing;               /* a route of ours is dialing/connected to it */
    bool      is_self;               /* it pointed at this server: stop */
    uint64_t  next_try_ms;
    uint64_t  backoff_ms;
    uint32_t  failures;
} cl_explicit;

/* A peer learned from gossip (or a closed route) that we may redial. */
typedef struct cl_known {
    char      id[CL_ID_MAX];
    cl_url    url;
    int       tries_left;
    uint64_t  next_try_ms;
    struct cl_known *next;
} cl_known;

/* One local interest entry: how many local subscriptions (queue members)
 * there are for subject[+queue] in an account. */
typedef struct cl_lint {
    modnats_account *acc;
    char            *subject;
    char            *queue;          /* NULL: plain */
    int              count;
    struct cl_lint  *next;
} cl_lint;

typedef struct cl_global {
    const modnats_host_api *api;
    modnats_module         *self;
    pthread_mutex_t         lock;

    /* settings */
    char        *name;               /* cluster name */
    bool         name_dynamic;
    char        *host;               /* route listener */
    int          port;               /* the bound port once listening */
    int          cfg_port;           /* as configured (0: random) */
    char        *advertise;          /* host:port, or NULL */
    bool         no_advertise;
    int          connect_retries;
    char        *auth_user, *auth_pass;
    int64_t      auth_timeout_ms;
    int64_t      ping_interval_ms;
    int          ping_max;

    cl_explicit *explicit_routes;
    size_t       nexplicit;
    cl_known    *known;

    modnats_listener *listener;
    /* cluster { tls { } }: routes speak TLS from the first byte, both
     * sides verifying certificates (as nats-server 2.9); NULL: plain. */
    modnats_tls      *tls_accept, *tls_dial;   /* swapped on RELOAD under lock */
    bool              tls_on;                  /* as started */
    modnats_timer    *timer;
    cl_route         *routes;
    uint32_t          origin_module; /* MODNATS_ORIGIN_MODULE of our origins */

    cl_lint         **lint;          /* local interest hash table */
    size_t            lint_buckets, lint_count;

    _Atomic(cl_perms *) perms;       /* NULL: no route permissions */
    cl_perms         *perms_retired; /* replaced sets, freed at fini */
    _Atomic unsigned  perms_gen;

    char             *own_client_urls_json;  /* our client URLs as a JSON array */
    char            **own_client_urls;
    size_t            nown_client_urls;
    bool              shutting_down;
} cl_global;

extern cl_global g_cl;

#define CL_API (g_cl.api)
#define cl_log(level, ...) CL_API->log(g_cl.self, (level), __VA_ARGS__)

/* cluster.c */
uint64_t cl_now_ms(void);
uint64_t cl_mono_ns(void);
bool     cl_url_parse(const char *s, int default_port, cl_url *out);
void     cl_url_free(cl_url *u);
bool     cl_url_copy(const cl_url *in, cl_url *out);

/* cl_json.c: minimal readers over a JSON object text (top-level keys
 * only) and a string escaper. */
bool   cl_json_string(const char *json, const char *key, char **out);      /* malloc'd */
bool   cl_json_int(const char *json, const char *key, int64_t *out);
bool   cl_json_bool(const char *json, const char *key, bool *out);
bool   cl_json_strings(const char *json, const char *key, char ***out, size_t *n);
void   cl_json_escape(char *dst, size_t cap, const char *s);   /* quotes included */
void   cl_strv_free(char **v, size_t n);
bool   cl_json_object(const char *json, const char *key, char **out);      /* malloc'd text */

/* cl_perms.c */
int             cl_perms_read(const modnats_config *cfg, cl_perms **out);   /* 0 / -1 */
void            cl_perms_free(cl_perms *p);
bool            cl_perms_equal(const cl_perms *a, const cl_perms *b);
bool            cl_perm_import_ok(const cl_perms *p, const char *subj);
bool            cl_perm_export_ok(const cl_perms *p, const char *subj);
bool            cl_perm_export_denied(const cl_perms *p, const char *subj, size_t len);
void            cl_perms_info_json(const cl_perms *p, char *buf, size_t cap);
cl_perms       *cl_perms_from_info(const char *json);
const cl_perms *cl_perms_get(void);
void            cl_perms_install(cl_perms *p);
void            cl_perms_fini(void);

/* cl_route.c */
modnats_rc cl_route_start(void);                 /* init: listener, timer, first dials */
void       cl_route_stop(void);                  /* fini */
void       cl_route_ref(cl_route *r);
void       cl_route_unref(cl_route *r);
/* Write a frame to a route (any thread); false when it is closed. */
bool       cl_route_write(cl_route *r, const void *buf, size_t len);
/* Protocol callbacks from cl_proto.c (the route's worker). */
int        cl_on_info(cl_route *r, const char *json);
int        cl_on_connect(cl_route *r, const char *json);
void       cl_on_ping(cl_route *r);
void       cl_on_pong(cl_route *r);
void       cl_on_err(cl_route *r, const char *text);
/* An origin of one of our routes (any thread, no lock). */
bool       cl_origin_is_ours(modnats_origin o);
size_t     cl_route_remap_locked(const cl_explicit *old, size_t nold, bool auth_changed,
                                 cl_route **closing, bool *auth_fail, size_t max);
void       cl_route_advertise_changed_locked(void);
void       cl_route_after_reload(cl_route **closing, const bool *auth_fail, size_t n,
                                 bool perms_changed);
void       cl_collect_routez(void (*fn)(void *ud, const cl_routez_info *ri), void *ud);

/* cl_proto.c: consume bytes; returns 0, or -1 to close. */
int        cl_proto_feed(cl_route *r, const char *buf, size_t len);

/* cl_interest.c */
modnats_rc cl_interest_init(void);               /* hook + seed */
void       cl_interest_fini(void);
/* g_cl.lock held: send every local interest entry to r (just registered). */
void       cl_interest_send_all_locked(cl_route *r);
/* g_cl.lock held: RS+/RS- to every active route for the local interest
 * whose import permission changed from old to now (a reload). */
void       cl_interest_reimport_locked(const cl_perms *old, const cl_perms *now);
/* g_cl.lock held: RS+ to r for local interest its export newly allows. */
void       cl_interest_peer_export_locked(cl_route *r, const cl_perms *old, const cl_perms *now);
/* The route's worker: drop held remote interest our export no longer allows. */
void       cl_interest_recheck_export(cl_route *r);
/* The route's worker: remote interest and messages. */
int        cl_on_rsub(cl_route *r, const char *acc, const char *subject, const char *queue,
                      int weight);
int        cl_on_runsub(cl_route *r, const char *acc, const char *subject, const char *queue);
int        cl_on_rmsg(cl_route *r, const char *acc, const char *subject, const char *reply,
                      const char *const *queues, const size_t *qlens, size_t nq, bool listed,
                      const char *payload, size_t hdr_len, size_t total);
/* The route's worker, after close: drop all remote interest. */
void       cl_route_drop_interest(cl_route *r);

#endif
