/*
 * server.h - the server, its I/O workers, accounts and client connections.
 *
 * Threading model (docs/architecture.md tells the whole story):
 *  - The main thread parses options, starts the workers and then only waits
 *    for signals (sigtimedwait); it never touches a socket.
 *  - N workers (I/O threads), each with its own epoll instance.  A client
 *    belongs to exactly one worker for its whole life: only that worker
 *    reads its socket, parses its protocol, changes its subscriptions and
 *    closes it.
 *  - Any worker may append to any client's outbound buffer (under that
 *    client's mutex) while delivering a message, and writes it to the socket
 *    at the end of its loop turn, so one write() carries every message
 *    queued for a client in that turn.
 *  - Routing state (sublists) is shared; reads are lock-free through
 *    per-worker match caches and qsbr.h keeps what they point to alive.
 */
#ifndef MN_SERVER_H
#define MN_SERVER_H

#include "mn.h"
#include "opts.h"
#include "parser.h"
#include "sublist.h"
#include "perms.h"
#include "tls.h"
#include <modnats/modnats.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

typedef struct mn_server mn_server;
typedef struct mn_worker mn_worker;
typedef struct mn_client mn_client;

typedef struct mn_account {
    char       *name;
    mn_sublist *sl;
    uint32_t    idx;            /* index into each worker's cache array */
    /* ABI 1.1 (acctio.c): exports, imports, service reply map, limits */
    /* NULL until the account shares anything; set once, under acctio.c's
     * lock, read by workers */
    _Atomic(struct mn_acc_io *) io;
    _Atomic int      nconns;    /* logged-in client connections */
    _Atomic int64_t  max_conns, max_subs, max_payload;   /* -1: unlimited */
    _Atomic int64_t  max_leafnodes, max_imports, max_exports;
} mn_account;

/* What kind of receiver a sublist entry (mn_sub.kind) belongs to. */
enum { MN_SUBK_CLIENT = 0, MN_SUBK_MODULE = 1 };

/* A sink (modnats_sink): one remote receiver behind many subscriptions. */
typedef struct mn_sink {
    modnats_module         *m;
    const modnats_sink_ops *ops;
    void                   *ud;
    modnats_origin          origin;
    uint32_t                flags;
    _Atomic int             dead;
    pthread_mutex_t         lock;     /* guards subs */
    struct mn_isub         *subs;
    struct mn_sink         *mod_prev, *mod_next;   /* module's sinks (res_lock) */
} mn_sink;

/* A module's in-process subscription (modnats_sub), or a sink's. */
typedef struct mn_isub {
    mn_sub           sub;        /* first; sub.kind == MN_SUBK_MODULE */
    modnats_module  *m;
    modnats_msg_fn   fn;         /* NULL for a sink's subscription */
    void            *ud;
    modnats_origin   origin;
    mn_account      *acc;
    mn_sink         *sink;       /* NULL: in-process */
    struct mn_isub  *sink_prev, *sink_next;   /* sink->subs (under sink->lock) */
    struct mn_isub  *mod_prev, *mod_next;     /* module's own subs (res_lock) */
    _Atomic int      removed;
} mn_isub;

/* A client's subscription: the routing entry plus what MSG needs. */
typedef struct mn_csub {
    mn_sub           sub;        /* first: the sublist hands back &sub */
    mn_client       *c;
    char            *sid;        /* NUL-terminated, owned */
    uint32_t         sid_len;
    uint64_t         max;        /* 0: no auto-unsubscribe */
    _Atomic uint64_t delivered;
    _Atomic int      removed;    /* 1 once taken out of the sublist */
    struct mn_csub  *hnext;      /* sid hash chain (owner thread only) */
    struct mn_csub  *dead_next;  /* auto-unsub reached (under c->lock) */
    bool             on_dead_list;
} mn_csub;

enum { MN_CS_NEW = 0, MN_CS_CONNECTED, MN_CS_CLOSED };

/* A client connection.  Fields are grouped by who may touch them. */
/* What an epoll entry's data.ptr points to starts with one of these. */
enum { MN_EP_CLIENT = 1, MN_EP_MCONN, MN_EP_MLISTENER };

