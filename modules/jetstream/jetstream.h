/*
 * jetstream.h - the jetstream module's internals, shared by its files.
 *
 * Threads: the I/O workers only run the subscription callbacks, which copy
 * the message into a js_job and queue it (js_queue_job).  Everything else
 * (streams, the databases, replies) belongs to the one JetStream thread
 * (js_thread.c), which applies every queued job, commits once and then
 * sends the replies it collected (js_reply).
 */
#ifndef JETSTREAM_H
#define JETSTREAM_H

#include <modnats/modnats.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "js_store.h"
#include "js_accounts.h"

enum js_job_kind {
    JS_JOB_API = 1,     /* a request on $JS[.<domain>].API.INFO / STREAM.> */
    JS_JOB_PUB,         /* a message captured by a stream */
    JS_JOB_DIRECT,      /* $JS.API.DIRECT.GET.<stream>[.<subject>] */
    JS_JOB_INTEREST,    /* a subscription that may be a push consumer's client */
    JS_JOB_MON,         /* a jetstream.jsz service call (js_jsz.c) */
};

/* One message copied off an I/O worker.  One allocation: the strings
 * point into the job (NUL-terminated). */
typedef struct js_job {
    struct js_job   *next;
    int              kind;
    uint64_t         stream_id;     /* PUB, DIRECT */
    modnats_account *acc;
    int64_t          ts;            /* arrival, ns since the epoch */
    char            *subject;  size_t subject_len;
    char            *reply;    size_t reply_len;
    char            *hdr;      size_t hdr_len;
    char            *data;     size_t data_len;
} js_job;

/* A push consumer with flow_control asks the client to confirm after
 * this many bytes. */
#define JS_FC_BYTES (1 << 20)

/* One commit takes at most this much of the queue. */
#define JS_BATCH_MAX_JOBS  4096
#define JS_BATCH_MAX_BYTES (8u << 20)
/* Past this much queued, captured messages are refused at once (503). */
#define JS_QUEUE_MAX_BYTES (256u << 20)

static inline size_t js_job_bytes(const js_job *j)
{
    return sizeof *j + j->subject_len + j->reply_len + j->hdr_len + j->data_len + 4;
}

/* What a stream subscription's callback needs to queue a job: kept until
 * fini (a callback may still run just after unsubscribe). */
typedef struct js_capture {
    struct js_capture *next;
    uint64_t           stream_id;
    int                kind;
} js_capture;

/* One mirror or source of a stream (nats-server's StreamSource). */
typedef struct js_source_cfg {
    char    *name;
    char    *filter;                /* NULL: every subject */
    uint64_t start_seq;             /* opt_start_seq, 0: none */
    char    *start_time;            /* opt_start_time as given (RFC 3339), or NULL */
    int64_t  start_time_ns;
} js_source_cfg;

/* A stream's configuration, as nats-server's StreamConfig. */
typedef struct js_cfg {
    char    *name, *description;
    char   **subjects;  size_t nsubjects;
    int      retention;             /* 0 limits, 1 interest, 2 workqueue */
    int64_t  max_consumers, max_msgs, max_bytes, max_age_ns, max_msgs_per_subject;
    int64_t  max_msg_size;
    bool     discard_new, memory;
    int64_t  replicas;
    int64_t  dup_window_ns;
    bool     sealed, deny_delete, deny_purge, allow_rollup, allow_direct, mirror_direct;
    bool     discard_new_per_subject, no_ack;
    char    *rp_src, *rp_dest;      /* republish (NULL: none) */
    bool     rp_headers_only;
    js_source_cfg *mirror;          /* NULL: not a mirror */
    js_source_cfg *sources; size_t nsources;
} js_cfg;

/* The duplicate window: Nats-Msg-Id -> seq, oldest first. */
typedef struct js_dedup_ent {
    struct js_dedup_ent *next_hash, *next_age;
    uint64_t seq;
    int64_t  ts;
    char     id[];
} js_dedup_ent;

typedef struct js_consumer js_consumer;

typedef struct js_stream {
    uint64_t          id;
    char             *account;
    modnats_account  *acc;
    js_cfg            cfg;
    int64_t           created_ns;
    js_db            *db;           /* the file or the memory database */
    js_state          st;
    uint64_t          nsubjects;    /* subjects with messages (num_subjects) */
    bool              state_dirty;
    char             *last_msg_id;  /* Nats-Msg-Id of the last message, or NULL */
    modnats_sub     **subs;  size_t nsubs;
    js_dedup_ent    **dd_tab; size_t dd_cap, dd_n;
    js_dedup_ent     *dd_head, *dd_tail;
    js_consumer     **cons;  size_t ncons;
    struct js_copy   *copy;         /* mirror/sources progress (js_mirror.c), or NULL */
    bool              origin_direct; /* mirror_direct in effect: answers the origin's DIRECT.GET */
} js_stream;

