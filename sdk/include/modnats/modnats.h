/*
 * modnats.h - the modnats plugin ABI: the only header a module includes.
 *
 * A module is a shared object (or, in a slim build, the same sources linked
 * into the binary) that exports exactly one function, its entry point, which
 * returns a const descriptor: magic, sizes, ABI version, name, version, the
 * options it accepts, and init/fini.  In init the module receives the host
 * API, an append-only table of function pointers whose first field is its
 * size, and registers what it does: hooks on events (auth, connect,
 * subscribe, publish permission, interest changes, ...), in-process
 * subscriptions, timers, services for other modules, listeners of its own.
 *
 * Versioning.  ABI major changes break modules and the core refuses them;
 * minor versions only append: new host functions at the end of
 * modnats_host_api, new fields at the end of event structs (which carry
 * their own size), new event kinds.  A module built against minor m loads
 * in any core with the same major and minor >= m.  A module that wants a
 * function newer than its own minor checks MODNATS_HAS(api, field) first.
 *
 * Threads (docs/modules.md has the full table):
 *  - init and fini run on the main thread, before the I/O workers start and
 *    after they stop.  fini must join every thread the module started.
 *  - Event hooks run on the I/O worker that owns the connection concerned.
 *    They must not block: slow work (a network lookup, a disk write) goes
 *    to a thread of the module's, and the result comes back through the API
 *    (e.g. modnats_host_api.auth_complete for a deferred login).
 *  - Message callbacks of in-process subscriptions run on whichever worker
 *    routes the message, possibly several at once: they must be
 *    thread-safe.
 *  - Timers run on an I/O worker.
 *  - Host functions may be called from any thread unless their comment says
 *    otherwise.
 *
 * Ownership.  Strings and buffers passed to a callback are the core's and
 * valid only during the call; copy what you keep.  Strings a module passes
 * to the host are copied by the host before the call returns, unless the
 * comment says otherwise (descriptors and option tables are static data
 * and must live as long as the process).  Handles (modnats_conn, ...) are
 * opaque; a modnats_conn is valid until its disconnect event returns.
 */
#ifndef MODNATS_H
#define MODNATS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MODNATS_ABI_MAJOR 1
#define MODNATS_ABI_MINOR 2
#define MODNATS_MODULE_MAGIC 0x6d6e6d64u   /* "mnmd" */

/* ------------------------------------------------------------ results */

typedef enum modnats_rc {
    MODNATS_OK = 0,          /* allowed / handled: go on */
    MODNATS_DEFER = 1,       /* not mine: ask the next hook in the chain */
    MODNATS_DENY = 2,        /* refused: stop the chain */
    MODNATS_PENDING = 3,     /* auth only: the answer comes later, see auth_complete */
    MODNATS_ERR = -1,        /* failure (bad argument, out of memory, ...) */
    MODNATS_ENOTSUP = -2,    /* the core does not offer this (yet) */
    MODNATS_ENOTFOUND = -3,
    MODNATS_ELOOP = -4,      /* ABI 1.1, account_import: the import would form a cycle */
} modnats_rc;

/* ------------------------------------------------------- opaque handles */

typedef struct modnats_module   modnats_module;   /* the core's record of a module */
typedef struct modnats_conn     modnats_conn;     /* a client (or module-owned) connection */
typedef struct modnats_account  modnats_account;
typedef struct modnats_sub      modnats_sub;      /* an in-process subscription */
typedef struct modnats_timer    modnats_timer;
typedef struct modnats_listener modnats_listener;
typedef struct modnats_auth_ticket modnats_auth_ticket;  /* one pending login */
typedef struct modnats_config   modnats_config;   /* the module's settings group */

/* ------------------------------------------------------------ options */

typedef enum modnats_opt_type {
    MODNATS_OPT_BOOL = 1,
    MODNATS_OPT_INT,         /* integer */
    MODNATS_OPT_SIZE,        /* integer or "64KB"/"1MB"/... */
    MODNATS_OPT_DURATION,    /* seconds, or "500ms"/"2s"/"1m"/"1h"; read as ms */
    MODNATS_OPT_STRING,
    MODNATS_OPT_STRING_LIST, /* ( "a", "b" ) or [ "a", "b" ] */
    MODNATS_OPT_GROUP,       /* a nested group or list of groups: the module
                                reads it with modnats_host_api.cfg_child */
} modnats_opt_type;

/* One setting a module accepts in its group.  The core rejects unknown
 * keys and wrong types with "file:line: problem" before init runs. */
typedef struct modnats_option {
    const char      *name;
    modnats_opt_type type;
    bool             required;
    const char      *help;   /* one line, for --list-modules -D and docs */
} modnats_option;

/* ----------------------------------------------------------- messages */

