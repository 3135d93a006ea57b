/*
 * endpoints.c - one function per monitoring endpoint, nats-server's JSON.
 *
 * Each mon_X(state, query, reply) reads the host API's stats and
 * connection snapshot and prints the same field names, in the same order,
 * as nats-server 2.9/2.10 (server/monitor.go); query options are parsed
 * and refused with the same 400 messages.  /routez reads the cluster
 * module's "routez" service (cluster_routez.h) when it is loaded.  Fields the
 * core has no data for (gateways, leaf nodes, JetStream, TLS) print the
 * values a nats-server without those features prints.  docs/modules/monitor.md
 * lists the differences.  Runs on the HTTP thread only.
 */
#include "monitor.h"
/* The service's contract, as the cluster module publishes it (header only:
 * nothing of the cluster module is linked in). */
#include "../cluster/cluster_routez.h"

/* Did the writer of *p (whose first member is its size) fill `field`? */
#define MON_RZ_HAS(p, type, field) \
    ((p)->size >= offsetof(type, field) + sizeof(((type *)0)->field))

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIST_SIZE 1024   /* nats-server's default connz/subsz limit */
#define GLOBAL_ACCOUNT "$G"

/* ------------------------------------------------------------ replies */

void mon_reply_text(mon_reply *r, int status, const char *msg)
{
    r->status = status;
    r->content_type = "text/plain; charset=utf-8";
    r->body = strdup(msg);
    r->body_len = r->body ? strlen(r->body) : 0;
}

void mon_reply_json(mon_reply *r, mon_json *j)
{
    if (j->oom) {
        mon_json_free(j);
        mon_reply_text(r, 500, "out of memory");
        return;
    }
    r->status = 200;
    r->content_type = "application/json";
    r->body = mon_json_take(j, &r->body_len);
}

/* ------------------------------------------------- query decoding */

/* Go's strconv.ParseBool. */
static bool parse_go_bool(const char *s, bool *out)
{
    static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
    static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(s, t[i]) == 0) { *out = true; return true; }
        if (strcmp(s, f[i]) == 0) { *out = false; return true; }
    }
    return false;
}

/* A boolean option; false with a 400 reply filled when it does not parse. */
static bool q_bool(mon_query_fn q, void *qc, const char *key, bool *out, mon_reply *r)
{
    const char *v = q(qc, key);
    *out = false;
    if (!v || !*v)
        return true;
    if (parse_go_bool(v, out))
        return true;
    char msg[256];
    snprintf(msg, sizeof(msg),
             "Error decoding boolean for '%s': strconv.ParseBool: parsing \"%.100s\": invalid syntax",
             key, v);
    mon_reply_text(r, 400, msg);
    return false;
}

static bool q_int(mon_query_fn q, void *qc, const char *key, int64_t *out, mon_reply *r)
{
    const char *v = q(qc, key);
    *out = 0;
    if (!v || !*v)
        return true;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*end == '\0' && errno == 0 && !isspace((unsigned char)v[0]) &&
        n >= INT32_MIN && n <= INT32_MAX) {
        *out = n;
        return true;
    }
    char msg[256];
    snprintf(msg, sizeof(msg),
             "Error decoding int for '%s': strconv.Atoi: parsing \"%.100s\": %s", key, v,
             errno == ERANGE || *end == '\0' ? "value out of range" : "invalid syntax");
    mon_reply_text(r, 400, msg);
    return false;
}

static bool q_uint(mon_query_fn q, void *qc, const char *key, uint64_t *out, mon_reply *r)
{
    const char *v = q(qc, key);
    *out = 0;
    if (!v || !*v)
        return true;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end == '\0' && errno == 0 && isdigit((unsigned char)v[0])) {
        *out = n;
        return true;
    }
    char msg[256];
    snprintf(msg, sizeof(msg),
             "Error decoding uint64 for '%s': strconv.ParseUint: parsing \"%.100s\": %s", key, v,
             errno == ERANGE ? "value out of range" : "invalid syntax");
    mon_reply_text(r, 400, msg);
    return false;
}

/* subs=detail, or subs as a boolean. */
static bool q_subs(mon_query_fn q, void *qc, bool *subs, bool *detail, mon_reply *r)
{
    const char *v = q(qc, "subs");
    *subs = *detail = false;
    if (v && strcasecmp(v, "detail") == 0) {
        *detail = true;
        return true;
    }
    return q_bool(q, qc, "subs", subs, r);
}

static const char *q_str(mon_query_fn q, void *qc, const char *key)
{
    const char *v = q(qc, key);
    return v && *v ? v : NULL;
}

/* ------------------------------------------------ the conn snapshot */

/* A deep copy of one modnats_conn_info (the host's is valid only during
 * the callback). */
typedef struct conn {
    uint64_t cid;
    char    *kind, *ip, *name, *lang, *version, *account, *user;
    int      port;
    uint64_t start_ms, last_ms;
    uint64_t in_msgs, in_bytes, out_msgs, out_bytes, pending;
    uint32_t nsubs;
    char   **subs;       /* nsubs_list entries "subject" or "subject queue" */
    size_t   nsubs_list;
    uint64_t rtt_us;
    char    *tls_version, *tls_cipher;   /* NULL: plain text */
} conn;

typedef struct snapshot {
    conn  *v;
    size_t n, cap;
    bool   oom;
} snapshot;

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

static void conn_free(conn *c)
{
    free(c->kind); free(c->ip); free(c->name); free(c->lang);
    free(c->version); free(c->account); free(c->user);
    free(c->tls_version); free(c->tls_cipher);
    for (size_t i = 0; i < c->nsubs_list; i++)
        free(c->subs[i]);
    free(c->subs);
}