struct mn_client {
    int          ep_kind;          /* MN_EP_CLIENT; first, see above */
    /* immutable after creation */
    uint64_t     cid;
    mn_worker   *w;                /* owner */
    mn_server   *srv;
    mn_account  *acc;
    char         ip[48];
    int          rport;

    /* under lock: anything another worker may touch while delivering */
    pthread_mutex_t lock;
    int          fd;               /* -1 once closed */
    bool         closed;
    bool         flush_queued;     /* on some worker's flush list this turn */
    bool         want_out;         /* EPOLLOUT armed */
    bool         slow;             /* over max_pending: being dropped */
    char        *obuf;             /* pending output is obuf[ooff, olen) */
    size_t       ooff, olen, ocap;
    uint64_t     stall_ms;         /* when output last could not drain */
    uint64_t     out_msgs, out_bytes;
    mn_csub     *dead;             /* subs that hit their auto-unsub max */
    /* flags another worker reads when delivering; set once at CONNECT */
    bool         headers;
    bool         echo;

    _Atomic int  refs;

    /* allow_responses: reply subjects this client may answer (under lock) */
    struct mn_resp *resp;
    uint32_t     nresp;
    mn_perms    *perms;            /* set at login, then read-only */
    /* limits (acctio.c): effective at login, changed on the owner only */
    int64_t      mpay;             /* max payload (INT64_MAX: the server's) */
    int64_t      msubs;            /* -1: only the server's max_subs */
    int64_t      user_mpay, user_msubs;   /* the login's own (-1: none) */
    uint64_t     expires_unix_ms;  /* credentials expire (0: never) */
    bool         acc_counted;      /* counted in acc->nconns */
    bool         paused;           /* input stopped (deferred auth); under lock */
    /* TLS (NULL: plain text, the hot path's one branch).  Every call on it
     * is made under lock: the owner reads, any worker writes. */
    struct mn_tls *tls;
    uint64_t     tls_deadline_ms;  /* handshake must be done by then (owner) */
    uint64_t     tls_fallback_ms;  /* handshake_first fallback: plain INFO then (owner; 0: none) */
    bool         tls_peeked;       /* first byte checked for a ClientHello (owner) */
    bool         tls_info_after;   /* handshake_first: INFO once TLS is up (owner) */
    bool         tls_optional;     /* allow_non_tls: plain text is fine too (owner) */

    /* owner worker only */
    int          state;
    char        *user;
    char        *stash;            /* input that arrived while auth was pending */
    size_t       stashlen;
    modnats_auth_ticket *ticket;   /* pending deferred auth */
    mn_parser    parser;
    bool         verbose, pedantic, no_responders, saw_input;
    uint64_t     info_urls_gen;  /* s->urls_gen when its last INFO was made */
    bool         info_after_pong; /* connect_urls changed before login: INFO after the next PONG */
    int          proto;
    char         nonce[24];        /* sent in INFO when nonce_required */
    char        *name, *lang, *version;
    mn_csub    **sids;             /* hash by sid */
    uint32_t     nsids_buckets;
    uint32_t     nsubs;
    int          pings_out;
    uint64_t     start_ms, last_in_ms, last_ping_ms;
    uint64_t     in_msgs, in_bytes;
    uint64_t     ldm_close_at_ms;  /* lame duck: when to close us */
    mn_client   *stall_on;         /* publisher slowed for this subscriber (ref) */
    uint64_t     stall_until_ms;
    bool         stalled_listed;   /* on the worker's stalled list (ref) */
    mn_client   *prev, *next;      /* worker's client list */
};

typedef void (*mn_task_fn)(mn_worker *w, void *arg);

typedef struct mn_task {
    mn_task_fn      fn;
    void           *arg;
    struct mn_task *next;
} mn_task;

struct mn_worker {
    int          idx;
    mn_server   *srv;
    pthread_t    thread;
    bool         started;
    int          epfd;
    int          evfd;          /* wakes the loop for posted tasks */

    pthread_mutex_t inbox_lock;
    mn_task     *inbox, *inbox_last;

    /* clients with output queued during this loop turn (refs held) */
    mn_client  **flush;
    size_t       nflush, capflush;

    /* clients owned by this worker */
    mn_client   *clients;
    size_t       nclients;
    struct mn_mconn *mconns;       /* module-owned connections (mconn.c) */