/* A message as it is routed.  The pointers are valid during the call only. */
typedef struct modnats_msg {
    size_t      size;                /* sizeof(modnats_msg) of the writer */
    const char *subject;  size_t subject_len;
    const char *reply;    size_t reply_len;     /* 0: no reply */
    const char *hdr;      size_t hdr_len;       /* NATS/1.0 header block, or 0 */
    const char *data;     size_t data_len;      /* body, after the headers */
    /* For messages a peer forwards (a route's RMSG): with
     * MODNATS_MSG_QUEUES_LISTED, deliver to the local plain subscriptions
     * and to one local member of each queue group named here only (none
     * when nqueues is 0); the sending server already chose this server for
     * those groups. */
    uint32_t    flags;
    const char *const *queues;  const size_t *queue_lens;  size_t nqueues;
    /* On delivery (callbacks, sinks): the account the message is routed
     * in, set by the core.  Ignored by publish, which names the account. */
    modnats_account *account;
    /* ABI 1.2, publish: routed by `subject`, but client subscribers see
     * this subject in their MSG/HMSG line (how JetStream hands a stored
     * message to a consumer's inbox under its original subject, as
     * nats-server does).  NULL/0: the subject itself. */
    const char *deliver_as;  size_t deliver_as_len;
    void       *reserved[2];
} modnats_msg;

enum { MODNATS_MSG_QUEUES_LISTED = 1u << 0 };

/* Where a message came from, so routing never sends it back there.
 * 0 is "a local client"; a module allocates origin ids with new_origin. */
typedef uint32_t modnats_origin;
/* Origins carry the allocating module in their high bits, so a sink can
 * tell "from my own module" (MODNATS_SINK_NOT_OWN_MODULE). */
#define MODNATS_ORIGIN_MODULE(o) ((o) >> 20)

/* Called for each message matching an in-process subscription, on the
 * worker routing it (any worker; concurrently).  `origin` is the origin of
 * the message; the core already skipped messages whose origin equals the
 * subscription's own. */
typedef void (*modnats_msg_fn)(void *ud, modnats_sub *sub, const modnats_msg *msg,
                               modnats_origin origin);

/* --------------------------------------------------------------- sinks */

/* A sink stands for one remote receiver behind many subscriptions: a route
 * to another server, a gateway, a leaf node.  Its subscriptions are the
 * remote side's interest.  For each message routed, the core calls the
 * sink's deliver once (never once per subscription), saying whether a
 * plain subscription matched and which queue groups chose this sink, so
 * the module sends one frame per message per peer.  Local queue members
 * are preferred: a queue group delivers to a sink only when it has no
 * local member able to take the message.  deliver runs on the worker
 * routing the message (any worker, concurrently); the message is valid
 * during the call only. */
typedef struct modnats_sink modnats_sink;

typedef struct modnats_sink_ops {
    size_t size;
    void (*deliver)(void *ud, modnats_sink *sink, const modnats_msg *msg, modnats_origin origin,
                    bool plain, const char *const *queues, const size_t *queue_lens,
                    size_t nqueues);
    /* After sink_free, once no deliver can still be running on any worker:
     * the module frees ud here.  Runs on a worker or the main thread.  May
     * be NULL. */
    void (*released)(void *ud);
    void *reserved[4];
} modnats_sink_ops;

enum {
    /* Deliver only messages of origin 0 (local clients and in-process
     * publishers). */
    MODNATS_SINK_LOCAL_ONLY = 1u << 0,
    /* Deliver no message whose origin this sink's module allocated: a
     * route forwards nothing it got from another route, but does forward
     * what arrived from a leaf node or a gateway (other modules). */
    MODNATS_SINK_NOT_OWN_MODULE = 1u << 1,
};

/* ------------------------------------------------------------- events */

typedef enum modnats_event {
    MODNATS_EV_AUTH = 1,        /* modnats_auth_event: may the client log in? */
    MODNATS_EV_CONNECT,         /* modnats_conn_event: a client is logged in */
    MODNATS_EV_DISCONNECT,      /* modnats_conn_event: a client is gone */
    MODNATS_EV_SUB_PERMISSION,  /* modnats_perm_event: may it subscribe? */
    MODNATS_EV_PUB_PERMISSION,  /* modnats_perm_event: may it publish? (hot path:
                                   prefer conn_set_permissions) */
    MODNATS_EV_INTEREST,        /* modnats_interest_event: interest changed (run
                                   after the change, no core lock held) */
    MODNATS_EV_RELOAD,          /* modnats_reload_event: SIGHUP, new settings */
    MODNATS_EV_SHUTDOWN,        /* modnats_event_hdr: the server is stopping */
    MODNATS_EV__COUNT
} modnats_event;

/* Every event struct starts with this header. */
typedef struct modnats_event_hdr {
    size_t        size;      /* sizeof the whole event struct, as the core built it */
    modnats_event type;
} modnats_event_hdr;