static void snap_add(void *ud, const modnats_conn_info *in)
{
    snapshot *s = ud;
    if (s->oom)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        conn *nv = realloc(s->v, cap * sizeof(*nv));
        if (!nv) {
            s->oom = true;
            return;
        }
        s->v = nv;
        s->cap = cap;
    }
    conn *c = &s->v[s->n++];
    memset(c, 0, sizeof(*c));
    bool oom = false;
    c->cid = in->cid;
    c->kind = dup_or_null(in->kind, &oom);
    c->ip = dup_or_null(in->ip, &oom);
    c->port = in->port;
    c->name = dup_or_null(in->name, &oom);
    c->lang = dup_or_null(in->lang, &oom);
    c->version = dup_or_null(in->version, &oom);
    c->account = dup_or_null(in->account, &oom);
    c->user = dup_or_null(in->user, &oom);
    c->start_ms = in->start_unix_ms;
    c->last_ms = in->last_activity_unix_ms;
    c->in_msgs = in->in_msgs;
    c->in_bytes = in->in_bytes;
    c->out_msgs = in->out_msgs;
    c->out_bytes = in->out_bytes;
    c->pending = in->pending_bytes;
    c->nsubs = in->subscriptions;
    /* rtt_us appeared with the struct; older cores give a smaller size */
    if (in->size >= offsetof(modnats_conn_info, rtt_us) + sizeof(in->rtt_us))
        c->rtt_us = in->rtt_us;
    if (in->size >= offsetof(modnats_conn_info, tls_cipher_suite) + sizeof(in->tls_cipher_suite)) {
        c->tls_version = dup_or_null(in->tls_version, &oom);
        c->tls_cipher = dup_or_null(in->tls_cipher_suite, &oom);
    }
    if (in->subs && in->subscriptions > 0) {
        c->subs = calloc(in->subscriptions, sizeof(char *));
        if (!c->subs) {
            oom = true;
        } else {
            for (uint32_t i = 0; i < in->subscriptions && in->subs[i]; i++) {
                c->subs[i] = dup_or_null(in->subs[i], &oom);
                c->nsubs_list = i + 1;
            }
        }
    }
    if (oom)
        s->oom = true;
}