    void       **mflush;        /* module connections with output this turn (refs) */
    size_t       nmflush, capmflush;
    mn_client  **stalled;       /* publishers not read until a subscriber drains */
    size_t       nstalled, capstalled;

    mn_match_cache **caches;    /* per account, indexed by account idx */
    size_t       ncaches;

    uint64_t     now_ms;        /* monotonic, refreshed each turn */
    uint64_t     next_tick_ms;
    uint64_t     rng;
    bool         stop;

    /* counters, read racily by monitoring */
    uint64_t     in_msgs, in_bytes, out_msgs, out_bytes;

    char        *rbuf;          /* read buffer shared by this worker's clients */
    size_t       rbuf_size;
};

struct mn_server {
    mn_opts      opts;
    char         server_id[57];
    char        *server_name;
    int          listen_fd;
    int          port;          /* actual listening port */
    int          nworkers;
    mn_worker   *workers;
    _Atomic unsigned next_worker;
    _Atomic uint64_t next_cid;
    _Atomic int  nclients;
    _Atomic uint64_t total_connections;
    _Atomic uint64_t slow_consumers;
    mn_account  *gacc;          /* the global account ($G) */
    _Atomic bool lame_duck;
    _Atomic bool shutting_down;
    uint64_t     ldm_start_ms;  /* when lame-duck mode began */
    uint64_t     start_ms;
    uint64_t     start_unix_ms;
    _Atomic uint64_t config_load_unix_ms;
    _Atomic bool auth_required;
    /* Start-time settings the workers and monitoring read without a lock
     * (a reload rewrites s->opts under auth_lock, never these). */
    const char  *start_host;       /* opts.host as started (kept alive by opts) */
    bool         headers_off;      /* no_header_support */
    bool         jetstream_on;     /* INFO jetstream */
    char *const *start_tags;  int nstart_tags;
    bool         nonce_required;   /* a module asked for INFO nonce */
    pthread_mutex_t urls_lock;     /* guards connect_urls */
    char        *connect_urls_json; /* ["nats://...",...] or NULL */
    uint64_t     urls_gen;          /* bumped on every change of connect_urls */
    /* run-time tunables that SIGHUP may change; read racily by workers */
    _Atomic int64_t max_payload;
    _Atomic int64_t max_pending;
    _Atomic int64_t max_control_line;   /* read by workers for new clients */
    _Atomic int     max_connections;
    _Atomic int     max_subs;
    _Atomic int64_t ping_interval_ms;
    _Atomic int     ping_max;
    _Atomic int64_t write_deadline_ms;
    _Atomic int64_t auth_timeout_ms;
    pthread_mutex_t auth_lock;   /* guards the credentials below on reload */
    /* TLS for clients: the context new connections use (NULL: plain).
     * Swapped by a reload that loads new certificates (tls_lock). */
    pthread_mutex_t tls_lock;
    mn_tls_ctx  *tls_ctx;
    bool         tls_on;           /* INFO tls_required (as started) */
    bool         tls_verify;       /* INFO tls_verify (as started) */
    bool         tls_optional;     /* allow_non_tls: INFO tls_available (as started) */
};

uint64_t mn_now_ms(void);

/* The worker running on this thread, or NULL (main or module thread). */
extern _Thread_local mn_worker *mn_current_worker;

/* Route one message in account acc on worker w.  pub is the publishing
 * client (NULL for a module); origin 0 for local messages.  data holds
 * hlen header bytes then the body, total bytes in all. */
void mn_route(mn_worker *w, mn_account *acc, mn_client *pub, modnats_origin origin,
              const char *subj, size_t slen, const char *reply, size_t rlen,
              const char *data, size_t hlen, size_t total);
/* The same for a module's message, keeping its queue restrictions; data
 * holds hlen header bytes then the body (total in all). */
void mn_route_msg(mn_worker *w, mn_account *acc, modnats_origin origin, const modnats_msg *m,
                  const char *data, size_t hlen, size_t total);
/* The same, for a message an import carries into another account: not
 * counted again in the server's and clients' in-message statistics. */
void mn_route_inner(mn_worker *w, mn_account *acc, modnats_origin origin, const modnats_msg *m,
                    const char *data, size_t hlen, size_t total);