typedef struct modnats_auth_event {
    modnats_event_hdr hdr;
    modnats_conn *conn;
    /* from CONNECT; NULL when absent */
    const char   *user, *pass, *token, *nkey, *jwt, *sig, *name;
    const char   *nonce;          /* what INFO sent, or NULL */
    const char   *remote_ip;
    int           remote_port;
    bool          tls;
    /* For MODNATS_PENDING: keep this and finish with auth_complete (any
     * thread, exactly once).  Valid until then. */
    modnats_auth_ticket *ticket;
    /* A DENY may set a reason for the log (never sent to the client, who
     * gets 'Authorization Violation' as nats-server sends). */
    const char   *deny_reason;
    void         *reserved[8];
} modnats_auth_event;

typedef struct modnats_conn_event {
    modnats_event_hdr hdr;
    modnats_conn *conn;
    const char   *reason;         /* DISCONNECT: why, or NULL */
    void         *reserved[8];
} modnats_conn_event;

typedef struct modnats_perm_event {
    modnats_event_hdr hdr;
    modnats_conn *conn;
    const char   *subject;  size_t subject_len;
    const char   *queue;    size_t queue_len;   /* SUB only */
    void         *reserved[8];
} modnats_perm_event;

typedef struct modnats_interest_event {
    modnats_event_hdr hdr;
    modnats_account *account;
    const char   *subject;  size_t subject_len;
    const char   *queue;    size_t queue_len;   /* 0: plain subscription */
    bool          added;                        /* false: removed */
    modnats_origin origin;                      /* whose interest it is */
    void         *reserved[8];
} modnats_interest_event;

/* RELOAD runs on the main thread, each hook seeing its own module's new
 * group (already checked against its options).  A hook that cannot use the
 * new settings returns ERR: the core logs it, and the module keeps running
 * with its old settings (it must not have applied a part of them). */
typedef struct modnats_reload_event {
    modnats_event_hdr hdr;
    const modnats_config *cfg;    /* the module's new settings group */
    void         *reserved[8];
} modnats_reload_event;

/* A hook answers OK (handled/allowed), DEFER (next hook), DENY, or, for
 * AUTH only, PENDING.  Hooks of one event run in priority order, lowest
 * number first; equal priorities in registration order.  A chain in which
 * every hook defers ends with the core's default: AUTH allows only when
 * the core itself needs no auth; permissions allow. */
typedef modnats_rc (*modnats_hook_fn)(void *ud, modnats_event_hdr *ev);

/* ------------------------------------------------------- permissions */

/* A user's permissions, as nats-server's "permissions" block: subject
 * lists (wildcards allowed) for publish and subscribe; deny wins over
 * allow; an empty allow list allows everything not denied.  The core
 * compiles them and checks them itself on every publish and subscribe, so
 * a permission costs no module call on the hot path.  Subscribe entries
 * may name a queue ("subject queue"): they then apply only to queue
 * subscriptions whose queue name matches.  A wildcard subscription that
 * overlaps a denied subject is allowed, but messages on denied subjects
 * are not delivered to it.  A publish the lists refuse is still allowed
 * when it answers a request the client received and allow_responses
 * permits it (so "responses only" is: deny ">", allow_responses). */
typedef struct modnats_permissions {
    size_t        size;
    const char *const *pub_allow;  size_t n_pub_allow;
    const char *const *pub_deny;   size_t n_pub_deny;
    const char *const *sub_allow;  size_t n_sub_allow;
    const char *const *sub_deny;   size_t n_sub_deny;
    /* allow_responses: publishing to reply subjects of received requests,
     * at most max_msgs responses (0: 1) within expires_ms (0: unlimited). */
    bool          allow_responses;
    uint32_t      responses_max_msgs;
    uint64_t      responses_expires_ms;
    void         *reserved[4];
} modnats_permissions;

/* ------------------------------------------------------ connections */

/* A module's own kind of connection (routes, gateways, leaf nodes): the
 * core owns the socket and the event loop, the module owns the protocol.
 * All callbacks run on the connection's worker. */
typedef struct modnats_conn_ops {
    size_t size;
    /* A new connection: accepted, or dialed and now connected.  Return
     * OK to keep it (anything else closes it, with on_close).  Note: a
     * conn_close called on the connection's own worker runs on_close
     * before it returns; hold none of your own locks across it. */
    modnats_rc (*on_open)(void *ud, modnats_conn *conn);
    /* Bytes arrived; consume them all (the module keeps partial frames).
     * Return ERR to close the connection. */
    modnats_rc (*on_data)(void *ud, modnats_conn *conn, const char *buf, size_t len);
    /* The connection is closed; conn dies when this returns.  A dial
     * that never connected calls it too, with conn NULL when no
     * connection object was ever made. */
    void (*on_close)(void *ud, modnats_conn *conn, const char *reason);
    void *reserved[8];
} modnats_conn_ops;

/* ----------------------------------------------------------- TLS */

/* A built TLS configuration (certificates loaded), made by tls_new from a
 * module's settings group; used by listen_tls, dial_tls, conn_start_tls. */
typedef struct modnats_tls modnats_tls;

/* What the core knows of a connection's TLS session and the peer's
 * certificate (conn_tls_info).  Strings are the core's: valid while the
 * connection is valid, never changed once the handshake is done. */