static void snap_free(snapshot *s)
{
    for (size_t i = 0; i < s->n; i++)
        conn_free(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static bool snap_take(mon_state *st, bool with_subs, snapshot *s)
{
    memset(s, 0, sizeof(*s));
    if (st->api->conns_foreach(with_subs, snap_add, s) != MODNATS_OK || s->oom) {
        snap_free(s);
        return false;
    }
    return true;
}

/* Splits "subject queue" (the ABI's form) at the space; *q is NULL for a
 * plain subscription.  Writes into buf. */
static void split_sub(const char *entry, char *buf, size_t cap, const char **subj, const char **q)
{
    snprintf(buf, cap, "%s", entry);
    char *sp = strchr(buf, ' ');
    *q = NULL;
    if (sp) {
        *sp = '\0';
        *q = sp + 1;
    }
    *subj = buf;
}

/* ------------------------------------------------------------- /varz */

static const cl_routez_v1 *routez_service(mon_state *st);

static void server_header(mon_state *st, mon_json *j, const modnats_stats *s, int64_t now)
{
    mon_json_str(j, "server_id", s->server_id ? s->server_id : st->api->server_id());
    mon_json_time(j, "now", now);
}

/* "system_account": its name, as nats-server (absent without one or on
 * a core older than ABI 1.1). */
static void system_account(mon_state *st, mon_json *j)
{
    if (!MODNATS_HAS(st->api, account_system))
        return;
    modnats_account *sys = st->api->account_system();
    if (sys)
        mon_json_str(j, "system_account", st->api->account_name(sys));
}

static bool get_stats(mon_state *st, modnats_stats *s)
{
    memset(s, 0, sizeof(*s));
    s->size = sizeof(*s);
    return st->api->stats(s) == MODNATS_OK;
}

void mon_varz(mon_state *st, mon_query_fn q, void *qc, mon_reply *r)
{
    modnats_stats s;
    if (!get_stats(st, &s)) {
        mon_reply_text(r, 500, "stats unavailable");
        return;
    }
    mon_proc p;
    mon_proc_sample(&p);
    int64_t now = mon_now_ns();
    int64_t start = (int64_t)s.start_unix_ms * 1000000;
    char up[64];
    mon_fmt_uptime(up, sizeof(up), now - start);

    mon_json j;
    mon_json_init(&j);
    mon_json_obj_begin(&j, NULL);
    mon_json_str(&j, "server_id", s.server_id);
    mon_json_str(&j, "server_name", s.server_name);
    /* the NATS version modnats is compatible with, as its INFO says */
    mon_json_str(&j, "version", s.compat_version ? s.compat_version : s.version);
    mon_json_i64(&j, "proto", 1);
    mon_json_str(&j, "go", "modnats");
    mon_json_str(&j, "host", s.host && *s.host ? s.host : "0.0.0.0");
    mon_json_i64(&j, "port", s.port);
    if (s.auth_required)
        mon_json_bool(&j, "auth_required", true);
    if (s.tls_required)
        mon_json_bool(&j, "tls_required", true);
    if (s.tls_verify)
        mon_json_bool(&j, "tls_verify", true);
    mon_json_i64(&j, "max_connections", s.max_connections);
    if (s.max_subscriptions > 0)
        mon_json_i64(&j, "max_subscriptions", s.max_subscriptions);
    mon_json_i64(&j, "ping_interval", s.ping_interval_ms * 1000000);
    mon_json_i64(&j, "ping_max", s.ping_max);
    mon_json_str(&j, "http_host", st->host);
    mon_json_i64(&j, "http_port", st->port);
    mon_json_str(&j, "http_base_path", "");
    mon_json_i64(&j, "https_port", 0);
    mon_json_double(&j, "auth_timeout", (double)s.auth_timeout_ms / 1000.0);
    mon_json_i64(&j, "max_control_line", s.max_control_line);
    mon_json_i64(&j, "max_payload", s.max_payload);
    mon_json_i64(&j, "max_pending", s.max_pending);
    static const char *const empty_groups[] = { "cluster", "gateway", "leaf", "mqtt",
                                                "websocket" };
    for (size_t i = 0; i < sizeof(empty_groups) / sizeof(empty_groups[0]); i++) {
        mon_json_obj_begin(&j, empty_groups[i]);
        mon_json_obj_end(&j);
    }
    mon_varz_jetstream(st, &j);   /* {} without JetStream */
    /* nats-server shows its default (2 s) without TLS too */
    mon_json_double(&j, "tls_timeout", s.tls_timeout_ms > 0 ? (double)s.tls_timeout_ms / 1000.0 : 2);
    mon_json_i64(&j, "write_deadline", s.write_deadline_ms * 1000000);
    mon_json_time(&j, "start", start);
    mon_json_time(&j, "now", now);
    mon_json_str(&j, "uptime", up);
    mon_json_i64(&j, "mem", p.rss_bytes);
    mon_json_i64(&j, "cores", p.cores);
    mon_json_i64(&j, "gomaxprocs", s.io_threads > 0 ? s.io_threads : p.cores);
    mon_json_double(&j, "cpu", p.cpu_pct);
    mon_json_u64(&j, "connections", s.connections);
    mon_json_u64(&j, "total_connections", s.total_connections);
    /* the cluster module's routes (one per remote server in a full mesh) */
    const cl_routez_v1 *rz = routez_service(st);
    int64_t nroutes = rz && MON_RZ_HAS(rz, cl_routez_v1, num_routes) && rz->num_routes
                          ? (int64_t)rz->num_routes() : 0;
    mon_json_i64(&j, "routes", nroutes);
    mon_json_i64(&j, "remotes", nroutes);
    mon_json_i64(&j, "leafnodes", 0);
    mon_json_u64(&j, "in_msgs", s.in_msgs);
    mon_json_u64(&j, "out_msgs", s.out_msgs);
    mon_json_u64(&j, "in_bytes", s.in_bytes);
    mon_json_u64(&j, "out_bytes", s.out_bytes);
    mon_json_u64(&j, "slow_consumers", s.slow_consumers);
    mon_json_u64(&j, "subscriptions", s.subscriptions);
    mon_json_obj_begin(&j, "http_req_stats");
    for (int i = 0; i < MON_P__COUNT; i++) {
        uint64_t n = __atomic_load_n(&st->req_count[i], __ATOMIC_RELAXED);
        if (n)
            mon_json_u64(&j, mon_path_names[i], n);
    }
    mon_json_obj_end(&j);
    mon_json_time(&j, "config_load_time",
                  (int64_t)(s.config_load_unix_ms ? s.config_load_unix_ms : s.start_unix_ms) * 1000000);
    if (s.size >= offsetof(modnats_stats, reserved) && s.ntags > 0) {
        /* as nats-server: present only when server_tags is set */
        mon_json_arr_begin(&j, "tags");
        for (size_t i = 0; i < s.ntags; i++)
            mon_json_str(&j, NULL, s.tags[i]);
        mon_json_arr_end(&j);
    }
    system_account(st, &j);
    mon_json_obj_end(&j);
    mon_reply_json(r, &j);
}

/* ------------------------------------------------------------ /connz */

typedef enum sort_by {
    BY_CID, BY_START, BY_SUBS, BY_PENDING, BY_MSGS_TO, BY_MSGS_FROM, BY_BYTES_TO,
    BY_BYTES_FROM, BY_LAST, BY_IDLE, BY_UPTIME, BY_STOP, BY_REASON, BY_RTT
} sort_by;

static const struct { const char *name; sort_by by; } sort_names[] = {
    { "cid", BY_CID }, { "start", BY_START }, { "subs", BY_SUBS }, { "pending", BY_PENDING },
    { "msgs_to", BY_MSGS_TO }, { "msgs_from", BY_MSGS_FROM }, { "bytes_to", BY_BYTES_TO },
    { "bytes_from", BY_BYTES_FROM }, { "last", BY_LAST }, { "idle", BY_IDLE },
    { "uptime", BY_UPTIME }, { "stop", BY_STOP }, { "reason", BY_REASON }, { "rtt", BY_RTT },
};

static sort_by g_sort;   /* qsort has no context argument; HTTP thread only */

static int cmp_u64_desc(uint64_t a, uint64_t b) { return a < b ? 1 : a > b ? -1 : 0; }

static int cmp_conn(const void *pa, const void *pb)
{
    const conn *a = *(conn *const *)pa, *b = *(conn *const *)pb;
    int c = 0;
    switch (g_sort) {
    case BY_SUBS:       c = cmp_u64_desc(a->nsubs, b->nsubs); break;
    case BY_PENDING:    c = cmp_u64_desc(a->pending, b->pending); break;
    case BY_MSGS_TO:    c = cmp_u64_desc(a->out_msgs, b->out_msgs); break;
    case BY_MSGS_FROM:  c = cmp_u64_desc(a->in_msgs, b->in_msgs); break;
    case BY_BYTES_TO:   c = cmp_u64_desc(a->out_bytes, b->out_bytes); break;
    case BY_BYTES_FROM: c = cmp_u64_desc(a->in_bytes, b->in_bytes); break;
    case BY_LAST:       c = cmp_u64_desc(a->last_ms, b->last_ms); break;      /* latest first */
    case BY_IDLE:       c = -cmp_u64_desc(a->last_ms, b->last_ms); break;     /* most idle first */
    case BY_UPTIME:     c = cmp_u64_desc(a->start_ms, b->start_ms); break;    /* youngest first */
    case BY_RTT:        c = cmp_u64_desc(a->rtt_us, b->rtt_us); break;
    default:            break;
    }
    if (c)
        return c;
    return a->cid < b->cid ? -1 : a->cid > b->cid;
}

static void conn_json(mon_json *j, const conn *c, int64_t now, bool auth, bool subs, bool detail)
{
    char buf[64];
    mon_json_obj_begin(j, NULL);
    mon_json_u64(j, "cid", c->cid);
    mon_json_str(j, "kind", c->kind ? c->kind : "Client");
    mon_json_str(j, "type", "nats");
    mon_json_str(j, "ip", c->ip);
    mon_json_i64(j, "port", c->port);
    mon_json_time(j, "start", (int64_t)c->start_ms * 1000000);
    mon_json_time(j, "last_activity", (int64_t)c->last_ms * 1000000);
    /* nats-server prints "0s" until a PING/PONG measured the RTT */
    mon_fmt_go_duration(buf, sizeof(buf), (int64_t)c->rtt_us * 1000);
    mon_json_str(j, "rtt", buf);
    mon_fmt_uptime(buf, sizeof(buf), now - (int64_t)c->start_ms * 1000000);
    mon_json_str(j, "uptime", buf);
    mon_fmt_uptime(buf, sizeof(buf), now - (int64_t)c->last_ms * 1000000);
    mon_json_str(j, "idle", buf);
    mon_json_u64(j, "pending_bytes", c->pending);
    mon_json_u64(j, "in_msgs", c->in_msgs);
    mon_json_u64(j, "out_msgs", c->out_msgs);
    mon_json_u64(j, "in_bytes", c->in_bytes);
    mon_json_u64(j, "out_bytes", c->out_bytes);
    mon_json_u64(j, "subscriptions", c->nsubs);
    if (c->name && *c->name)
        mon_json_str(j, "name", c->name);
    if (c->lang && *c->lang)
        mon_json_str(j, "lang", c->lang);
    if (c->version && *c->version)
        mon_json_str(j, "version", c->version);
    if (c->tls_version)
        mon_json_str(j, "tls_version", c->tls_version);
    if (c->tls_cipher)
        mon_json_str(j, "tls_cipher_suite", c->tls_cipher);
    if (auth) {
        if (c->user && *c->user)
            mon_json_str(j, "authorized_user", c->user);
        if (c->account && *c->account && strcmp(c->account, GLOBAL_ACCOUNT) != 0)
            mon_json_str(j, "account", c->account);
    }
    if (c->nsubs_list > 0 && (subs || detail)) {
        mon_json_arr_begin(j, detail ? "subscriptions_list_detail" : "subscriptions_list");
        for (size_t i = 0; i < c->nsubs_list; i++) {
            char sb[1024];
            const char *subj, *queue;
            split_sub(c->subs[i], sb, sizeof(sb), &subj, &queue);
            if (!detail) {
                mon_json_str(j, NULL, subj);
                continue;
            }
            /* sid and msgs: the ABI does not carry them (see the docs) */
            mon_json_obj_begin(j, NULL);
            mon_json_str(j, "subject", subj);
            if (queue)
                mon_json_str(j, "qgroup", queue);
            mon_json_u64(j, "cid", c->cid);
            mon_json_obj_end(j);
        }
        mon_json_arr_end(j);
    }
    mon_json_obj_end(j);
}

void mon_connz(mon_state *st, mon_query_fn q, void *qc, mon_reply *r)
{
    bool auth, subs, detail;
    int64_t offset, limit;
    uint64_t cid;
    if (!q_bool(q, qc, "auth", &auth, r) || !q_subs(q, qc, &subs, &detail, r) ||
        !q_int(q, qc, "offset", &offset, r) || !q_int(q, qc, "limit", &limit, r) ||
        !q_uint(q, qc, "cid", &cid, r))
        return;

    enum { ST_OPEN, ST_CLOSED, ST_ALL } state = ST_OPEN;
    const char *sv = q_str(q, qc, "state");
    if (sv) {
        if (strcasecmp(sv, "open") == 0) {
            state = ST_OPEN;
        } else if (strcasecmp(sv, "closed") == 0) {
            state = ST_CLOSED;
        } else if (strcasecmp(sv, "any") == 0 || strcasecmp(sv, "all") == 0) {
            state = ST_ALL;
        } else {
            char msg[160];
            snprintf(msg, sizeof(msg), "Error decoding state for %.100s", sv);
            mon_reply_text(r, 400, msg);
            return;
        }
    }
    sort_by by = BY_CID;
    const char *so = q_str(q, qc, "sort");
    if (so) {
        bool ok = false;
        for (size_t i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++)
            if (strcmp(so, sort_names[i].name) == 0) {
                by = sort_names[i].by;
                ok = true;
            }
        if (!ok) {
            char msg[160];
            snprintf(msg, sizeof(msg), "invalid sorting option: %.100s", so);
            mon_reply_text(r, 400, msg);
            return;
        }
    }
    if (by == BY_STOP && state != ST_CLOSED) {
        mon_reply_text(r, 400, "sort by stop only valid on closed connections");
        return;
    }
    if (by == BY_REASON && state != ST_CLOSED) {
        mon_reply_text(r, 400, "sort by reason only valid on closed connections");
        return;
    }
    if (offset < 0)
        offset = 0;
    if (limit <= 0)
        limit = DEFAULT_LIST_SIZE;
    if (cid > 0)
        limit = 1;
    const char *user = q_str(q, qc, "user"), *acc = q_str(q, qc, "acc");

    snapshot snap;
    if (!snap_take(st, subs || detail, &snap)) {
        mon_reply_text(r, 500, "connection snapshot failed");
        return;
    }
    /* the closed-connection ring does not exist yet: "closed" is empty */
    size_t n = 0, total = 0;
    conn **sel = calloc(snap.n ? snap.n : 1, sizeof(*sel));
    if (!sel) {
        snap_free(&snap);
        mon_reply_text(r, 500, "out of memory");
        return;
    }
    if (state != ST_CLOSED) {
        for (size_t i = 0; i < snap.n; i++) {
            conn *c = &snap.v[i];
            if (acc && strcmp(acc, c->account ? c->account : GLOBAL_ACCOUNT) != 0)
                continue;
            total++;   /* nats-server counts before the cid and user filters */
            if (cid && c->cid != cid)
                continue;
            if (user && (!c->user || strcmp(user, c->user) != 0))
                continue;
            sel[n++] = c;
        }
    }
    g_sort = by;
    qsort(sel, n, sizeof(*sel), cmp_conn);

    size_t lo = (size_t)offset < n ? (size_t)offset : n;
    size_t hi = (size_t)offset + (size_t)limit < n ? (size_t)offset + (size_t)limit : n;

    modnats_stats s;
    get_stats(st, &s);
    int64_t now = mon_now_ns();
    mon_json j;
    mon_json_init(&j);
    mon_json_obj_begin(&j, NULL);
    server_header(st, &j, &s, now);
    mon_json_u64(&j, "num_connections", hi - lo);
    mon_json_u64(&j, "total", total);
    mon_json_i64(&j, "offset", offset);
    mon_json_i64(&j, "limit", limit);
    mon_json_arr_begin(&j, "connections");
    for (size_t i = lo; i < hi; i++)
        conn_json(&j, sel[i], now, auth, subs, detail);
    mon_json_arr_end(&j);
    mon_json_obj_end(&j);
    free(sel);
    snap_free(&snap);
    mon_reply_json(r, &j);
}

/* ------------------------------------------------------------ /subsz */

/* Does the literal subject `lit` match the pattern `pat` (with * and >)? */
static bool subject_matches(const char *pat, const char *lit)
{
    while (*pat && *lit) {
        const char *pe = strchr(pat, '.'), *le = strchr(lit, '.');
        size_t pl = pe ? (size_t)(pe - pat) : strlen(pat);
        size_t ll = le ? (size_t)(le - lit) : strlen(lit);
        if (pl == 1 && pat[0] == '>')
            return true;
        if (!(pl == 1 && pat[0] == '*') && (pl != ll || memcmp(pat, lit, pl) != 0))
            return false;
        if (!pe || !le)
            return !pe && !le;
        pat = pe + 1;
        lit = le + 1;
    }
    return false;
}

/* A valid publish subject: non-empty tokens, no wildcards, no spaces. */
static bool valid_literal_subject(const char *s)
{
    if (!*s)
        return false;
    const char *tok = s;
    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t l = (size_t)(p - tok);
            if (l == 0)
                return false;
            if (l == 1 && (tok[0] == '*' || tok[0] == '>'))
                return false;
            if (*p == '\0')
                return true;
            tok = p + 1;
        } else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            return false;
        }
    }
}