/* Module-wide state (jetstream.c). */
typedef struct js_global {
    const modnats_host_api *api;
    modnats_module         *self;
    modnats_origin          origin;
    /* settings */
    char    *store_dir;
    int64_t  max_mem, max_file;
    char    *domain;
    bool     sync_always;
    int64_t  sync_interval_ms;
    /* the queue */
    pthread_mutex_t lock;
    pthread_cond_t  cond;
    js_job         *head, *tail;
    size_t          queued_bytes;
    bool            stop;
    pthread_t       thread;
    bool            thread_started;
    /* owned by the JetStream thread after init */
    js_db          *fdb, *mdb;
    js_stream     **streams;  size_t nstreams;
    uint64_t        api_total, api_errors;
    js_capture     *captures;       /* freed in fini */
    modnats_sub   **api_subs;  size_t napi_subs;
    /* replies collected during one batch */
    struct js_out  *out_head, *out_tail;
} js_global;

extern js_global js_g;

/* jetstream.c */
void js_queue_job(js_job *j);
void js_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int64_t js_now_ns(void);
/* ns since the epoch as Go's RFC3339Nano in UTC (js_api.c); buf >= 40. */
void    js_fmt_time(char *buf, size_t len, int64_t ns);
/* Subscribe (in acc) to a stream's subject or DIRECT.GET subject for the
 * stream id; kind JS_JOB_PUB or JS_JOB_DIRECT.  NULL on failure. */
modnats_sub *js_subscribe_capture(modnats_account *acc, const char *subject, const char *queue,
                                  uint64_t id,
                                  int kind);
/* Push consumers' deliver subjects, watched by the INTEREST hook (which
 * queues a JS_JOB_INTEREST when a subscription could match one). */
void js_push_watch(modnats_account *acc, const char *deliver, bool on);

/* js_thread.c */
int  js_thread_start(char *err, size_t errlen);
void js_thread_stop(void);
/* Queue a reply (copied), sent after the batch is committed.  is_ack:
 * a PubAck, replaced by an error if the commit fails. */
void js_reply(modnats_account *acc, const char *subj, size_t slen, const char *hdr, size_t hlen,
              const char *data, size_t dlen, bool is_ack);

/* Queue a message routed to subj that subscribers see under m->subject
 * (deliver_as), with m's reply, headers and data (copied). */
void js_reply_msg(modnats_account *acc, const char *subj, const modnats_msg *m);

/* js_consumer.c: consumers (JetStream thread) */
bool   js_consumer_api(const js_job *j, const char *api);   /* "CONSUMER...."; false: not one */
void   js_consumer_ack(const js_job *j);                     /* $JS.ACK.... */
void   js_consumer_fc(const js_job *j);                      /* $JS.FC.... */
void   js_consumers_load(js_stream *s);
void   js_consumers_free(js_stream *s);
void   js_consumers_flush_state(js_stream *s);
void   js_consumers_on_store(js_stream *s, uint64_t seq, const char *subj, size_t n);
void   js_consumers_on_remove(js_stream *s, uint64_t seq, const char *subj, size_t n);
void   js_consumers_on_purge_all(js_stream *s);
void   js_consumers_tick(js_stream *s, int64_t now, int64_t *next, bool *more);
size_t js_consumers_count(const js_stream *s);
/* A subscription matching `subject` came or went in acc: push consumers
 * there recount their deliver subject's interest. */
void   js_consumers_interest(modnats_account *acc, const char *subject);
/* Does any consumer's filter take this subject? */
bool   js_consumers_interested(const js_stream *s, const char *subj, size_t n);

/* js_stream.c: streams (JetStream thread) */
int        js_streams_load(char *err, size_t errlen);
void       js_streams_free(void);
js_stream *js_stream_find(modnats_account *acc, const char *name);
js_stream *js_stream_by_id(uint64_t id);
void       js_stream_publish(js_stream *s, const js_job *j);
void       js_streams_expire(int64_t now, int64_t *next_ns);
/* Consumers' timers and deliveries for every stream (see js_consumers_tick). */
void       js_streams_tick(int64_t now, int64_t *next_ns, bool *more);
void       js_streams_flush_state(void);
void       js_cfg_free(js_cfg *c);
js_stream *js_stream_create(modnats_account *acc, js_cfg *cfg);   /* takes cfg's contents */
int        js_stream_update(js_stream *s, js_cfg *cfg);            /* takes cfg's contents */
void       js_stream_delete(js_stream *s);
/* Purge: filter NULL = all subjects; upto > 0: only seqs below it;
 * has_keep: keep the newest `keep`.  Returns how many went. */