typedef struct modnats_tls_info {
    size_t       size;            /* set by the caller: sizeof(modnats_tls_info) */
    bool         has_cert;        /* the peer presented a certificate */
    bool         verified;        /* ... and its chain was verified against ca_file */
    const char  *subject;         /* RFC 2253 DN ("CN=bob,OU=Ops,O=Acme,C=US"), or NULL */
    const char *const *emails;   size_t nemails;   /* SAN e-mail addresses */
    const char *const *dns;      size_t ndns;      /* SAN DNS names */
    const char *const *uris;     size_t nuris;     /* SAN URIs */
    const char  *version;         /* "TLSv1.3" */
    const char  *cipher;          /* the cipher suite's IANA name ("TLS_AES_128_GCM_SHA256") */
    /* The server's tls block asks for verify_and_map: an auth module
     * should log the client in as the user its certificate names. */
    bool         map;
    void        *reserved[8];
} modnats_tls_info;

/* tls_new flags. */
enum {
    MODNATS_TLS_SERVER = 1u << 0,   /* the accepting side (else: dialing) */
    MODNATS_TLS_VERIFY = 1u << 1,   /* require and verify the peer's certificate,
                                       whatever the group says (routes do) */
};

/* ---------------------------------------------------------- stats */

typedef struct modnats_stats {
    size_t   size;
    /* identity and settings (as /varz shows them) */
    const char *server_id, *server_name, *version, *compat_version;
    const char *host;  int port;
    int64_t  max_payload, max_control_line, max_pending;
    int      max_connections, max_subscriptions;
    int64_t  ping_interval_ms;  int ping_max;
    int64_t  auth_timeout_ms, write_deadline_ms;
    bool     auth_required;
    uint64_t start_unix_ms, config_load_unix_ms;
    int      io_threads;
    /* counters */
    uint64_t in_msgs, in_bytes, out_msgs, out_bytes;
    uint64_t connections, total_connections, slow_consumers;
    /* routing (global account; /subsz) */
    uint64_t subscriptions, sublist_cache_entries;
    uint64_t sublist_inserts, sublist_removes, sublist_matches, sublist_cache_hits;
    /* server_tags, as configured (valid for the server's life) */
    const char *const *tags;  size_t ntags;
    void    *reserved[16];
    /* ABI 1.1: TLS on the client port, as started (for /varz) */
    bool     tls_required, tls_verify;
    int64_t  tls_timeout_ms;
} modnats_stats;

/* What monitoring sees of one client connection (monitor's /connz). */
typedef struct modnats_conn_info {
    size_t      size;
    uint64_t    cid;
    const char *kind;               /* "Client" (later "Route", "Leafnode", ...) */
    const char *ip;  int port;
    const char *name, *lang, *version, *account, *user;
    uint64_t    start_unix_ms, last_activity_unix_ms;
    uint64_t    in_msgs, in_bytes, out_msgs, out_bytes;
    uint64_t    pending_bytes;
    uint32_t    subscriptions;
    /* the subscription subjects, when conns_foreach was asked for them */
    const char *const *subs;        /* subs[i] is "subject" or "subject queue" */
    uint64_t    rtt_us;             /* 0: not measured */
    bool        closed;             /* always false for now (no closed-connection ring yet) */
    void       *reserved[8];
    /* ABI 1.1: a TLS client's protocol ("1.3") and cipher suite, IANA name
     * ("TLS_AES_128_GCM_SHA256"), as nats-server's /connz; NULL: plain. */
    const char *tls_version, *tls_cipher_suite;
} modnats_conn_info;

/* ------------------------------------------- accounts: sharing, limits (ABI 1.1) */

/* What an account offers others: a stream (messages published in it on
 * `subject` may be received by importers) or a service (importers may send
 * requests to `subject`; answers go back to the requester's account). */
typedef enum modnats_export_kind {
    MODNATS_EXPORT_STREAM = 1,
    MODNATS_EXPORT_SERVICE = 2,
} modnats_export_kind;

/* How many answers a service request may get (nats-server's response_type). */
typedef enum modnats_response_type {
    MODNATS_RESP_SINGLETON = 0,   /* one answer, then the reply mapping goes */
    MODNATS_RESP_STREAM = 1,      /* many, until response_threshold passes */
    MODNATS_RESP_CHUNKED = 2,     /* many, until an empty message or the threshold */
} modnats_response_type;

typedef struct modnats_export {
    size_t              size;        /* sizeof(modnats_export) */
    modnats_export_kind kind;
    const char         *subject;     /* may hold wildcards */
    /* Accounts allowed to import it (names); NULL/0: public. */
    const char *const  *accounts;    size_t n_accounts;
    /* Services: how answers flow back, and how long a reply mapping lives
     * (0: 2 minutes, nats-server's default). */
    modnats_response_type response_type;
    uint64_t            response_threshold_ms;
    void               *reserved[4];
} modnats_export;