static void sublist_stats_json(mon_json *j, const modnats_stats *s)
{
    mon_json_u64(j, "num_subscriptions", s->subscriptions);
    mon_json_u64(j, "num_cache", s->sublist_cache_entries);
    mon_json_u64(j, "num_inserts", s->sublist_inserts);
    mon_json_u64(j, "num_removes", s->sublist_removes);
    mon_json_u64(j, "num_matches", s->sublist_matches);
    mon_json_double(j, "cache_hit_rate",
                    s->sublist_matches ? (double)s->sublist_cache_hits / (double)s->sublist_matches : 0);
    /* fanout is not in modnats_stats: see the docs */
    mon_json_i64(j, "max_fanout", 0);
    mon_json_double(j, "avg_fanout", 0);
}

void mon_subsz(mon_state *st, mon_query_fn q, void *qc, mon_reply *r)
{
    bool subs;
    int64_t offset, limit;
    if (!q_bool(q, qc, "subs", &subs, r) || !q_int(q, qc, "offset", &offset, r) ||
        !q_int(q, qc, "limit", &limit, r))
        return;
    const char *test = q_str(q, qc, "test"), *acc = q_str(q, qc, "acc");
    if (test && !valid_literal_subject(test)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "invalid test subject, must be valid publish subject: %.100s", test);
        mon_reply_text(r, 400, msg);
        return;
    }
    if (offset < 0)
        offset = 0;
    if (limit <= 0)
        limit = DEFAULT_LIST_SIZE;

    modnats_stats s;
    if (!get_stats(st, &s)) {
        mon_reply_text(r, 500, "stats unavailable");
        return;
    }
    snapshot snap = { 0 };
    if (subs && !snap_take(st, true, &snap)) {
        mon_reply_text(r, 500, "connection snapshot failed");
        return;
    }
    /* count the matching subscriptions, then print the [offset, offset+limit) window */
    size_t matched = 0;
    for (size_t i = 0; i < snap.n; i++) {
        conn *c = &snap.v[i];
        if (acc && strcmp(acc, c->account ? c->account : GLOBAL_ACCOUNT) != 0)
            continue;
        for (size_t k = 0; k < c->nsubs_list; k++) {
            char sb[1024];
            const char *subj, *queue;
            split_sub(c->subs[k], sb, sizeof(sb), &subj, &queue);
            if (!test || subject_matches(subj, test))
                matched++;
        }
    }
    size_t lo = (size_t)offset < matched ? (size_t)offset : matched;
    size_t hi = (size_t)offset + (size_t)limit < matched ? (size_t)offset + (size_t)limit : matched;

    mon_json j;
    mon_json_init(&j);
    mon_json_obj_begin(&j, NULL);
    if (hi == lo) {
        /* nats-server prints the bare stats when the list is empty */
        sublist_stats_json(&j, &s);
    } else {
        server_header(st, &j, &s, mon_now_ns());
        sublist_stats_json(&j, &s);
        /* nats-server's "total" is the length of the printed list */
        mon_json_u64(&j, "total", hi - lo);
        mon_json_i64(&j, "offset", offset);
        mon_json_i64(&j, "limit", limit);
        mon_json_arr_begin(&j, "subscriptions_list");
        size_t idx = 0;
        for (size_t i = 0; i < snap.n && idx < hi; i++) {
            conn *c = &snap.v[i];
            const char *a = c->account ? c->account : GLOBAL_ACCOUNT;
            if (acc && strcmp(acc, a) != 0)
                continue;
            for (size_t k = 0; k < c->nsubs_list && idx < hi; k++) {
                char sb[1024];
                const char *subj, *queue;
                split_sub(c->subs[k], sb, sizeof(sb), &subj, &queue);
                if (test && !subject_matches(subj, test))
                    continue;
                if (idx++ < lo)
                    continue;
                mon_json_obj_begin(&j, NULL);
                mon_json_str(&j, "account", a);
                mon_json_str(&j, "subject", subj);
                if (queue)
                    mon_json_str(&j, "qgroup", queue);
                mon_json_u64(&j, "cid", c->cid);
                mon_json_obj_end(&j);
            }
        }
        mon_json_arr_end(&j);
    }
    mon_json_obj_end(&j);
    snap_free(&snap);
    mon_reply_json(r, &j);
}