uint64_t   js_stream_purge(js_stream *s, const char *filter, uint64_t upto, uint64_t keep,
                           bool has_keep);
bool       js_stream_remove(js_stream *s, uint64_t seq);
uint64_t   js_msg_size(const js_stream *s, size_t slen, size_t hlen, size_t dlen);
/* The value of a header in a NATS/1.0 block (not NUL-terminated), or NULL. */
const char *js_hdr_get(const char *hdr, size_t hlen, const char *name, size_t *vlen);
char      *js_cfg_to_string(const js_cfg *c);   /* malloc'd compact JSON */

/* Map subj through src -> dest ('*' and '>' of src captured; '*', $N,
 * {{wildcard(N)}} and '>' of dest filled in).  malloc'd, or NULL when subj
 * does not match src. */
char *js_subject_map(const char *src, const char *dest, const char *subj, size_t slen);

/* Store a message copied by a mirror (at the origin's seq, above
 * last_seq) or a source (seq 0: the next), then apply the stream's limits. */
void       js_stream_store_copy(js_stream *s, uint64_t seq, int64_t ts, const char *subj,
                                size_t slen, const char *hdr, size_t hlen, const char *data,
                                size_t dlen);

/* js_mirror.c: mirrors and sources within this server (JetStream thread). */
/* Copy what the origins stored since the last turn, bounded per turn
 * (more: set when work is left). */
void    js_mirrors_run(int64_t now, bool *more);
/* o just stored its last_seq: the copies of o that are caught up take it at
 * once, before o's own limits or interest retention can remove it. */
void    js_mirror_on_store(js_stream *o);
void    js_mirror_free(js_stream *s);       /* its progress (not the stored one) */
/* After an update (old: the previous config): progress reloaded; a source
 * whose filter changed goes on from where it was, as nats-server. */
void    js_mirror_update(js_stream *s, const js_cfg *old);
/* STREAM.INFO's "mirror" and "sources" into o. */
void    js_mirror_info(js_stream *s, json_t *o, int64_t now);
/* Checks against the other streams (cycles, filters, max_msg_size); 0 or
 * -1 with the code, err_code and the description in err. */
int     js_mirror_check(modnats_account *acc, const js_cfg *c, int *code, int *err_code,
                        char *err, size_t errlen);
/* Parse / render / free the mirror and sources of a StreamConfig. */
int     js_source_parse(json_t *o, js_source_cfg *sc, char *err, size_t errlen);
json_t *js_source_json(const js_source_cfg *sc);
void    js_source_free(js_source_cfg *sc);

/* js_api.c: $JS.API requests (JetStream thread) */
/* A StreamConfig object -> c (defaults filled in as nats-server does);
 * -1 with the reason in err. */
int     js_cfg_parse(json_t *o, js_cfg *c, char *err, size_t errlen);
json_t *js_cfg_json(const js_cfg *c);
void js_api_handle(const js_job *j);

/* js_acct.c: per-account JetStream and its limits (JetStream thread) */
typedef struct js_acct_use {
    uint64_t memory, storage;               /* bytes stored */
    uint64_t mem_reserved, file_reserved;   /* sum of the streams' max_bytes */
    uint64_t streams, consumers;
} js_acct_use;
/* Does acc have JetStream?  *out: its limits (all -1 when unlimited). */
bool    js_acct_get(modnats_account *acc, js_account_limits *out);
void    js_acct_usage(modnats_account *acc, js_acct_use *u);
/* May a stream with config c be created (update false; old: the stream
 * of that name, if any) or replace old (update)?  0, or nats-server's
 * err_code with *code and *desc (static text). */
int     js_acct_check_stream(modnats_account *acc, const js_cfg *c, const js_stream *old,
                             bool update, int *code, const char **desc);
/* Does the account of s have room for sz more bytes of its storage type? */
bool    js_acct_room(const js_stream *s, uint64_t sz);
/* p: the API subject after "$JS.API.".  true when the account has no
 * JetStream: nats-server's 10039 reply was queued (or none is due). */
bool    js_acct_refuse_api(const js_job *j, const char *p);
json_t *js_acct_limits_json(const js_account_limits *l);
/* The account's API counters (ACCOUNT.INFO "api"), per account as
 * nats-server keeps them. */
void    js_acct_api_count(modnats_account *acc, uint64_t total, uint64_t errors);
void    js_acct_api_get(modnats_account *acc, uint64_t *total, uint64_t *errors);
void    js_acct_free(void);
void js_direct_get(const js_job *j);

#endif