typedef struct modnats_import {
    size_t              size;        /* sizeof(modnats_import) */
    modnats_export_kind kind;
    modnats_account    *from;        /* the exporting account */
    const char         *subject;     /* in the exporter's space; may hold wildcards */
    /* Where it appears locally: `to` maps token by token (same wildcards as
     * subject; NULL: the same subject); for streams, `prefix` (NULL: none)
     * is put in front instead, as nats-server's stream "prefix". */
    const char         *to;
    const char         *prefix;
    /* The caller already checked an authorization of its own (a JWT
     * activation token): the export's account list is not consulted. */
    bool                authorized;
    void               *reserved[4];
} modnats_import;

/* Account limits; -1: unlimited (a field left 0 means 0 where that is
 * meaningful, so start from MODNATS_ACCOUNT_LIMITS_NONE). */
typedef struct modnats_account_limits {
    size_t   size;
    int64_t  max_conns;       /* client connections */
    int64_t  max_leafnodes;
    int64_t  max_subs;        /* subscriptions per connection (nats-server applies an
                                 account's limit to each of its clients) */
    int64_t  max_payload;     /* per message, bytes */
    int64_t  max_imports, max_exports;
    void    *reserved[4];
} modnats_account_limits;
#define MODNATS_ACCOUNT_LIMITS_NONE \
    { sizeof(modnats_account_limits), -1, -1, -1, -1, -1, -1, { 0 } }

/* A user's own limits and identity, applied at login; -1: unlimited
 * (the account's or server's limit still applies). */
typedef struct modnats_login {
    size_t      size;              /* sizeof(modnats_login) */
    const char *user;              /* name for logs and monitoring (copied); NULL: none */
    const modnats_permissions *perms;   /* NULL: none */
    modnats_account *account;      /* NULL: unchanged */
    int64_t     max_subs;
    int64_t     max_payload;
    /* The credentials expire then (Unix ms; 0: never): the core closes the
     * connection with 'User Authentication Expired' as nats-server does. */
    uint64_t    expires_unix_ms;
    void       *reserved[8];
} modnats_login;
#define MODNATS_LOGIN_INIT { sizeof(modnats_login), NULL, NULL, NULL, -1, -1, 0, { 0 } }

/* ------------------------------------------------------- the host API */

/* Log levels, as nats-server's. */
enum { MODNATS_LOG_ERROR = 1, MODNATS_LOG_WARN, MODNATS_LOG_INFO,
       MODNATS_LOG_DEBUG, MODNATS_LOG_TRACE };

typedef void (*modnats_timer_fn)(void *ud, modnats_timer *t);