/* ---------------------------------------- /routez /gatewayz /leafz */

/* One route copied out of the routez service's callback (its strings
 * live only during the call). */
typedef struct rz_route {
    cl_routez_info ri;
    char *remote_id, *ip;
    char **subs;          /* "account subject[ queue]", nsubs of them */
    size_t nsubs;
} rz_route;

typedef struct rz_list {
    rz_route *v;
    size_t    n, cap;
    bool      oom;
} rz_list;

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static void rz_collect(void *ud, const cl_routez_info *ri)
{
    rz_list *l = ud;
    if (l->oom || !ri)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        rz_route *nv = realloc(l->v, cap * sizeof(*nv));
        if (!nv) {
            l->oom = true;
            return;
        }
        l->v = nv;
        l->cap = cap;
    }
    rz_route *r = &l->v[l->n];
    memset(r, 0, sizeof(*r));
    /* copy only what the writer filled; the rest stays zero */
    size_t n = ri->size < sizeof(r->ri) ? ri->size : sizeof(r->ri);
    memcpy(&r->ri, ri, n);
    r->ri.size = n;
    r->remote_id = dup_or_empty(MON_RZ_HAS(&r->ri, cl_routez_info, remote_id) ? ri->remote_id : NULL);
    r->ip = dup_or_empty(MON_RZ_HAS(&r->ri, cl_routez_info, port) ? ri->ip : NULL);
    /* the copied pointers are dead after this call */
    r->ri.remote_id = r->ri.remote_name = r->ri.ip = NULL;
    r->ri.connect_urls = NULL;
    r->ri.subs = NULL;
    if (MON_RZ_HAS(&r->ri, cl_routez_info, nsubs) && ri->subs && ri->nsubs) {
        r->subs = calloc(ri->nsubs, sizeof(char *));
        for (size_t i = 0; r->subs && i < ri->nsubs; i++)
            if (ri->subs[i] && (r->subs[r->nsubs] = strdup(ri->subs[i])))
                r->nsubs++;
    }
    if (!r->remote_id || !r->ip) {
        free(r->remote_id);
        free(r->ip);
        l->oom = true;
        return;
    }
    l->n++;
}

