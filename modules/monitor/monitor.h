/*
 * monitor.h - internals shared by the files of the monitor module.
 *
 * The module serves nats-server's HTTP monitoring endpoints (/varz,
 * /connz, /subsz, ...) plus /metrics in Prometheus text format.  Files:
 * monitor.c (descriptor, settings, the libmicrohttpd daemon and routing),
 * json.c (a small JSON writer that prints as Go's encoding/json does, and
 * Go's time and duration formats), procstat.c (mem and cpu from /proc),
 * endpoints.c (one function per endpoint), metrics.c (/metrics), jsz.c
 * (/jsz and varz's jetstream, from the jetstream module's "jetstream.jsz"
 * service, modules/jetstream/js_jsz.h).
 * The "routez" service contract is the cluster module's cluster_routez.h.
 * Everything here runs on libmicrohttpd's thread, never an I/O worker.
 * Internal names start with mon_.
 */
#ifndef MODNATS_MONITOR_H
#define MODNATS_MONITOR_H

#include <modnats/modnats.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------ the JSON writer */

#define MON_JSON_MAX_DEPTH 16

/* A growing buffer plus the state needed to indent like Go's
 * json.MarshalIndent(v, "", "  ").  On allocation failure `oom` is set
 * and later writes are ignored; the caller checks it once at the end. */
typedef struct mon_json {
    char  *buf;
    size_t len, cap;
    int    depth;
    bool   empty[MON_JSON_MAX_DEPTH];   /* no member written yet at this depth */
    bool   oom;
} mon_json;

void mon_json_init(mon_json *j);
void mon_json_free(mon_json *j);
/* Hands the buffer to the caller (who frees it) and resets j. */
char *mon_json_take(mon_json *j, size_t *len);

/* key is NULL for array elements and the top-level value. */
void mon_json_obj_begin(mon_json *j, const char *key);
void mon_json_obj_end(mon_json *j);
void mon_json_arr_begin(mon_json *j, const char *key);
void mon_json_arr_end(mon_json *j);
void mon_json_str(mon_json *j, const char *key, const char *s);   /* NULL: "" */
void mon_json_u64(mon_json *j, const char *key, uint64_t v);
void mon_json_i64(mon_json *j, const char *key, int64_t v);
void mon_json_bool(mon_json *j, const char *key, bool v);
void mon_json_double(mon_json *j, const char *key, double v);
void mon_json_null(mon_json *j, const char *key);
/* A time as RFC 3339 with nanoseconds, trailing zeros cut (Go's
 * time.Time in JSON), in UTC. */
void mon_json_time(mon_json *j, const char *key, int64_t unix_ns);

/* A compact JSON value (text, as jansson or Go print it) written as a
 * member or element, re-indented like the rest; <, > and & in its strings
 * escaped as Go does.  False (and nothing written) when it does not parse. */
bool mon_json_raw(mon_json *j, const char *key, const char *text);
/* The members of a compact JSON object (text) added to the object being
 * written, the same way.  False (nothing written) when it does not parse. */
bool mon_json_raw_members(mon_json *j, const char *text);

/* Raw bytes appended as they are (for text bodies built with the same
 * buffer). */
void mon_buf_append(mon_json *j, const char *s, size_t n);
void mon_buf_printf(mon_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ----------------------------------------------------------- formats */

/* Go's time.Duration.String(): "0s", "430µs", "1.5ms", "1m2.5s", "2h0m0s". */
void mon_fmt_go_duration(char *out, size_t cap, int64_t ns);
/* nats-server's uptime/idle style: "0s", "1m2s", "3h0m1s", "2d1h0m0s", "1y2d...". */
void mon_fmt_uptime(char *out, size_t cap, int64_t ns);
/* RFC 3339 with up to 9 fraction digits, trailing zeros cut, "Z". */
void mon_fmt_time(char *out, size_t cap, int64_t unix_ns);
/* Go's strconv 'f' shortest round-trip form of a float64 (as
 * encoding/json prints values in [1e-6, 1e21)). */
void mon_fmt_double(char *out, size_t cap, double v);

int64_t mon_now_ns(void);

/* ---------------------------------------------------------- /proc */

typedef struct mon_proc {
    int64_t rss_bytes;
    double  cpu_pct;     /* over the interval since the last sample, as ps does */
    int     cores;
} mon_proc;

/* Samples /proc/self.  cpu_pct is averaged since the previous call (the
 * first call: since the process started).  Not thread-safe: the HTTP
 * thread is the only caller. */
void mon_proc_sample(mon_proc *out);

/* ------------------------------------------------------- the module */

/* Paths counted in http_req_stats, in the (sorted) order varz prints them. */
enum {
    MON_P_ROOT, MON_P_ACCOUNTZ, MON_P_CONNZ, MON_P_GATEWAYZ, MON_P_HEALTHZ, MON_P_JSZ,
    MON_P_LEAFZ, MON_P_METRICS, MON_P_ROUTEZ, MON_P_SUBSZ, MON_P_VARZ, MON_P__COUNT
};
extern const char *const mon_path_names[MON_P__COUNT];

typedef struct mon_state {
    modnats_module         *self;
    const modnats_host_api *api;
    char     *host;            /* as configured */
    int       port;            /* as bound (an ephemeral port resolved) */
    struct MHD_Daemon *daemon;
    uint64_t  req_count[MON_P__COUNT];   /* atomics */
} mon_state;

/* A query-string lookup: the value of `key`, or NULL when absent. */
typedef const char *(*mon_query_fn)(void *ctx, const char *key);

/* What an endpoint answers: status, content type and an owned body. */
typedef struct mon_reply {
    int         status;
    const char *content_type;
    char       *body;       /* malloc'd; the caller frees */
    size_t      body_len;
} mon_reply;

void mon_varz(mon_state *st, mon_query_fn q, void *qctx, mon_reply *r);
void mon_connz(mon_state *st, mon_query_fn q, void *qctx, mon_reply *r);
void mon_subsz(mon_state *st, mon_query_fn q, void *qctx, mon_reply *r);
void mon_routez(mon_state *st, mon_query_fn q, void *qctx, mon_reply *r);
void mon_gatewayz(mon_state *st, mon_query_fn q, void *qctx, mon_reply *r);
void mon_leafz(mon_state *st, mon_query_fn q, void *qctx, mon_reply *r);
void mon_accountz(mon_state *st, mon_query_fn q, void *qctx, mon_reply *r);
void mon_healthz(mon_state *st, mon_query_fn q, void *qctx, mon_reply *r);
void mon_root(mon_state *st, mon_query_fn q, void *qctx, mon_reply *r);
void mon_metrics(mon_state *st, mon_query_fn q, void *qctx, mon_reply *r);
/* jsz.c: /jsz and the "jetstream" object of /varz, from the jetstream
 * module's "jetstream.jsz" service (modules/jetstream/js_jsz.h). */
void mon_jsz(mon_state *st, mon_query_fn q, void *qctx, mon_reply *r);
void mon_varz_jetstream(mon_state *st, mon_json *j);

/* Query options parsed as nats-server does (false: r holds the 400). */
bool mon_q_bool(mon_query_fn q, void *qc, const char *key, bool *out, mon_reply *r);
bool mon_q_int(mon_query_fn q, void *qc, const char *key, int64_t *out, mon_reply *r);

/* Fill r with a plain-text error (nats-server answers 400 with the
 * message as the body). */
void mon_reply_text(mon_reply *r, int status, const char *msg);
/* Fill r from a finished JSON writer (500 on out of memory). */
void mon_reply_json(mon_reply *r, mon_json *j);

#endif