typedef struct modnats_host_api {
    size_t   size;                  /* sizeof(modnats_host_api) in the core */
    uint16_t abi_major, abi_minor;  /* the core's */
    const char *server_version;     /* modnats's own version */

    /* --- logging: one line, prefixed with the module's name */
    void (*log)(modnats_module *m, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* --- settings of the module's own group (valid during init and the
     * RELOAD event).  Absent keys leave *out unchanged and return
     * MODNATS_ENOTFOUND. */
    modnats_rc (*cfg_bool)(const modnats_config *c, const char *key, bool *out);
    modnats_rc (*cfg_int)(const modnats_config *c, const char *key, int64_t *out);   /* INT, SIZE, DURATION(ms) */
    modnats_rc (*cfg_string)(const modnats_config *c, const char *key, const char **out);
    size_t     (*cfg_list_len)(const modnats_config *c, const char *key);   /* STRING_LIST or GROUP list */
    const char *(*cfg_list_string)(const modnats_config *c, const char *key, size_t i);
    /* A nested group: key names a GROUP option; i indexes a list of groups
     * (0 for a single group).  NULL when absent. */
    const modnats_config *(*cfg_child)(const modnats_config *c, const char *key, size_t i);

    /* --- events (main thread, during init only) */
    modnats_rc (*hook)(modnats_module *m, modnats_event ev, int priority,
                       modnats_hook_fn fn, void *ud);

    /* --- services between modules (registration during init; lookup
     * from init on: a module loaded later is found once its init ran). */
    modnats_rc  (*service_register)(modnats_module *m, const char *name, uint32_t version,
                                    const void *iface);
    const void *(*service_get)(const char *name, uint32_t version);

    /* --- connections (any thread while the conn is valid) */
    uint64_t    (*conn_id)(const modnats_conn *c);
    const char *(*conn_remote_ip)(const modnats_conn *c);
    int         (*conn_remote_port)(const modnats_conn *c);
    const char *(*conn_name)(const modnats_conn *c);          /* CONNECT name, or NULL */
    modnats_account *(*conn_account)(const modnats_conn *c);
    /* Inside the AUTH hook only (the connection's worker; ERR elsewhere):
     * bind the client to an account and give it permissions (copied) and
     * a user name for logs and monitoring.  For a PENDING login use
     * auth_complete_login instead. */
    modnats_rc  (*conn_set_account)(modnats_conn *c, modnats_account *a);
    modnats_rc  (*conn_set_permissions)(modnats_conn *c, const modnats_permissions *p);
    modnats_rc  (*conn_set_user)(modnats_conn *c, const char *user);
    /* Close with -ERR 'err' (NULL: no -ERR).  Any thread. */
    modnats_rc  (*conn_close)(modnats_conn *c, const char *err);
    /* Module-owned connections: queue bytes for writing (copied). */
    modnats_rc  (*conn_write)(modnats_conn *c, const void *buf, size_t len);

    /* --- deferred auth: finish a login that a hook answered PENDING.
     * result is OK or DENY.  Any thread, exactly once per ticket: the
     * ticket is gone once the core applied the answer, so a second call
     * is undefined (two racing calls: one returns ERR). */
    modnats_rc  (*auth_complete)(modnats_auth_ticket *t, modnats_rc result,
                                 const char *deny_reason);

    /* --- accounts */
    modnats_account *(*account_get)(const char *name);          /* NULL if none */
    modnats_account *(*account_get_or_create)(const char *name);
    modnats_account *(*account_global)(void);                   /* "$G" */
    const char      *(*account_name)(const modnats_account *a);

    /* --- in-process clients and remote interest */
    modnats_origin (*new_origin)(modnats_module *m);
    /* Subscribe in an account.  queue may be NULL.  weight > 1 counts as
     * that many queue members (remote queue interest).  Messages whose
     * origin equals `origin` are not delivered to it.  The handle stays
     * valid until unsubscribe. */
    modnats_sub *(*subscribe)(modnats_module *m, modnats_account *a, const char *subject,
                              const char *queue, int weight, modnats_origin origin,
                              modnats_msg_fn fn, void *ud);
    modnats_rc   (*unsubscribe)(modnats_sub *s);
    /* Route a message in an account as if published by `origin` (0: a
     * local in-process client).  Any thread; the message is copied as
     * needed before return. */
    modnats_rc   (*publish)(modnats_module *m, modnats_account *a, const modnats_msg *msg,
                            modnats_origin origin);

    /* --- timers: fn runs on I/O worker 0 after `after_ms`, then every
     * `every_ms` (0: once).  Cancel from any thread, or from inside the
     * callback; after cancel returns the callback is not running and will
     * not run.  Every handle stays valid until cancelled, also a one-shot
     * timer that already fired: cancel it to free it.  Timers a module
     * leaves behind are dropped after its fini. */
    modnats_timer *(*timer_start)(modnats_module *m, uint64_t after_ms, uint64_t every_ms,
                                  modnats_timer_fn fn, void *ud);
    void           (*timer_cancel)(modnats_timer *t);

    /* --- a module's own listener and outbound dials (routes, gateways,
     * leaf nodes), on the core's event loops.  listen: any time from init
     * on; NULL (and a log line) when the address cannot be bound; closed at
     * shutdown.  dial: non-blocking; the outcome arrives as on_open or
     * on_close on the connection's worker.  Connections are spread over
     * the workers; conn_write queues bytes (any thread), conn_close closes
     * (any thread).  host: a numeric address or a name resolvable without
     * delay (resolution happens on the calling thread). */
    modnats_listener *(*listen)(modnats_module *m, const char *host, int port,
                                const modnats_conn_ops *ops, void *ud);
    modnats_rc (*dial)(modnats_module *m, const char *host, int port,
                       const modnats_conn_ops *ops, void *ud);

    /* --- read-only stats, for monitoring */
    modnats_rc (*stats)(modnats_stats *out);
    /* Visit every client connection: a snapshot taken from every worker,
     * then fn runs on the caller's thread (never an I/O worker: call it
     * from a module thread), info valid during the call; with_subs fills
     * info->subs.  Ordered by cid. */
    modnats_rc (*conns_foreach)(bool with_subs,
                                void (*fn)(void *ud, const modnats_conn_info *info), void *ud);
    /* The INFO/varz-style identity of this server. */
    const char *(*server_id)(void);
    const char *(*server_name)(void);

    /* --- settings introspection, to check nested groups the core does
     * not know: the i-th member's key (NULL past the end), and where a
     * setting was written ("file:line"; key NULL: the group itself). */
    const char *(*cfg_key)(const modnats_config *c, size_t i);
    const char *(*cfg_where)(const modnats_config *c, const char *key, char *buf, size_t len);

    /* --- finish a PENDING login and give the client its identity in one
     * step, from any thread: user name (copied; NULL: none), permissions
     * (compiled before return; NULL: none), account (NULL: unchanged).
     * The core applies them on the connection's worker before the client
     * may act.  conn_set_user/permissions/account themselves may only be
     * called inside the AUTH hook (on the connection's worker). */
    modnats_rc (*auth_complete_login)(modnats_auth_ticket *t, modnats_rc result,
                                      const char *deny_reason, const char *user,
                                      const modnats_permissions *perms,
                                      modnats_account *account);

    /* --- sinks (see modnats_sink_ops): create (any thread), subscribe on
     * its behalf (weight: how many queue members the remote side has;
     * unsubscribe removes one), change a queue subscription's weight, and
     * free (any thread, also from inside deliver): its subscriptions go,
     * no deliver starts after it returns, and ops->released(ud) follows
     * once none is still running. */
    modnats_sink *(*sink_new)(modnats_module *m, const modnats_sink_ops *ops, void *ud,
                              modnats_origin origin, uint32_t flags);
    modnats_sub  *(*sink_subscribe)(modnats_sink *s, modnats_account *a, const char *subject,
                                    const char *queue, int weight);
    modnats_rc    (*sub_set_weight)(modnats_sub *sub, int weight);
    void          (*sink_free)(modnats_sink *s);

    /* --- every subscription of an account as it is now (under the
     * account's read lock: fn must not call back into routing), for
     * sending a new peer the current interest.  origin 0: a local client
     * or in-process subscription; a sink's subscriptions report its
     * origin. */
    modnats_rc (*interest_foreach)(modnats_account *a,
                                   void (*fn)(void *ud, const char *subject, const char *queue,
                                              int weight, modnats_origin origin),
                                   void *ud);
    /* Every account (snapshot; fn on the caller's thread). */
    modnats_rc (*accounts_foreach)(void (*fn)(void *ud, modnats_account *a), void *ud);

    /* --- client INFO: ask for a nonce in every INFO (during init; NKey
     * and JWT auth need it: the AUTH event then carries it), and set the
     * connect_urls advertised to clients (copied; proto 1 clients get an
     * asynchronous INFO when they change).  Any thread. */
    modnats_rc (*require_nonce)(modnats_module *m);
    modnats_rc (*set_connect_urls)(modnats_module *m, const char *const *urls, size_t n);

    /* --- module connections: give a connection its own user data (the
     * ud later ops callbacks receive; by default the listener's or the
     * dial's), on the connection's worker; and the port a listener
     * bound (for port 0 / -1: a random free port). */
    modnats_rc (*conn_set_ud)(modnats_conn *c, void *ud);
    int        (*listener_port)(const modnats_listener *l);

    /* ================================================== ABI 1.1 */

    /* --- accounts: exports and imports (any thread, outside routing
     * callbacks of the same account).  account_import returns DENY when
     * `from` has no matching export open to `a` (and !authorized),
     * ENOTFOUND when it has no export of that subject at all, ELOOP when
     * messages could come back to where they started (as nats-server's
     * "import forms a cycle").  Imports of
     * an account that it already has (same kind, from, subject) are
     * replaced.  account_clear_io drops every export and import of `a`
     * (and the imports of others that depended on its exports), so an
     * updated account JWT can be applied afresh. */
    modnats_rc (*account_export)(modnats_account *a, const modnats_export *e);
    modnats_rc (*account_import)(modnats_account *a, const modnats_import *i);
    modnats_rc (*account_clear_io)(modnats_account *a);
    /* --- account limits, enforced by the core with nats-server's error
     * texts; lowering them closes what is over the limit (newest first).
     * Exports, imports and limits: docs/modules.md has every return code. */
    modnats_rc (*account_set_limits)(modnats_account *a, const modnats_account_limits *l);
    /* --- the system account ($SYS events and requests); set during init
     * or from the AUTH path; NULL when none. */
    modnats_rc       (*account_set_system)(modnats_account *a);
    modnats_account *(*account_system)(void);
    /* --- a login with user limits and expiry: inside the AUTH hook
     * (conn_login) or, for PENDING, from any thread (auth_complete_ex). */
    modnats_rc (*conn_login)(modnats_conn *c, const modnats_login *l);
    modnats_rc (*auth_complete_ex)(modnats_auth_ticket *t, modnats_rc result,
                                   const char *deny_reason, const modnats_login *l);
    /* Close every client connection of account a (user NULL: all of them;
     * otherwise only those whose user name equals it) with -ERR err
     * (NULL: none).  Any thread; asynchronous (each worker on its next
     * turn). */
    modnats_rc (*conns_close_where)(modnats_account *a, const char *user, const char *err);
    /* --- one client connection as monitoring sees it (no subs), on the
     * connection's own worker only, e.g. inside its CONNECT or DISCONNECT
     * hook (DISCONNECT still sees its final counters); ERR elsewhere.
     * out->size must be set; the strings are copies the caller releases
     * with conn_info_release. */
    modnats_rc (*conn_info)(modnats_conn *c, modnats_conn_info *out);
    void       (*conn_info_release)(modnats_conn_info *info);

    /* ================================================== ABI 1.1: TLS */

    /* --- the TLS facts of a connection (client or module connection):
     * fills *out (out->size set by the caller) and returns OK once the
     * handshake is done; ENOTFOUND for a plaintext connection or before
     * the handshake.  Any thread while the conn is valid (inside the AUTH
     * hook of a TLS client, the facts are always there). */
    modnats_rc (*conn_tls_info)(const modnats_conn *c, modnats_tls_info *out);
    /* --- build a TLS configuration from a settings group with the keys
     * of nats-server's tls block (cert_file, key_file, ca_file, verify,
     * insecure, timeout, cipher_suites, curve_preferences, min_version):
     * server side (MODNATS_TLS_SERVER: accepting) or client side
     * (dialing); MODNATS_TLS_VERIFY forces peer verification.  Declare the
     * group as a MODNATS_OPT_GROUP option and pass cfg_child(cfg, "tls",
     * 0).  NULL on error, with "file:line: problem" in err.  Main thread
     * (init, RELOAD).  The module owns the result and frees it with
     * tls_free; connections made with it keep what they need, so it may
     * be freed (e.g. replaced on RELOAD) while they run. */
    modnats_tls *(*tls_new)(modnats_module *m, const modnats_config *group, uint32_t flags,
                            char *err, size_t errlen);
    void         (*tls_free)(modnats_tls *t);
    /* --- listen / dial as above, with TLS from the first byte: the
     * handshake runs on the connection's worker before on_open, and a
     * failed or timed-out handshake ends in on_close (conn NULL) with the
     * reason.  tls: server side for listen_tls, client side for dial_tls
     * (the certificate is checked against host unless insecure); the
     * core takes its own reference, the module may free its handle. */
    modnats_listener *(*listen_tls)(modnats_module *m, const char *host, int port,
                                    const modnats_conn_ops *ops, void *ud,
                                    const modnats_tls *tls);
    modnats_rc (*dial_tls)(modnats_module *m, const char *host, int port,
                           const modnats_conn_ops *ops, void *ud, const modnats_tls *tls);
    /* --- upgrade an open module connection: bytes already queued with
     * conn_write go out in plain text, then the handshake (server or client
     * side, as tls was built) runs and everything after is encrypted;
     * on_data sees only decrypted bytes.  On the connection's worker
     * (inside on_open or on_data). */
    modnats_rc (*conn_start_tls)(modnats_conn *c, const modnats_tls *tls);
    /* --- new certificates for a listen_tls listener (e.g. on RELOAD):
     * connections accepted from now on use tls (the core takes its own
     * reference); open ones keep theirs.  ERR for a plain listener.  Any
     * thread. */
    modnats_rc (*listener_set_tls)(modnats_listener *l, const modnats_tls *tls);
    /* --- bytes queued for a connection (client or module-owned) and not
     * yet written to its socket; for monitoring (routez pending_size).
     * Any thread while the conn is valid. */
    uint64_t (*conn_pending)(const modnats_conn *c);

    /* Append new functions here, and only here. */
} modnats_host_api;