static void rz_list_free(rz_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].remote_id);
        free(l->v[i].ip);
        for (size_t k = 0; k < l->v[i].nsubs; k++)
            free(l->v[i].subs[k]);
        free(l->v[i].subs);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* The cluster module's service, looked up per request: it may load after
 * the monitor, and the lookup is cheap.  NULL without a usable one. */
static const cl_routez_v1 *routez_service(mon_state *st)
{
    if (!MODNATS_HAS(st->api, service_get) || !st->api->service_get)
        return NULL;
    const cl_routez_v1 *rz = st->api->service_get(CL_ROUTEZ_SERVICE, 1);
    if (!rz || !MON_RZ_HAS(rz, cl_routez_v1, foreach) || !rz->foreach)
        return NULL;
    return rz;
}

/* "account subject[ queue]" split in place into its parts. */
static void rz_split_sub(char *key, char **acc, char **subj, char **queue)
{
    *acc = key;
    *subj = strchr(key, ' ');
    *queue = NULL;
    if (!*subj) {
        *subj = key;
        *acc = NULL;
        return;
    }
    *(*subj)++ = 0;
    *queue = strchr(*subj, ' ');
    if (*queue)
        *(*queue)++ = 0;
}

static void route_json(mon_json *j, const rz_route *r, int64_t now, bool subs, bool detail)
{
    const cl_routez_info *ri = &r->ri;
    int64_t start = (int64_t)ri->start_unix_ms * 1000000;
    if (start <= 0 || start > now)
        start = now;
    char up[64];
    mon_fmt_uptime(up, sizeof(up), now - start);
    mon_json_obj_begin(j, NULL);
    mon_json_u64(j, "rid", ri->rid);
    mon_json_str(j, "remote_id", r->remote_id);
    mon_json_bool(j, "did_solicit", ri->did_solicit);
    mon_json_bool(j, "is_configured", ri->is_configured);
    mon_json_str(j, "ip", r->ip);
    mon_json_i64(j, "port", ri->port);
    mon_json_time(j, "start", start);
    /* the service has no activity time or pending bytes: see the docs */
    mon_json_time(j, "last_activity", now);
    char rtt[64] = "0s";
    if (MON_RZ_HAS(ri, cl_routez_info, rtt_ns) && ri->rtt_ns)
        mon_fmt_go_duration(rtt, sizeof(rtt), (int64_t)ri->rtt_ns);
    mon_json_str(j, "rtt", rtt);
    mon_json_str(j, "uptime", up);
    mon_json_str(j, "idle", "0s");
    mon_json_i64(j, "pending_size",
                 MON_RZ_HAS(ri, cl_routez_info, pending_bytes) ? (int64_t)ri->pending_bytes : 0);
    mon_json_u64(j, "in_msgs", ri->in_msgs);
    mon_json_u64(j, "out_msgs", ri->out_msgs);
    mon_json_u64(j, "in_bytes", ri->in_bytes);
    mon_json_u64(j, "out_bytes", ri->out_bytes);
    mon_json_u64(j, "subscriptions", ri->subscriptions);
    /* subscriptions_list(_detail), omitted when empty as nats-server does */
    if ((subs || detail) && r->nsubs) {
        mon_json_arr_begin(j, detail ? "subscriptions_list_detail" : "subscriptions_list");
        for (size_t i = 0; i < r->nsubs; i++) {
            char *key = strdup(r->subs[i]);
            if (!key)
                continue;
            char *acc, *subj, *queue;
            rz_split_sub(key, &acc, &subj, &queue);
            (void)acc;
            if (detail) {
                /* nats-server's fields: the account is in the sid */
                mon_json_obj_begin(j, NULL);
                mon_json_str(j, "subject", subj);
                if (queue)
                    mon_json_str(j, "qgroup", queue);
                mon_json_str(j, "sid", r->subs[i]);
                mon_json_u64(j, "msgs", 0);
                mon_json_u64(j, "cid", ri->rid);
                mon_json_obj_end(j);
            } else {
                mon_json_str(j, NULL, subj);
            }
            free(key);
        }
        mon_json_arr_end(j);
    }
    mon_json_obj_end(j);
}