/* A worker frees its routing scratch space before it exits. */
void mn_route_scratch_free(void);
/* Fire the INTEREST chain for a change of interest (if anyone listens). */
void mn_interest_changed(mn_account *acc, const mn_sub *sub, bool added, modnats_origin origin);

/* server.c */
int  mn_server_init(mn_server *s, const mn_opts *o, char *err, size_t errlen);
/* Block the asynchronous signals in this thread and the threads it starts
 * (before the modules load: their threads must not take signals). */
void mn_server_block_signals(sigset_t *set);
int  mn_server_run(mn_server *s);      /* blocks until shutdown */
void mn_server_free(mn_server *s);
/* After the modules' init: recompute what depends on their hooks. */
void mn_server_modules_ready(mn_server *s);
/* The INFO line for a client (heap, the caller frees), *len its length;
 * NULL when out of memory. */
char *mn_server_info(mn_server *s, mn_client *c, bool ldm, size_t *len);

/* worker.c */
/* Every worker is initialised before any starts: a worker may post to
 * another as soon as it runs. */
int  mn_worker_init(mn_worker *w);
int  mn_worker_start(mn_worker *w);
void mn_worker_post(mn_worker *w, mn_task_fn fn, void *arg);
void mn_worker_schedule_flush(mn_worker *w, mn_client *c);  /* c->lock held */
mn_match_cache *mn_worker_cache(mn_worker *w, mn_account *acc);
/* Queue a module connection for a write at the end of this turn. */
int  mn_worker_schedule_mflush(mn_worker *w, void *mconn);
/* Stop reading publisher c until its subscriber drains (owner thread). */
void mn_worker_stall(mn_worker *w, mn_client *c);
#define MN_STALL_MAX_MS 250

/* client.c */
mn_client *mn_client_new(mn_worker *w, int fd);      /* adopted by worker w */
void mn_client_on_readable(mn_client *c);
void mn_client_on_writable(mn_client *c);
void mn_client_flush(mn_client *c);                 /* any thread */
void mn_client_stall_begin(mn_client *c, uint64_t now);
/* True when the stall ended (subscriber drained, gone, or time up). */
bool mn_client_stall_over(mn_client *c, uint64_t now);
void mn_client_tick(mn_client *c);                  /* owner: timers */
/* Close from the owner thread, optionally sending -ERR 'why' first. */
void mn_client_close(mn_client *c, const char *err);
void mn_client_ref(mn_client *c);
void mn_client_unref(mn_client *c);
void mn_client_send_ldm_info(mn_client *c);
/* Send a fresh INFO (owner thread); proto 0 clients get none after the first. */
void mn_client_send_info(mn_client *c, bool ldm);
/* Deferred auth finished (posted to the owner by the host API). */
void mn_client_auth_done(mn_client *c, modnats_rc result, const char *reason);
/* Snapshot for monitoring (owner thread); strings are heap copies that
 * mn_conn_info_free releases.  subs: filled when with_subs. */
void mn_client_info(mn_client *c, modnats_conn_info *info, bool with_subs);
void mn_conn_info_free(modnats_conn_info *info);
modnats_rc mn_auth_complete(modnats_auth_ticket *t, modnats_rc result, const char *reason);
modnats_rc mn_auth_complete_ex(modnats_auth_ticket *t, modnats_rc result, const char *reason,
                               const modnats_login *l);
modnats_rc mn_auth_complete_login(modnats_auth_ticket *t, modnats_rc result, const char *reason,
                                  const char *user, const modnats_permissions *perms,
                                  modnats_account *account);
uint64_t mn_unix_ms(void);
extern mn_server *mn_g_server;
/* TLS (server.c): the current client TLS context with a reference for the
 * caller, or NULL when clients speak plain text. */
mn_tls_ctx *mn_server_tls_ctx(mn_server *s);
int  mn_server_tls_init(mn_server *s, char *err, size_t errlen);   /* start-up */
void mn_server_tls_reload(mn_server *s, const mn_opts *fresh);    /* SIGHUP */
void mn_server_tls_free(mn_server *s);
/* The host API's conn_tls_info for a client connection. */
int mn_client_tls_info(const mn_client *c, modnats_tls_info *out);
bool mn_client_is_closed(mn_client *c);

#endif