/* Does this core's API table have `field`?  For functions newer than the
 * ABI minor the module was built against. */
#define MODNATS_HAS(api, field) \
    (offsetof(modnats_host_api, field) + sizeof(((modnats_host_api *)0)->field) <= (api)->size && \
     (api)->field != NULL)

/* ------------------------------------------------------- the module */

typedef struct modnats_module_desc {
    uint32_t    magic;          /* MODNATS_MODULE_MAGIC */
    uint32_t    size;           /* sizeof(modnats_module_desc) of the module */
    uint16_t    abi_major;      /* MODNATS_ABI_MAJOR the module was built with */
    uint16_t    abi_minor;      /* MODNATS_ABI_MINOR the module was built with */
    const char *name;           /* unique; also the name of its settings group */
    const char *version;        /* the module's own version */
    const char *description;    /* one line */
    const modnats_option *options;   /* terminated by { NULL }; NULL: none */
    /* Main thread, once, before the workers start.  Return OK, or ERR
     * after logging why (the server then refuses to start). */
    modnats_rc (*init)(modnats_module *self, const modnats_host_api *api,
                       const modnats_config *cfg);
    /* Main thread, at shutdown, after the workers stopped; may be NULL. */
    void       (*fini)(modnats_module *self);
    void       *reserved[8];
} modnats_module_desc;

/* The entry point.  A shared-object module defines it with
 *
 *     MODNATS_MODULE(my_module) { return &my_desc; }
 *
 * which exports `modnats_module_entry`; built into the binary (slim builds,
 * -DMODNATS_STATIC_MODULE) the same line defines
 * `modnats_module_entry_my_module` for the core's registry table. */
#define MODNATS_ENTRY_SYMBOL "modnats_module_entry"
#ifdef MODNATS_STATIC_MODULE
#define MODNATS_MODULE(name) \
    const modnats_module_desc *modnats_module_entry_##name(void); \
    const modnats_module_desc *modnats_module_entry_##name(void)
#else
#define MODNATS_MODULE(name) \
    __attribute__((visibility("default"))) const modnats_module_desc *modnats_module_entry(void); \
    __attribute__((visibility("default"))) const modnats_module_desc *modnats_module_entry(void)
#endif

typedef const modnats_module_desc *(*modnats_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