void mon_routez(mon_state *st, mon_query_fn q, void *qc, mon_reply *r)
{
    bool subs, detail;
    if (!q_subs(q, qc, &subs, &detail, r))
        return;
    rz_list l = { 0 };
    const cl_routez_v1 *rz = routez_service(st);
    if (rz)
        rz->foreach(rz_collect, &l);   /* on this (HTTP) thread, no lock held */
    if (l.oom) {
        rz_list_free(&l);
        mon_reply_text(r, 500, "out of memory");
        return;
    }
    modnats_stats s;
    get_stats(st, &s);
    int64_t now = mon_now_ns();
    mon_json j;
    mon_json_init(&j);
    mon_json_obj_begin(&j, NULL);
    server_header(st, &j, &s, now);
    /* the routes listed, so the count and the list always agree */
    mon_json_u64(&j, "num_routes", l.n);
    mon_json_arr_begin(&j, "routes");
    for (size_t i = 0; i < l.n; i++)
        route_json(&j, &l.v[i], now, subs, detail);
    mon_json_arr_end(&j);
    mon_json_obj_end(&j);
    rz_list_free(&l);
    mon_reply_json(r, &j);
}

void mon_gatewayz(mon_state *st, mon_query_fn q, void *qc, mon_reply *r)
{
    modnats_stats s;
    get_stats(st, &s);
    mon_json j;
    mon_json_init(&j);
    mon_json_obj_begin(&j, NULL);
    server_header(st, &j, &s, mon_now_ns());
    /* name, host and port are omitted when empty, as nats-server does */
    mon_json_obj_begin(&j, "outbound_gateways");
    mon_json_obj_end(&j);
    mon_json_obj_begin(&j, "inbound_gateways");
    mon_json_obj_end(&j);
    mon_json_obj_end(&j);
    mon_reply_json(r, &j);
}

void mon_leafz(mon_state *st, mon_query_fn q, void *qc, mon_reply *r)
{
    bool subs;
    if (!q_bool(q, qc, "subs", &subs, r))
        return;
    modnats_stats s;
    get_stats(st, &s);
    mon_json j;
    mon_json_init(&j);
    mon_json_obj_begin(&j, NULL);
    server_header(st, &j, &s, mon_now_ns());
    mon_json_i64(&j, "leafnodes", 0);
    mon_json_null(&j, "leafs");   /* nats-server prints its nil slice as null */
    mon_json_obj_end(&j);
    mon_reply_json(r, &j);
}

/* --------------------------------------------------------- /accountz */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void mon_accountz(mon_state *st, mon_query_fn q, void *qc, mon_reply *r)
{
    const char *acc = q_str(q, qc, "acc");
    modnats_stats s;
    if (!get_stats(st, &s)) {
        mon_reply_text(r, 500, "stats unavailable");
        return;
    }
    /* The ABI has no account enumeration: the accounts are $G plus those
     * that connected clients are bound to. */
    snapshot snap;
    if (!snap_take(st, false, &snap)) {
        mon_reply_text(r, 500, "connection snapshot failed");
        return;
    }
    const char **names = calloc(snap.n + 1, sizeof(*names));
    if (!names) {
        snap_free(&snap);
        mon_reply_text(r, 500, "out of memory");
        return;
    }
    size_t nn = 0;
    names[nn++] = GLOBAL_ACCOUNT;
    for (size_t i = 0; i < snap.n; i++) {
        const char *a = snap.v[i].account;
        if (!a || !*a)
            continue;
        bool seen = false;
        for (size_t k = 0; k < nn && !seen; k++)
            seen = strcmp(names[k], a) == 0;
        if (!seen)
            names[nn++] = a;
    }
    qsort(names, nn, sizeof(*names), cmp_str);

    mon_json j;
    mon_json_init(&j);
    mon_json_obj_begin(&j, NULL);
    server_header(st, &j, &s, mon_now_ns());
    system_account(st, &j);
    if (!acc) {
        mon_json_arr_begin(&j, "accounts");
        for (size_t i = 0; i < nn; i++)
            mon_json_str(&j, NULL, names[i]);
        mon_json_arr_end(&j);
    } else {
        bool known = false;
        for (size_t i = 0; i < nn && !known; i++)
            known = strcmp(names[i], acc) == 0;
        if (!known && st->api->account_get(acc))
            known = true;
        if (known) {
            uint64_t clients = 0;
            for (size_t i = 0; i < snap.n; i++)
                if (strcmp(acc, snap.v[i].account ? snap.v[i].account : GLOBAL_ACCOUNT) == 0)
                    clients++;
            bool global = strcmp(acc, GLOBAL_ACCOUNT) == 0;
            mon_json_obj_begin(&j, "account_detail");
            mon_json_str(&j, "account_name", acc);
            mon_json_time(&j, "update_time",
                          (int64_t)(s.config_load_unix_ms ? s.config_load_unix_ms : s.start_unix_ms) * 1000000);
            mon_json_bool(&j, "expired", false);
            mon_json_bool(&j, "complete", true);
            mon_json_bool(&j, "jetstream_enabled", false);
            mon_json_i64(&j, "leafnode_connections", 0);
            mon_json_u64(&j, "client_connections", clients);
            /* per-account sublist stats: the ABI has the global account's only */
            if (global) {
                mon_json_u64(&j, "subscriptions", s.subscriptions);
                mon_json_obj_begin(&j, "sublist_stats");
                sublist_stats_json(&j, &s);
                mon_json_obj_end(&j);
            }
            mon_json_obj_end(&j);
        }
    }
    mon_json_obj_end(&j);
    free(names);
    snap_free(&snap);
    mon_reply_json(r, &j);
}

/* ---------------------------------------------------- /healthz and / */

void mon_healthz(mon_state *st, mon_query_fn q, void *qc, mon_reply *r)
{
    /* the server answers, so it is up: nats-server's compact form */
    r->status = 200;
    r->content_type = "application/json";
    r->body = strdup("{\"status\":\"ok\"}");
    r->body_len = r->body ? strlen(r->body) : 0;
    if (!r->body)
        mon_reply_text(r, 500, "out of memory");
}

void mon_root(mon_state *st, mon_query_fn q, void *qc, mon_reply *r)
{
    static const char *const links[][2] = {
        { "varz", "General" }, { "connz", "Connections" }, { "accountz", "Accounts" },
        { "subsz", "Subscriptions" }, { "routez", "Routes" }, { "leafz", "Leaf Nodes" },
        { "gatewayz", "Gateways" }, { "healthz", "Health Probe" }, { "metrics", "Prometheus Metrics" },
        { "jsz", "JetStream" },
    };
    mon_json b;
    mon_json_init(&b);
    mon_buf_printf(&b, "<html lang=\"en\">\n<head><title>modnats monitoring</title></head>\n"
                       "<body>\n<h1>modnats</h1>\n<p>version %s</p>\n",
                   st->api->server_version ? st->api->server_version : "");
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
        mon_buf_printf(&b, "<a href=./%s>%s</a><br/>\n", links[i][0], links[i][1]);
    mon_buf_printf(&b, "</body>\n</html>\n");
    if (b.oom) {
        mon_json_free(&b);
        mon_reply_text(r, 500, "out of memory");
        return;
    }
    r->status = 200;
    r->content_type = "text/html; charset=utf-8";
    r->body = mon_json_take(&b, &r->body_len);
}

/* The option parsers for the endpoints in other files (jsz.c). */
bool mon_q_bool(mon_query_fn q, void *qc, const char *key, bool *out, mon_reply *r)
{
    return q_bool(q, qc, key, out, r);
}

bool mon_q_int(mon_query_fn q, void *qc, const char *key, int64_t *out, mon_reply *r)
{
    return q_int(q, qc, key, out, r);
}
