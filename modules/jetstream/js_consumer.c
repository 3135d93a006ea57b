/*
 * js_consumer.c - consumers on the JetStream thread: the CONSUMER.* API,
 * pull requests (MSG.NEXT with batch / expires / no_wait), push delivery
 * to a deliver subject with idle heartbeats, acks on $JS.ACK.> (+ACK,
 * -NAK, +TERM, +WPI, +NXT, ack all), redelivery after ack_wait, and the
 * consumer state (delivered, ack floor, pending acks) written to the
 * `cstate` family in the same group commit as everything else.
 *
 * Durable consumers survive restarts (config in `cmeta`, state in
 * `cstate`); ephemeral ones live in memory only.
 */
#include "jetstream.h"
#include "js_events.h"
#include "js_pace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { DP_ALL, DP_LAST, DP_NEW, DP_START_SEQ, DP_START_TIME, DP_LAST_PER_SUBJECT };
enum { AP_NONE, AP_ALL, AP_EXPLICIT };

typedef struct js_pend {
    uint64_t sseq, cseq;
    uint64_t dc;            /* deliveries so far */
    int64_t  deadline;      /* ns: redeliver after this */
    bool     queued;        /* in the redelivery queue */
    bool     advised;       /* past max_deliver: the advisory went out */
    int64_t  sent;          /* ns: the last delivery (ack metric) */
} js_pend;

typedef struct js_wait {
    struct js_wait *next;
    char           *reply;
    int64_t         batch;
    int64_t         expires;    /* absolute ns; 0: none */
    bool            no_wait;
    int64_t         max_bytes, bytes_left;  /* 0: no byte limit */
    int64_t         hb, next_hb;            /* idle heartbeat of the request */
    modnats_account *acc;
} js_wait;

struct js_consumer {
    js_stream *s;
    char      *name;
    bool       durable;
    json_t    *cfg;             /* normalised, as reported */
    int64_t    created_ns;
    /* the fields used, from cfg */
    int        deliver_policy, ack_policy;
    uint64_t   opt_start_seq;
    int64_t    ack_wait, max_deliver, max_ack_pending, max_waiting, idle_hb, inactive;
    int64_t    opt_start_ns;    /* by_start_time */
    int64_t   *backoff;  size_t nbackoff;   /* redelivery delays by delivery count */
    char      *filter;          /* NULL: everything (or filters) */
    char     **filters;  size_t nfilters;   /* filter_subjects (2.10) */
    char      *deliver_subject; /* push */
    bool       headers_only, flow_control;
    bool       active;          /* push: somebody subscribes to the deliver subject */
    bool       watched;         /* push: registered with js_push_watch */
    /* flow control of a push consumer: bytes sent since the client last
     * answered, and the request it has not answered yet ("" when none) */
    int64_t    fc_bytes;
    uint64_t   fc_seq;
    char       fc_subject[300];
    /* state */
    uint64_t   dseq_c, dseq_s;  /* last delivered */
    uint64_t   afloor_c, afloor_s;
    uint64_t   num_pending;     /* matching messages after dseq_s */
    uint64_t   num_redelivered;
    js_pend   *pend;  size_t npend, cap;
    uint64_t  *redq;  size_t nredq, capredq;
    uint64_t  *initial; size_t ninitial, initial_pos;  /* last_per_subject start */
    js_wait   *wait_head, *wait_tail;  size_t nwait;
    bool       dirty;
    int64_t    last_active, last_out;
    js_pace    pace;            /* replay original, rate limit (js_pace.c) */
    int64_t    pace_at;         /* a held delivery may leave then; 0: none */
};

static void retention_acked(js_consumer *c, uint64_t seq);

/* ---- small helpers ---- */

static bool cmatch(const js_consumer *c, const char *subj, size_t n)
{
    if (c->nfilters) {
        for (size_t i = 0; i < c->nfilters; i++)
            if (js_subject_match(c->filters[i], subj, n))
                return true;
        return false;
    }
    return !c->filter || js_subject_match(c->filter, subj, n);
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t jint(json_t *o, const char *k, int64_t def)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

static void reply_text(modnats_account *acc, const char *subj, const char *hdr, const char *data)
{
    js_reply(acc, subj, strlen(subj), hdr, hdr ? strlen(hdr) : 0, data, data ? strlen(data) : 0,
             false);
}

/* ---- pending acks ---- */

static js_pend *pend_find(js_consumer *c, uint64_t sseq, size_t *idx)
{
    size_t lo = 0, hi = c->npend;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->pend[mid].sseq < sseq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (idx)
        *idx = lo;
    return lo < c->npend && c->pend[lo].sseq == sseq ? &c->pend[lo] : NULL;
}

/* How long delivery number dc waits for its ack: backoff[dc-1] (the last
 * one repeating), else ack_wait. */
static int64_t ack_wait_for(const js_consumer *c, uint64_t dc)
{
    if (!c->nbackoff)
        return c->ack_wait;
    size_t i = dc ? (size_t)dc - 1 : 0;
    return c->backoff[i < c->nbackoff ? i : c->nbackoff - 1];
}

static void pend_add(js_consumer *c, uint64_t sseq, uint64_t cseq, int64_t now)
{
    size_t i;
    js_pend *p = pend_find(c, sseq, &i);
    if (p) {
        p->cseq = cseq;
        p->dc++;
        p->deadline = now + ack_wait_for(c, p->dc);
        p->queued = false;
        p->sent = now;
        return;
    }
    if (c->npend == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        js_pend *v = realloc(c->pend, cap * sizeof *v);
        if (!v)
            return;
        c->pend = v;
        c->cap = cap;
    }
    memmove(&c->pend[i + 1], &c->pend[i], (c->npend - i) * sizeof *c->pend);
    c->pend[i] = (js_pend){.sseq = sseq, .cseq = cseq, .dc = 1,
                           .deadline = now + ack_wait_for(c, 1), .sent = now};
    c->npend++;
}

static void update_floor(js_consumer *c)
{
    if (!c->npend) {
        c->afloor_c = c->dseq_c;
        c->afloor_s = c->dseq_s;
    } else {
        c->afloor_s = c->pend[0].sseq - 1;
        c->afloor_c = c->pend[0].cseq > 0 ? c->pend[0].cseq - 1 : 0;
    }
    c->dirty = true;
}

static bool pend_remove(js_consumer *c, uint64_t sseq)
{
    size_t i;
    if (!pend_find(c, sseq, &i))
        return false;
    memmove(&c->pend[i], &c->pend[i + 1], (c->npend - i - 1) * sizeof *c->pend);
    c->npend--;
    update_floor(c);
    return true;
}

/* ---- the consumer set of a stream ---- */

static js_consumer *find(js_stream *s, const char *name)
{
    for (size_t i = 0; i < s->ncons; i++)
        if (!strcmp(s->cons[i]->name, name))
            return s->cons[i];
    return NULL;
}

static void waits_free(js_consumer *c)
{
    while (c->wait_head) {
        js_wait *w = c->wait_head;
        c->wait_head = w->next;
        free(w->reply);
        free(w);
    }
    c->wait_tail = NULL;
    c->nwait = 0;
}

static void filters_free(js_consumer *c)
{
    for (size_t i = 0; i < c->nfilters; i++)
        free(c->filters[i]);
    free(c->filters);
    c->filters = NULL;
    c->nfilters = 0;
}

/* Read-ahead within one pump(): the consumer's next messages read with one
 * iterator (js_db_next_msgs) rather than a seek or two per message.  Only
 * pump() turns it on, for consumers whose filter most messages match;
 * nothing else runs on the store meanwhile, so the batch stays true. */
#define JS_RA_MAX 128
static struct {
    js_consumer *c;         /* NULL: off */
    size_t       want;      /* how many to read at once */
    js_msg      *m[JS_RA_MAX];
    size_t       n, i;
} ra;

static void ra_drop(void)
{
    while (ra.i < ra.n)
        js_msg_free(ra.m[ra.i++]);
    ra.n = ra.i = 0;
}

/* Most messages match c's filter: none, a wildcard, or the stream's only
 * subject (each message is still checked against it). */
static bool ra_fits(const js_consumer *c)
{
    if (c->nfilters)
        return false;
    if (!c->filter || strpbrk(c->filter, "*>"))
        return true;
    return c->s->cfg.nsubjects == 1 && !strcmp(c->s->cfg.subjects[0], c->filter);
}

static void ra_begin(js_consumer *c)
{
    ra_drop();
    ra.c = ra_fits(c) ? c : NULL;
    ra.want = 1;
}

static void ra_end(void)
{
    ra_drop();
    ra.c = NULL;
}

/* Read ahead no more than this delivery can take: the request's batch,
 * the room under max_ack_pending. */
static void ra_want(const js_consumer *c, int64_t batch)
{
    size_t w = batch > 0 && batch < JS_RA_MAX ? (size_t)batch : JS_RA_MAX;
    if (c->ack_policy != AP_NONE && c->max_ack_pending > 0) {
        size_t room = c->npend < (size_t)c->max_ack_pending
                          ? (size_t)c->max_ack_pending - c->npend : 1;
        if (room < w)
            w = room;
    }
    ra.want = w;
}

/* The first message at or after from, from the read-ahead (the caller's). */
static js_msg *ra_next(uint64_t from)
{
    while (ra.i < ra.n && ra.m[ra.i]->seq < from)
        js_msg_free(ra.m[ra.i++]);
    if (ra.i == ra.n) {
        ra.i = 0;
        ra.n = js_db_next_msgs(ra.c->s->db, ra.c->s->id, from, ra.c->filter, ra.m, ra.want);
    }
    return ra.i < ra.n ? ra.m[ra.i++] : NULL;
}

/* The first matching message at or after `from`. */
static js_msg *next_match(js_consumer *c, uint64_t from)
{
    js_stream *s = c->s;
    if (ra.c == c)
        return ra_next(from);
    if (!c->nfilters)
        return js_db_next_msg(s->db, s->id, from, c->filter);
    for (js_msg *m = js_db_next_msg(s->db, s->id, from, NULL); m;) {
        if (cmatch(c, m->subject, m->subject_len))
            return m;
        uint64_t next = m->seq + 1;
        js_msg_free(m);
        m = js_db_next_msg(s->db, s->id, next, NULL);
    }
    return NULL;
}

static void consumer_free(js_consumer *c)
{
    filters_free(c);
    if (c->watched)
        js_push_watch(c->s->acc, c->deliver_subject, false);
    waits_free(c);
    json_decref(c->cfg);
    free(c->name);
    free(c->filter);
    free(c->deliver_subject);
    free(c->pend);
    free(c->redq);
    free(c->initial);
    free(c->backoff);
    free(c);
}

void js_consumers_free(js_stream *s)
{
    for (size_t i = 0; i < s->ncons; i++)
        consumer_free(s->cons[i]);
    free(s->cons);
    s->cons = NULL;
    s->ncons = 0;
}

static void consumer_remove(js_consumer *c)
{
    js_stream *s = c->s;
    if (c->durable)
        js_db_del_consumer(s->db, s->id, c->name);
    for (size_t i = 0; i < s->ncons; i++) {
        if (s->cons[i] == c) {
            memmove(&s->cons[i], &s->cons[i + 1], (s->ncons - i - 1) * sizeof c);
            s->ncons--;
            break;
        }
    }
    consumer_free(c);
}

/* ---- configuration ---- */

/* RFC 3339 ("2024-01-02T03:04:05.123456789Z", or with +hh:mm) -> ns. */
static int parse_time(const char *t, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 9)
                frac = frac * 10 + (*p - '0');
        for (; digits < 9; digits++)
            frac *= 10;
    }
    int64_t off = 0;
    if (*p == '+' || *p == '-') {
        int h, m;
        if (sscanf(p + 1, "%2d:%2d", &h, &m) != 2)
            return -1;
        off = (int64_t)(h * 3600 + m * 60) * (*p == '-' ? -1 : 1);
    } else if (*p != 'Z' && *p != 'z') {
        return -1;
    }
    int64_t sec = (int64_t)timegm(&tm) - off;
    *out = sec * 1000000000 + frac;
    return 0;
}

static int parse_cfg(js_consumer *c, json_t *cfg, char *err, size_t errlen)
{
    const char *dp = jstr(cfg, "deliver_policy");
    c->deliver_policy = !dp || !strcmp(dp, "all") ? DP_ALL : !strcmp(dp, "last") ? DP_LAST
                      : !strcmp(dp, "new") ? DP_NEW : !strcmp(dp, "by_start_sequence")
                      ? DP_START_SEQ : !strcmp(dp, "by_start_time") ? DP_START_TIME
                      : !strcmp(dp, "last_per_subject") ? DP_LAST_PER_SUBJECT : -1;
    const char *ap = jstr(cfg, "ack_policy");
    c->ack_policy = !ap || !strcmp(ap, "none") ? AP_NONE : !strcmp(ap, "all") ? AP_ALL
                  : !strcmp(ap, "explicit") ? AP_EXPLICIT : -1;
    if (c->deliver_policy < 0 || c->ack_policy < 0) {
        snprintf(err, errlen, "invalid JSON");
        return -1;
    }
    if (c->deliver_policy == DP_START_TIME) {
        const char *t = jstr(cfg, "opt_start_time");
        if (!t || parse_time(t, &c->opt_start_ns) != 0) {
            snprintf(err, errlen, "consumer delivery policy is deliver by start time, but "
                                  "optional start time is not set");
            return -1;
        }
    }
    json_t *bo = json_object_get(cfg, "backoff");
    free(c->backoff);
    c->backoff = NULL;
    c->nbackoff = 0;
    if (json_is_array(bo) && json_array_size(bo)) {
        c->backoff = calloc(json_array_size(bo), sizeof *c->backoff);
        for (size_t i = 0; c->backoff && i < json_array_size(bo); i++) {
            json_t *d = json_array_get(bo, i);
            if (!json_is_integer(d) || json_integer_value(d) <= 0) {
                snprintf(err, errlen, "invalid JSON");
                return -1;
            }
            c->backoff[c->nbackoff++] = json_integer_value(d);
        }
        int64_t md = jint(cfg, "max_deliver", -1);
        if (md > 0 && (size_t)md <= c->nbackoff) {
            snprintf(err, errlen, "max deliver is required to be > length of backoff values");
            return -1;
        }
    }
    c->opt_start_seq = (uint64_t)jint(cfg, "opt_start_seq", 0);
    if (c->deliver_policy == DP_START_SEQ && !c->opt_start_seq) {
        snprintf(err, errlen, "consumer delivery policy is deliver by start sequence, but "
                              "optional start sequence is not set");
        return -1;
    }
    c->ack_wait = jint(cfg, "ack_wait", 0);
    c->max_deliver = jint(cfg, "max_deliver", 0);
    c->max_ack_pending = jint(cfg, "max_ack_pending", 0);
    c->max_waiting = jint(cfg, "max_waiting", 0);
    c->idle_hb = jint(cfg, "idle_heartbeat", 0);
    c->inactive = jint(cfg, "inactive_threshold", 0);
    c->headers_only = json_is_true(json_object_get(cfg, "headers_only"));
    c->flow_control = json_is_true(json_object_get(cfg, "flow_control"));
    const char *f = jstr(cfg, "filter_subject");
    c->filter = f && *f && strcmp(f, ">") ? strdup(f) : NULL;
    filters_free(c);
    json_t *fs = json_object_get(cfg, "filter_subjects");
    if (json_is_array(fs) && json_array_size(fs)) {
        if (c->filter) {
            snprintf(err, errlen, "consumer cannot have both FilterSubject and FilterSubjects "
                                  "specified");
            return -1;
        }
        c->filters = calloc(json_array_size(fs), sizeof *c->filters);
        for (size_t i = 0; c->filters && i < json_array_size(fs); i++) {
            const char *x = json_string_value(json_array_get(fs, i));
            if (!x || !*x) {
                snprintf(err, errlen, "invalid JSON");
                return -1;
            }
            c->filters[c->nfilters++] = strdup(x);
        }
    }
    const char *d = jstr(cfg, "deliver_subject");
    c->deliver_subject = d && *d ? strdup(d) : NULL;
    const char *rp = jstr(cfg, "replay_policy");
    if (rp && strcmp(rp, "instant") && strcmp(rp, "original")) {
        snprintf(err, errlen, "invalid JSON");
        return -1;
    }
    /* nats-server's bucket depth: the stream's max_msg_size, else max_payload */
    int64_t bps = jint(cfg, "rate_limit_bps", 0), burst = c->s->cfg.max_msg_size;
    modnats_stats st = {.size = sizeof st};
    if (bps > 0 && burst <= 0)
        burst = js_g.api->stats(&st) == MODNATS_OK && st.max_payload > 0 ? st.max_payload
                                                                          : 1024 * 1024;
    js_pace_config(&c->pace, rp && !strcmp(rp, "original"), bps, burst);
    return 0;
}

/* nats-server's defaults, written into the config as it reports it. */
static void defaults(json_t *cfg, bool push)
{
    if (!jstr(cfg, "deliver_policy"))
        json_object_set_new(cfg, "deliver_policy", json_string("all"));
    if (!jstr(cfg, "ack_policy"))
        json_object_set_new(cfg, "ack_policy", json_string(push ? "none" : "explicit"));
    bool acks = strcmp(jstr(cfg, "ack_policy"), "none") != 0;
    if (acks && jint(cfg, "ack_wait", 0) <= 0)
        json_object_set_new(cfg, "ack_wait", json_integer(30LL * 1000000000));
    if (jint(cfg, "max_deliver", 0) == 0)
        json_object_set_new(cfg, "max_deliver", json_integer(-1));
    if (!jstr(cfg, "replay_policy"))
        json_object_set_new(cfg, "replay_policy", json_string("instant"));
    if (!push && jint(cfg, "max_waiting", 0) == 0)
        json_object_set_new(cfg, "max_waiting", json_integer(512));
    if (acks && jint(cfg, "max_ack_pending", 0) == 0)
        json_object_set_new(cfg, "max_ack_pending", json_integer(1000));
    if (!json_object_get(cfg, "num_replicas"))
        json_object_set_new(cfg, "num_replicas", json_integer(0));
}

/* The config as nats-server's ConsumerConfig marshals it: its field
 * order, omitempty fields left out when zero; keys it does not know last. */
static json_t *canonical(json_t *cfg)
{
    static const struct { const char *k; bool oe; } order[] = {
        {"durable_name", true}, {"name", true}, {"description", true},
        {"deliver_policy", false}, {"opt_start_seq", true}, {"opt_start_time", true},
        {"ack_policy", false}, {"ack_wait", true}, {"max_deliver", true}, {"backoff", true},
        {"filter_subject", true}, {"filter_subjects", true}, {"replay_policy", false}, {"rate_limit_bps", true},
        {"sample_freq", true}, {"max_waiting", true}, {"max_ack_pending", true},
        {"idle_heartbeat", true}, {"flow_control", true}, {"headers_only", true},
        {"max_batch", true}, {"max_expires", true}, {"max_bytes", true},
        {"deliver_subject", true}, {"deliver_group", true}, {"inactive_threshold", true},
        {"num_replicas", false}, {"mem_storage", true}, {"direct", true}, {"metadata", true},
    };
    json_t *out = json_object();
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        json_t *v = json_object_get(cfg, order[i].k);
        if (!v)
            continue;
        bool zero = json_is_null(v) || json_is_false(v) ||
                    (json_is_integer(v) && !json_integer_value(v)) ||
                    (json_is_string(v) && !*json_string_value(v)) ||
                    (json_is_array(v) && !json_array_size(v)) ||
                    (json_is_object(v) && !json_object_size(v));
        if (!(order[i].oe && zero))
            json_object_set(out, order[i].k, v);
    }
    const char *k;
    json_t *v;
    json_object_foreach(cfg, k, v) {
        bool known = false;
        for (size_t i = 0; i < sizeof order / sizeof order[0] && !known; i++)
            known = !strcmp(order[i].k, k);
        if (!known)
            json_object_set(out, k, v);
    }
    json_decref(cfg);
    return out;
}

/* ---- state records ---- */

static void save_state(js_consumer *c)
{
    if (!c->durable)
        return;
    size_t n = 5 + 3 * c->npend;
    uint64_t *v = malloc(n * sizeof *v);
    if (!v)
        return;
    v[0] = c->dseq_c;
    v[1] = c->dseq_s;
    v[2] = c->afloor_c;
    v[3] = c->afloor_s;
    v[4] = c->npend;
    for (size_t i = 0; i < c->npend; i++) {
        v[5 + 3 * i] = c->pend[i].sseq;
        v[6 + 3 * i] = c->pend[i].cseq;
        v[7 + 3 * i] = c->pend[i].dc;
    }
    js_db_put_cstate(c->s->db, c->s->id, c->name, v, n * sizeof *v);
    free(v);
}

static void load_state(js_consumer *c, int64_t now)
{
    size_t len = 0;
    uint64_t *v = js_db_get_cstate(c->s->db, c->s->id, c->name, &len);
    if (!v || len < 5 * sizeof *v || len != (5 + 3 * v[4]) * sizeof *v) {
        free(v);
        return;
    }
    c->dseq_c = v[0];
    c->dseq_s = v[1];
    c->afloor_c = v[2];
    c->afloor_s = v[3];
    for (uint64_t i = 0; i < v[4]; i++) {
        pend_add(c, v[5 + 3 * i], v[6 + 3 * i], now);
        c->pend[c->npend - 1].dc = v[7 + 3 * i];
    }
    free(v);
}

void js_consumers_flush_state(js_stream *s)
{
    for (size_t i = 0; i < s->ncons; i++)
        if (s->cons[i]->dirty) {
            save_state(s->cons[i]);
            s->cons[i]->dirty = false;
        }
}

typedef struct sum_ctx { const js_consumer *c; uint64_t n; } sum_ctx;

static void sum_subject(void *ud, const char *subj, uint64_t count)
{
    sum_ctx *x = ud;
    if (cmatch(x->c, subj, strlen(subj)))
        x->n += count;
}

/* Matching messages after dseq_s, at creation and start-up: from the
 * counters when the consumer starts before the first message (the usual
 * case), else by a scan. */
static uint64_t count_pending(js_consumer *c)
{
    uint64_t n = 0;
    js_stream *s = c->s;
    if (c->dseq_s >= s->st.last_seq)
        return 0;
    if (c->dseq_s < s->st.first_seq) {
        if (!c->filter && !c->nfilters)
            return s->st.msgs;
        sum_ctx x = {.c = c};
        js_db_subjects_foreach(s->db, s->id, sum_subject, &x);
        return x.n;
    }
    for (js_msg *m = next_match(c, c->dseq_s + 1); m;) {
        n++;
        uint64_t next = m->seq + 1;
        js_msg_free(m);
        m = next_match(c, next);
    }
    return n;
}

typedef struct lps_ctx { js_consumer *c; uint64_t *v; size_t n, cap; } lps_ctx;

static void lps_subject(void *ud, const char *subj, uint64_t count)
{
    (void)count;
    lps_ctx *x = ud;
    size_t n = strlen(subj);
    if (!cmatch(x->c, subj, n))
        return;
    uint64_t seq = js_db_last_seq_by_subject(x->c->s->db, x->c->s->id, subj, n);
    if (!seq)
        return;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        uint64_t *v = realloc(x->v, cap * sizeof *v);
        if (!v)
            return;
        x->v = v;
        x->cap = cap;
    }
    x->v[x->n++] = seq;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Where a new consumer starts. */
static void start_position(js_consumer *c)
{
    js_stream *s = c->s;
    uint64_t first = s->st.first_seq ? s->st.first_seq : 1;
    switch (c->deliver_policy) {
    case DP_ALL:
        c->dseq_s = first - 1;
        break;
    case DP_LAST: {
        uint64_t last = s->st.last_seq;
        if (c->filter || c->nfilters) {    /* the newest of the matching subjects' lasts */
            lps_ctx x = {.c = c};
            js_db_subjects_foreach(s->db, s->id, lps_subject, &x);
            last = 0;
            for (size_t i = 0; i < x.n; i++)
                if (x.v[i] > last)
                    last = x.v[i];
            free(x.v);
        }
        c->dseq_s = last ? last - 1 : s->st.last_seq;
        break;
    }
    case DP_NEW:
        c->dseq_s = s->st.last_seq;
        break;
    case DP_START_SEQ:
        c->dseq_s = c->opt_start_seq - 1;
        break;
    case DP_START_TIME: {    /* the first message at or after the time */
        uint64_t lo = first, hi = s->st.last_seq + 1;
        while (lo < hi) {
            uint64_t mid = lo + (hi - lo) / 2;
            js_msg *m = js_db_next_msg(s->db, s->id, mid, NULL);
            if (!m || m->ts >= c->opt_start_ns)
                hi = mid;
            else
                lo = m->seq + 1 > mid + 1 ? m->seq + 1 : mid + 1;
            js_msg_free(m);
        }
        c->dseq_s = lo - 1;
        break;
    }
    case DP_LAST_PER_SUBJECT: {
        lps_ctx x = {.c = c};
        js_db_subjects_foreach(s->db, s->id, lps_subject, &x);
        qsort(x.v, x.n, sizeof *x.v, cmp_u64);
        c->initial = x.v;
        c->ninitial = x.n;
        c->dseq_s = s->st.last_seq;
        break;
    }
    }
    c->num_pending = count_pending(c) + c->ninitial;
}

/* ---- info ---- */

static json_t *seq_info(uint64_t cseq, uint64_t sseq, int64_t last)
{
    json_t *o = json_object();
    json_object_set_new(o, "consumer_seq", json_integer((json_int_t)cseq));
    json_object_set_new(o, "stream_seq", json_integer((json_int_t)sseq));
    if (last > 0) {
        char t[64];
        js_fmt_time(t, sizeof t, last);
        json_object_set_new(o, "last_active", json_string(t));
    }
    return o;
}

static json_t *consumer_info(js_consumer *c)
{
    char t[64];
    json_t *o = json_object();
    json_object_set_new(o, "stream_name", json_string(c->s->cfg.name));
    json_object_set_new(o, "name", json_string(c->name));
    js_fmt_time(t, sizeof t, c->created_ns);
    json_object_set_new(o, "created", json_string(t));
    json_object_set_new(o, "config", json_deep_copy(c->cfg));
    json_object_set_new(o, "delivered", seq_info(c->dseq_c, c->dseq_s, 0));
    json_object_set_new(o, "ack_floor", seq_info(c->afloor_c, c->afloor_s, 0));
    json_object_set_new(o, "num_ack_pending", json_integer((json_int_t)c->npend));
    json_object_set_new(o, "num_redelivered", json_integer((json_int_t)c->num_redelivered));
    json_object_set_new(o, "num_waiting", json_integer((json_int_t)c->nwait));
    json_object_set_new(o, "num_pending", json_integer((json_int_t)c->num_pending));
    return o;
}

/* ---- delivery ---- */

static bool can_deliver(js_consumer *c)
{
    return c->ack_policy == AP_NONE || c->max_ack_pending <= 0 ||
           c->npend < (size_t)c->max_ack_pending;
}

/* Send message m (delivery count dc) to subj. */
/* The ack subject of a delivery. */
static size_t ack_subject(char *buf, size_t len, const js_consumer *c, const js_msg *m,
                          uint64_t dc, uint64_t cseq, uint64_t pending)
{
    int n = snprintf(buf, len, "$JS.ACK.%s.%s.%llu.%llu.%llu.%lld.%llu", c->s->cfg.name, c->name,
                     (unsigned long long)dc, (unsigned long long)m->seq,
                     (unsigned long long)cseq, (long long)m->ts, (unsigned long long)pending);
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

/* Send message m (delivery count dc) to subj, acked on ack. */
static void send_msg(js_consumer *c, modnats_account *acc, const char *subj, const js_msg *m,
                     const char *ack, size_t ack_len, int64_t now)
{
    modnats_msg out = {.size = sizeof out, .subject = m->subject, .subject_len = m->subject_len,
                       .reply = ack, .reply_len = ack_len,
                       .hdr = m->hdr_len ? m->hdr : NULL, .hdr_len = m->hdr_len,
                       .data = c->headers_only ? NULL : m->data,
                       .data_len = c->headers_only ? 0 : m->data_len};
    char *h = NULL;
    if (c->headers_only) {    /* the headers, and the size of what was left out */
        size_t keep = m->hdr_len >= 4 ? m->hdr_len - 2 : 0;    /* without the blank line */
        h = malloc(keep + 64);
        if (h) {
            int n = snprintf(h, keep + 64, "%.*s%sNats-Msg-Size: %zu\r\n\r\n", (int)keep,
                             keep ? m->hdr : "", keep ? "" : "NATS/1.0\r\n", m->data_len);
            out.hdr = h;
            out.hdr_len = (size_t)n;
        }
    }
    js_reply_msg(acc, subj, &out);
    free(h);
    c->last_out = now;
}

/* The next message to hand out: a redelivery, the start list, or new. */
static js_msg *next_message(js_consumer *c, uint64_t *dc, bool *redelivery)
{
    js_stream *s = c->s;
    *redelivery = false;
    while (c->nredq) {
        uint64_t sseq = c->redq[0];
        memmove(c->redq, c->redq + 1, (c->nredq - 1) * sizeof *c->redq);
        c->nredq--;
        js_pend *p = pend_find(c, sseq, NULL);
        if (!p)
            continue;
        js_msg *m = js_db_get_msg(s->db, s->id, sseq);
        if (!m) {
            pend_remove(c, sseq);
            continue;
        }
        *dc = p->dc + 1;
        *redelivery = true;
        return m;
    }
    while (c->initial_pos < c->ninitial) {
        uint64_t sseq = c->initial[c->initial_pos++];
        js_msg *m = js_db_get_msg(s->db, s->id, sseq);
        if (m) {
            *dc = 1;
            return m;
        }
        if (c->num_pending)
            c->num_pending--;
    }
    js_msg *m = next_match(c, c->dseq_s + 1);
    *dc = 1;
    return m;
}

enum { DLV_NONE, DLV_SENT, DLV_TOO_BIG, DLV_HELD };

/* Hand out one message to subj.  budget (may be NULL): the bytes a pull
 * request may still take (subject + ack subject + headers + data, as
 * nats-server counts them); a message past it stays for later:
 * DLV_TOO_BIG.  One its pace holds back waits for c->pace_at: DLV_HELD. */
static int deliver_one(js_consumer *c, modnats_account *acc, const char *subj, int64_t now,
                       int64_t *budget)
{
    if (!can_deliver(c))
        return DLV_NONE;
    uint64_t dc;
    bool re;
    js_pace_start(&c->pace, c->s->st.last_seq);
    js_msg *m = next_message(c, &dc, &re);
    if (!m) {
        /* nothing matches up to the stream's end: the consumer has looked
         * past it, as nats-server reports (delivered and, with nothing
         * owed, the ack floor) */
        if (c->dseq_s < c->s->st.last_seq && !c->nredq && c->initial_pos >= c->ninitial) {
            c->dseq_s = c->s->st.last_seq;
            if (!c->npend)
                update_floor(c);
            c->dirty = true;
        }
        js_pace_idle(&c->pace, c->dseq_s);
        return DLV_NONE;
    }
    uint64_t pending = re || !c->num_pending ? c->num_pending : c->num_pending - 1;
    char ack[600];
    size_t ack_len = ack_subject(ack, sizeof ack, c, m, dc, c->dseq_c + 1, pending);
    int64_t size = (int64_t)(m->subject_len + ack_len + m->hdr_len + m->data_len);
    int64_t hold = 0;
    if ((budget && size > *budget) || (hold = js_pace_hold(&c->pace, m->ts, size, now))) {
        if (re) {    /* back to the front of the redelivery queue */
            if (c->nredq == c->capredq) {
                size_t cap = c->capredq ? c->capredq * 2 : 16;
                uint64_t *v = realloc(c->redq, cap * sizeof *v);
                if (v) {
                    c->redq = v;
                    c->capredq = cap;
                }
            }
            if (c->nredq < c->capredq) {
                memmove(c->redq + 1, c->redq, c->nredq * sizeof *c->redq);
                c->redq[0] = m->seq;
                c->nredq++;
            }
        } else if (c->initial_pos && c->initial_pos <= c->ninitial &&
                   c->initial[c->initial_pos - 1] == m->seq) {
            c->initial_pos--;
        } else {
            ra_drop();    /* m comes again next time: read it again */
        }
        js_msg_free(m);
        c->pace_at = hold;
        return hold ? DLV_HELD : DLV_TOO_BIG;
    }
    if (budget)
        *budget -= size;
    c->dseq_c++;
    c->num_pending = pending;
    if (!re) {
        if (m->seq > c->dseq_s)
            c->dseq_s = m->seq;
    } else {
        c->num_redelivered++;
    }
    send_msg(c, acc, subj, m, ack, ack_len, now);
    js_pace_sent(&c->pace, m->ts, size, now);
    c->pace_at = 0;
    uint64_t seq = m->seq;
    js_msg_free(m);
    if (c->ack_policy == AP_NONE) {
        update_floor(c);
        retention_acked(c, seq);
    } else {
        pend_add(c, seq, c->dseq_c, now);
    }
    c->dirty = true;
    return DLV_SENT;
}

static void wait_pop(js_consumer *c)
{
    js_wait *w = c->wait_head;
    c->wait_head = w->next;
    if (!c->wait_head)
        c->wait_tail = NULL;
    c->nwait--;
    free(w->reply);
    free(w);
}

static void status(modnats_account *acc, const char *subj, const char *hdr)
{
    reply_text(acc, subj, hdr, NULL);
}

typedef struct interest_ctx { const char *deliver; size_t n; } interest_ctx;

static void count_interest(void *ud, const char *subject, const char *queue, int weight,
                           modnats_origin origin)
{
    (void)queue;
    (void)weight;
    interest_ctx *x = ud;
    if (origin != js_g.origin && js_subject_match(subject, x->deliver, strlen(x->deliver)))
        x->n++;
}

/* A push consumer delivers only while its deliver subject has a
 * subscriber, as nats-server: clients often subscribe after creating it. */
static void recompute_active(js_consumer *c, int64_t now)
{
    interest_ctx x = {.deliver = c->deliver_subject};
    js_g.api->interest_foreach(c->s->acc, count_interest, &x);
    c->active = x.n > 0;
    if (c->active)
        c->last_active = now;
}

void js_consumers_interest(modnats_account *acc, const char *subject)
{
    int64_t now = js_now_ns();
    for (size_t i = 0; i < js_g.nstreams; i++) {
        js_stream *s = js_g.streams[i];
        if (s->acc != acc)
            continue;
        for (size_t k = 0; k < s->ncons; k++) {
            js_consumer *c = s->cons[k];
            if (c->deliver_subject &&
                js_subject_match(subject, c->deliver_subject, strlen(c->deliver_subject)))
                recompute_active(c, now);
        }
    }
}

/* Serve waiting pull requests and push subscribers; true when there is
 * more to send right away (a push consumer with a backlog). */
static bool pump_deliver(js_consumer *c, int64_t now)
{
    if (c->deliver_subject) {
        int n = 0;
        ra_want(c, 256);
        while (n < 256 && c->active && !c->fc_subject[0]) {
            int64_t before = c->fc_bytes, budget = INT64_MAX;
            if (deliver_one(c, c->s->acc, c->deliver_subject, now, &budget) != DLV_SENT)
                break;
            n++;
            c->fc_bytes = before + (INT64_MAX - budget);
            if (c->flow_control && c->fc_bytes >= JS_FC_BYTES) {
                /* ask the client to confirm it keeps up before sending more */
                snprintf(c->fc_subject, sizeof c->fc_subject, "$JS.FC.%s.%s.%llu",
                         c->s->cfg.name, c->name, (unsigned long long)++c->fc_seq);
                static const char fc[] = "NATS/1.0 100 FlowControl Request\r\n\r\n";
                modnats_msg m = {.size = sizeof m, .subject = c->deliver_subject,
                                 .subject_len = strlen(c->deliver_subject),
                                 .reply = c->fc_subject, .reply_len = strlen(c->fc_subject),
                                 .hdr = fc, .hdr_len = sizeof fc - 1};
                js_reply_msg(c->s->acc, c->deliver_subject, &m);
            }
        }
        return n == 256;
    }
    while (c->wait_head) {
        js_wait *w = c->wait_head;
        bool sent = false;
        int r = DLV_NONE;
        ra_want(c, w->batch);
        while (w->batch > 0 &&
               (r = deliver_one(c, w->acc, w->reply, now, w->max_bytes ? &w->bytes_left : NULL))
                   == DLV_SENT) {
            w->batch--;
            w->next_hb = w->hb ? now + w->hb : 0;
            sent = true;
        }
        if (w->batch == 0) {
            wait_pop(c);
            continue;
        }
        if (r == DLV_HELD)    /* replay original: the tick comes back */
            break;
        if (r == DLV_TOO_BIG) {
            char h[200];
            snprintf(h, sizeof h, "NATS/1.0 409 Message Size Exceeds MaxBytes\r\n"
                     "Nats-Pending-Messages: %lld\r\nNats-Pending-Bytes: %lld\r\n\r\n",
                     (long long)w->batch, (long long)w->bytes_left);
            status(w->acc, w->reply, h);
            wait_pop(c);
            continue;
        }
        if (w->no_wait) {
            /* nothing (more) now: say so and forget the request */
            if (sent) {
                char h[200];
                snprintf(h, sizeof h, "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: "
                         "%lld\r\nNats-Pending-Bytes: %lld\r\n\r\n", (long long)w->batch,
                         (long long)w->bytes_left);
                status(w->acc, w->reply, h);
            } else {
                status(w->acc, w->reply, "NATS/1.0 404 No Messages\r\n\r\n");
            }
            wait_pop(c);
            continue;
        }
        break;
    }
    return false;
}

static bool pump(js_consumer *c, int64_t now)
{
    ra_begin(c);
    bool more = pump_deliver(c, now);
    ra_end();
    return more;
}

/* ---- API ---- */

static void send_json(const js_job *j, json_t *o)
{
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (txt)
        js_reply(j->acc, j->reply, j->reply_len, NULL, 0, txt, strlen(txt), false);
    js_ev_api_audit(j, txt);
    free(txt);
}

static json_t *resp(const char *type)
{
    json_t *o = json_object();
    char t[128];
    snprintf(t, sizeof t, "io.nats.jetstream.api.v1.%s", type);
    json_object_set_new(o, "type", json_string(t));
    return o;
}

static void error(const js_job *j, const char *type, int code, int err_code, const char *desc)
{
    js_acct_api_count(j->acc, 0, 1);
    json_t *o = resp(type);
    json_t *e = json_object();
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "err_code", json_integer(err_code));
    json_object_set_new(e, "description", json_string(desc));
    json_object_set_new(o, "error", e);
    send_json(j, o);
}

static bool valid_cname(const char *n)
{
    if (!*n)
        return false;
    for (const char *p = n; *p; p++)
        if (*p == '.' || *p == '*' || *p == '>' || *p == ' ' || *p == '\t' || *p == '/' ||
            *p == '\\')
            return false;
    return true;
}

static void random_name(char out[9])
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static unsigned long long x;
    if (!x)
        x = (unsigned long long)js_now_ns() | 1;
    for (int i = 0; i < 8; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = al[x % (sizeof al - 1)];
    }
    out[8] = 0;
}

static void send_info(const js_job *j, const char *type, js_consumer *c)
{
    json_t *o = resp(type);
    json_t *ci = consumer_info(c);
    json_object_update(o, ci);
    json_decref(ci);
    send_json(j, o);
}

/* Create of an existing consumer: the same config again is fine; a new one
 * may change what nats-server lets change (cfg is taken). */
static void update(const js_job *j, js_consumer *c, json_t *cfg)
{
    const char *type = "consumer_create_response";
    if (json_equal(c->cfg, cfg)) {
        json_decref(cfg);
        send_info(j, type, c);
        return;
    }
    static const struct { const char *k, *what; } fixed[] = {
        {"deliver_policy", "deliver policy"}, {"opt_start_seq", "start sequence"},
        {"filter_subjects", "filter subjects"},
        {"opt_start_time", "start time"}, {"ack_policy", "ack policy"},
        {"replay_policy", "replay policy"}, {"filter_subject", "filter subject"},
        {"deliver_subject", "deliver subject"}, {"deliver_group", "deliver group"},
        {"flow_control", "flow control"}, {"idle_heartbeat", "heartbeat"},
        {"rate_limit_bps", "rate limit"}, {"sample_freq", "sampling"},
        {"max_waiting", "max waiting"}, {"headers_only", "headers only"},
        {"mem_storage", "storage"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        json_t *a = json_object_get(c->cfg, fixed[i].k), *b = json_object_get(cfg, fixed[i].k);
        if ((a || b) && !(a && b && json_equal(a, b))) {
            char d[100];
            snprintf(d, sizeof d, "%s can not be updated", fixed[i].what);
            json_decref(cfg);
            error(j, type, 500, 10012, d);
            return;
        }
    }
    char err[200];
    json_t *old = c->cfg;
    c->cfg = cfg;
    free(c->filter);
    free(c->deliver_subject);
    c->filter = c->deliver_subject = NULL;
    if (parse_cfg(c, cfg, err, sizeof err) != 0) {    /* back to the old one */
        c->cfg = old;
        json_decref(cfg);
        free(c->filter);
        free(c->deliver_subject);
        c->filter = c->deliver_subject = NULL;
        char ignored[200];
        parse_cfg(c, old, ignored, sizeof ignored);
        error(j, type, 500, 10012, err);
        return;
    }
    json_decref(old);
    if (c->durable) {
        char *txt = json_dumps(cfg, JSON_COMPACT);
        if (txt)
            js_db_put_consumer(c->s->db, c->s->id, c->name, txt, c->created_ns);
        free(txt);
    }
    send_info(j, type, c);
}

/* CONSUMER.CREATE.<s>[.<name>[.<filter>]] and CONSUMER.DURABLE.CREATE.<s>.<d> */
static void api_create(const js_job *j, const char *stream, const char *name_in_subj,
                       bool durable_subj)
{
    const char *type = "consumer_create_response";
    js_stream *s = js_stream_find(j->acc, stream);
    if (!s) {
        error(j, type, 404, 10059, "stream not found");
        return;
    }
    json_error_t je;
    json_t *req = j->data_len ? json_loadb(j->data, j->data_len, 0, &je) : NULL;
    json_t *cfg = json_object_get(req, "config");
    if (!json_is_object(cfg)) {
        json_decref(req);
        error(j, type, 400, 10025, "invalid JSON");
        return;
    }
    const char *sn = jstr(req, "stream_name");
    if (sn && strcmp(sn, stream) != 0) {
        json_decref(req);
        error(j, type, 400, 10056, "stream name in subject does not match request");
        return;
    }
    cfg = json_deep_copy(cfg);
    json_decref(req);
    const char *dur = jstr(cfg, "durable_name");
    const char *nm = jstr(cfg, "name");
    if (dur && !*dur)
        dur = NULL;
    if (nm && !*nm)
        nm = NULL;
    char rnd[9];
    const char *name = name_in_subj ? name_in_subj : dur ? dur : nm;
    if (durable_subj && dur && strcmp(dur, name_in_subj) != 0) {
        json_decref(cfg);
        error(j, type, 400, 10017, "consumer name in subject does not match durable name in "
                                   "request");
        return;
    }
    if (name_in_subj && !durable_subj && ((nm && strcmp(nm, name_in_subj)) ||
                                          (dur && strcmp(dur, name_in_subj)))) {
        json_decref(cfg);
        error(j, type, 400, 10017, "consumer name in subject does not match durable name in "
                                   "request");
        return;
    }
    bool durable = durable_subj || dur != NULL;
    /* nats-server writes "name" into the config for CONSUMER.CREATE.<s>.<n>
     * (and when the request had one), not for the legacy subjects. */
    bool named = (name_in_subj && !durable_subj) || nm;
    if (!name) {
        random_name(rnd);
        name = rnd;
    }
    if (!valid_cname(name)) {
        json_decref(cfg);
        error(j, type, 400, 10103, "consumer name can not contain path separators");
        return;
    }
    char *cname = strdup(name);
    if (durable && !jstr(cfg, "durable_name"))
        json_object_set_new(cfg, "durable_name", json_string(cname));
    if (named && !jstr(cfg, "name"))    /* nats-server names durables too */
        json_object_set_new(cfg, "name", json_string(cname));
    const char *ds = jstr(cfg, "deliver_subject");
    bool push = ds && *ds;
    int64_t asked_ack_pending = jint(cfg, "max_ack_pending", 0);
    defaults(cfg, push);
    js_account_limits alim;
    js_acct_get(j->acc, &alim);
    if (alim.max_ack_pending > 0 && strcmp(jstr(cfg, "ack_policy"), "none") != 0) {
        /* the account caps max_ack_pending: the default becomes the cap,
         * more is refused (nats-server 2.9) */
        if (asked_ack_pending == 0 && jint(cfg, "max_ack_pending", 0) > alim.max_ack_pending) {
            json_object_set_new(cfg, "max_ack_pending", json_integer(alim.max_ack_pending));
        } else if (asked_ack_pending > alim.max_ack_pending) {
            char why[120];
            snprintf(why, sizeof why, "consumer max ack pending exceeds system limit of %lld",
                     (long long)alim.max_ack_pending);
            free(cname);
            json_decref(cfg);
            error(j, type, 400, 10121, why);
            return;
        }
    }
    if (!durable && jint(cfg, "inactive_threshold", 0) <= 0)
        json_object_set_new(cfg, "inactive_threshold", json_integer(5LL * 1000000000));
    cfg = canonical(cfg);

    js_consumer *old = find(s, cname);
    if (old) {
        free(cname);
        update(j, old, cfg);
        return;
    }
    if ((s->cfg.max_consumers > 0 && s->ncons >= (size_t)s->cfg.max_consumers) ||
        (alim.max_consumers > 0 && s->ncons >= (size_t)alim.max_consumers)) {
        free(cname);
        json_decref(cfg);
        error(j, type, 400, 10026, "maximum consumers limit reached");
        return;
    }
    js_consumer *c = calloc(1, sizeof *c);
    char err[300];
    if (!c) {
        json_decref(cfg);
        free(cname);
        return;
    }
    c->s = s;
    c->name = cname;
    c->durable = durable;
    c->cfg = cfg;
    c->created_ns = js_now_ns();
    c->last_active = c->created_ns;
    if (parse_cfg(c, cfg, err, sizeof err) != 0) {
        consumer_free(c);
        if (!strcmp(err, "invalid JSON"))
            error(j, type, 400, 10025, err);
        else
            error(j, type, 400, 10094, err);
        return;
    }
    /* push-only settings (nats-server's checks and codes) */
    const char *mode_err = NULL;
    int mode_code = 0;
    if (c->deliver_subject && c->idle_hb > 0 && c->idle_hb < 100000000) {
        mode_err = "consumer idle heartbeat needs to be >= 100ms";
        mode_code = 10083;
    } else if (!c->deliver_subject && jint(cfg, "rate_limit_bps", 0) > 0) {
        mode_err = "consumer in pull mode can not have rate limit set";
        mode_code = 10086;
    } else if (!c->deliver_subject && c->idle_hb > 0) {
        mode_err = "consumer idle heartbeat requires a push based consumer";
        mode_code = 10088;
    } else if (!c->deliver_subject && c->flow_control) {
        mode_err = "consumer flow control requires a push based consumer";
        mode_code = 10089;
    }
    if (mode_err) {
        consumer_free(c);
        error(j, type, 400, mode_code, mode_err);
        return;
    }
    if (s->cfg.retention == 2) {    /* workqueue: explicit acks, disjoint filters */
        const char *why = NULL;
        int code = 0;
        if (c->ack_policy != AP_EXPLICIT) {
            why = "workqueue stream requires explicit ack";
            code = 10098;
        }
        for (size_t i = 0; !why && i < s->ncons; i++) {
            const js_consumer *o = s->cons[i];
            if (o->nfilters || c->nfilters) {    /* conservative: pairwise */
                for (size_t a = 0; !why && a < (o->nfilters ? o->nfilters : 1); a++)
                    for (size_t b = 0; !why && b < (c->nfilters ? c->nfilters : 1); b++) {
                        const char *fa = o->nfilters ? o->filters[a] : o->filter;
                        const char *fb = c->nfilters ? c->filters[b] : c->filter;
                        if (!fa || !fb || js_subject_match(fa, fb, strlen(fb)) ||
                            js_subject_match(fb, fa, strlen(fa))) {
                            why = "filtered consumer not unique on workqueue stream";
                            code = 10100;
                        }
                    }
            } else if (!o->filter || !c->filter) {
                why = "multiple non-filtered consumers not allowed on workqueue stream";
                code = 10099;
            } else if (js_subject_match(o->filter, c->filter, strlen(c->filter)) ||
                       js_subject_match(c->filter, o->filter, strlen(o->filter))) {
                why = "filtered consumer not unique on workqueue stream";
                code = 10100;
            }
        }
        if (why) {
            consumer_free(c);
            error(j, type, 400, code, why);
            return;
        }
    }
    js_consumer **v = realloc(s->cons, (s->ncons + 1) * sizeof *v);
    if (!v) {
        consumer_free(c);
        return;
    }
    s->cons = v;
    v[s->ncons++] = c;
    start_position(c);
    c->dirty = true;
    if (c->deliver_subject) {
        js_push_watch(s->acc, c->deliver_subject, true);
        c->watched = true;
        recompute_active(c, c->created_ns);
    }
    if (durable) {
        char *txt = json_dumps(cfg, JSON_COMPACT);
        if (txt)
            js_db_put_consumer(s->db, s->id, c->name, txt, c->created_ns);
        free(txt);
    }
    js_ev_consumer_action(s->acc, s->cfg.name, c->name, "create");
    json_t *o = resp(type);
    json_t *ci = consumer_info(c);
    json_object_update(o, ci);
    json_decref(ci);
    send_json(j, o);
    pump(c, js_now_ns());
}

static void api_info(const js_job *j, const char *stream, const char *name, bool del)
{
    const char *type = del ? "consumer_delete_response" : "consumer_info_response";
    js_stream *s = js_stream_find(j->acc, stream);
    if (!s) {
        error(j, type, 404, 10059, "stream not found");
        return;
    }
    js_consumer *c = find(s, name);
    if (!c) {
        error(j, type, 404, 10014, "consumer not found");
        return;
    }
    json_t *o = resp(type);
    if (del) {
        js_ev_consumer_action(s->acc, s->cfg.name, c->name, "delete");
        consumer_remove(c);
        json_object_set_new(o, "success", json_true());
    } else {
        json_t *ci = consumer_info(c);
        json_object_update(o, ci);
        json_decref(ci);
    }
    send_json(j, o);
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(js_consumer *const *)a)->name, (*(js_consumer *const *)b)->name);
}

static void api_list(const js_job *j, const char *stream, bool names)
{
    const char *type = names ? "consumer_names_response" : "consumer_list_response";
    js_stream *s = js_stream_find(j->acc, stream);
    if (!s) {
        error(j, type, 404, 10059, "stream not found");
        return;
    }
    js_consumer **v = calloc(s->ncons + 1, sizeof *v);
    if (!v)
        return;
    memcpy(v, s->cons, s->ncons * sizeof *v);
    qsort(v, s->ncons, sizeof *v, by_name);
    json_t *o = resp(type);
    json_object_set_new(o, "total", json_integer((json_int_t)s->ncons));
    json_object_set_new(o, "offset", json_integer(0));
    json_object_set_new(o, "limit", json_integer(names ? 1024 : 256));
    json_t *a = json_array();
    for (size_t i = 0; i < s->ncons; i++)
        json_array_append_new(a, names ? json_string(v[i]->name) : consumer_info(v[i]));
    json_object_set_new(o, "consumers", a);
    free(v);
    send_json(j, o);
}

/* CONSUMER.MSG.NEXT.<stream>.<consumer>: a pull request. */
static void api_next(const js_job *j, const char *stream, const char *name)
{
    js_stream *s = js_stream_find(j->acc, stream);
    js_consumer *c = s ? find(s, name) : NULL;
    if (!c) {    /* nats-server has no subscription there: no responders */
        status(j->acc, j->reply, "NATS/1.0 503\r\n\r\n");
        return;
    }
    if (c->deliver_subject) {
        status(j->acc, j->reply, "NATS/1.0 409 Consumer is push based\r\n\r\n");
        return;
    }
    int64_t batch = 1, expires = 0, max_bytes = 0, hb = 0;
    bool no_wait = false;
    if (j->data_len) {
        json_error_t je;
        json_t *r = json_loadb(j->data, j->data_len, JSON_DECODE_ANY, &je);
        if (json_is_integer(r)) {
            batch = json_integer_value(r);
        } else if (json_is_object(r)) {
            batch = jint(r, "batch", 1);
            expires = jint(r, "expires", 0);
            no_wait = json_is_true(json_object_get(r, "no_wait"));
            max_bytes = jint(r, "max_bytes", 0);
            hb = jint(r, "idle_heartbeat", 0);
        } else {
            json_decref(r);
            status(j->acc, j->reply, "NATS/1.0 400 Bad Request\r\n\r\n");
            return;
        }
        json_decref(r);
    }
    if (batch <= 0)
        batch = 1;
    if (c->max_waiting > 0 && c->nwait >= (size_t)c->max_waiting) {
        status(j->acc, j->reply, "NATS/1.0 409 Exceeded MaxWaiting\r\n\r\n");
        return;
    }
    js_wait *w = calloc(1, sizeof *w);
    if (!w || !(w->reply = strndup(j->reply, j->reply_len))) {
        free(w);
        return;
    }
    w->acc = j->acc;
    w->batch = batch;
    w->no_wait = no_wait;
    w->expires = expires > 0 ? js_now_ns() + expires : 0;
    w->max_bytes = w->bytes_left = max_bytes > 0 ? max_bytes : 0;
    w->hb = hb > 0 ? hb : 0;
    w->next_hb = w->hb ? js_now_ns() + w->hb : 0;
    if (c->wait_tail)
        c->wait_tail->next = w;
    else
        c->wait_head = w;
    c->wait_tail = w;
    c->nwait++;
    c->last_active = js_now_ns();
    pump(c, c->last_active);
}

bool js_consumer_api(const js_job *j, const char *p)
{
    char buf[512];
    if (strlen(p) >= sizeof buf)
        return false;
    strcpy(buf, p);
    /* split into tokens */
    char *tok[8];
    int n = 0;
    for (char *t = buf; t && n < 8;) {
        tok[n++] = t;
        char *dot = strchr(t, '.');
        if (dot)
            *dot = 0;
        t = dot ? dot + 1 : NULL;
    }
    if (n < 3 || strcmp(tok[0], "CONSUMER") != 0)
        return false;
    if (!strcmp(tok[1], "CREATE") && n == 3) {
        api_create(j, tok[2], NULL, false);
    } else if (!strcmp(tok[1], "CREATE") && n >= 4) {
        api_create(j, tok[2], tok[3], false);
    } else if (!strcmp(tok[1], "DURABLE") && n == 5 && !strcmp(tok[2], "CREATE")) {
        api_create(j, tok[3], tok[4], true);
    } else if (!strcmp(tok[1], "INFO") && n == 4) {
        api_info(j, tok[2], tok[3], false);
    } else if (!strcmp(tok[1], "DELETE") && n == 4) {
        api_info(j, tok[2], tok[3], true);
    } else if (!strcmp(tok[1], "LIST") && n == 3) {
        api_list(j, tok[2], false);
    } else if (!strcmp(tok[1], "NAMES") && n == 3) {
        api_list(j, tok[2], true);
    } else if (!strcmp(tok[1], "MSG") && n == 5 && !strcmp(tok[2], "NEXT")) {
        api_next(j, tok[3], tok[4]);
    } else {
        return false;
    }
    return true;
}

/* ---- retention: interest and workqueue streams drop what was acked ---- */

static bool consumer_done_with(const js_consumer *c, uint64_t seq)
{
    if (seq <= c->afloor_s)
        return true;
    if (seq > c->dseq_s)
        return false;
    return !pend_find((js_consumer *)c, seq, NULL);
}

/* After consumer c acked seq: remove it where the retention says so. */
static void retention_acked(js_consumer *c, uint64_t seq)
{
    js_stream *s = c->s;
    if (s->cfg.retention == 2) {            /* workqueue: one consumer's ack */
        js_stream_remove(s, seq);
        return;
    }
    if (s->cfg.retention != 1)
        return;
    js_msg *m = js_db_get_msg(s->db, s->id, seq);
    if (!m)
        return;
    bool all = true;                        /* interest: every interested consumer */
    for (size_t i = 0; i < s->ncons && all; i++)
        if (cmatch(s->cons[i], m->subject, m->subject_len))
            all = consumer_done_with(s->cons[i], seq);
    js_msg_free(m);
    if (all)
        js_stream_remove(s, seq);
}

/* ---- acks: $JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<cseq>.<ts>.<pending> ---- */

void js_consumer_ack(const js_job *j)
{
    char buf[512];
    if (j->subject_len >= sizeof buf)
        return;
    memcpy(buf, j->subject, j->subject_len + 1);
    char *tok[12];
    int n = 0;
    for (char *t = buf; t && n < 12;) {
        tok[n++] = t;
        char *dot = strchr(t, '.');
        if (dot)
            *dot = 0;
        t = dot ? dot + 1 : NULL;
    }
    if (n != 9)
        return;
    js_stream *s = js_stream_find(j->acc, tok[2]);
    js_consumer *c = s ? find(s, tok[3]) : NULL;
    if (!c)
        return;
    uint64_t sseq = strtoull(tok[5], NULL, 10);
    int64_t now = js_now_ns();
    c->last_active = now;
    const char *d = j->data;
    size_t dl = j->data_len;
    bool ack = !dl || (dl >= 4 && !memcmp(d, "+ACK", 4));
    bool nxt = dl >= 4 && !memcmp(d, "+NXT", 4);
    if (ack || nxt) {
        if (c->ack_policy == AP_ALL) {
            while (c->npend && c->pend[0].sseq <= sseq) {
                uint64_t q = c->pend[0].sseq;
                pend_remove(c, q);
                retention_acked(c, q);
            }
        } else {
            js_pend *ap = ack ? pend_find(c, sseq, NULL) : NULL;
            if (ap)
                js_ev_ack(s->acc, s->cfg.name, c->name, c->cfg, ap->cseq, sseq, ap->dc,
                          now - ap->sent);
            if (pend_remove(c, sseq))
                retention_acked(c, sseq);
        }
        if (nxt && j->reply_len) {
            js_job next = *j;
            next.data = (char *)"";
            next.data_len = 0;
            if (dl > 5) {
                next.data = (char *)d + 5;
                next.data_len = dl - 5;
            }
            api_next(&next, tok[2], tok[3]);
        }
    } else if (dl >= 4 && !memcmp(d, "-NAK", 4)) {
        js_pend *p = pend_find(c, sseq, NULL);
        if (p && !p->queued) {
            int64_t delay = 0;
            if (dl > 5) {
                json_error_t je;
                json_t *o = json_loadb(d + 5, dl - 5, 0, &je);
                delay = jint(o, "delay", 0);
                json_decref(o);
            }
            if (delay > 0) {
                p->deadline = now + delay;
            } else {
                p->deadline = 0;
            }
        }
    } else if (dl >= 4 && !memcmp(d, "+WPI", 4)) {
        js_pend *p = pend_find(c, sseq, NULL);
        if (p)
            p->deadline = now + ack_wait_for(c, p->dc);
    } else if (dl >= 5 && !memcmp(d, "+TERM", 5)) {
        js_pend *tp = pend_find(c, sseq, NULL);
        if (tp)
            js_ev_terminated(s->acc, s->cfg.name, c->name, tp->cseq, sseq, tp->dc);
        if (pend_remove(c, sseq))
            retention_acked(c, sseq);
    }
    c->dirty = true;
    /* A reply subject asks for a confirmation (AckSync, or nats.go's Nak /
     * Term / InProgress with a wait): as nats-server, whatever the kind,
     * sent after the commit that holds the new state.  +NXT answers with
     * the next message instead. */
    if (j->reply_len && !nxt)
        js_reply(j->acc, j->reply, j->reply_len, NULL, 0, NULL, 0, false);
}

/* $JS.FC.<stream>.<consumer>.<n>: the client answered a flow control
 * request; delivery goes on. */
void js_consumer_fc(const js_job *j)
{
    char buf[512];
    if (j->subject_len >= sizeof buf)
        return;
    memcpy(buf, j->subject, j->subject_len + 1);
    char *stream = buf + 7, *dot = strchr(stream, '.');
    if (!dot)
        return;
    *dot = 0;
    char *name = dot + 1;
    if (!(dot = strchr(name, '.')))
        return;
    *dot = 0;
    js_stream *s = js_stream_find(j->acc, stream);
    js_consumer *c = s ? find(s, name) : NULL;
    if (!c || strcmp(c->fc_subject, j->subject) != 0)
        return;
    c->fc_subject[0] = 0;
    c->fc_bytes = 0;
    c->last_active = js_now_ns();
}

/* ---- stream events ---- */

void js_consumers_on_store(js_stream *s, uint64_t seq, const char *subj, size_t n)
{
    for (size_t i = 0; i < s->ncons; i++) {
        js_consumer *c = s->cons[i];
        if (seq > c->dseq_s && cmatch(c, subj, n))
            c->num_pending++;
    }
}

void js_consumers_on_remove(js_stream *s, uint64_t seq, const char *subj, size_t n)
{
    for (size_t i = 0; i < s->ncons; i++) {
        js_consumer *c = s->cons[i];
        if (seq > c->dseq_s && cmatch(c, subj, n) && c->num_pending)
            c->num_pending--;
        if (pend_find(c, seq, NULL))
            pend_remove(c, seq);
    }
}

void js_consumers_on_purge_all(js_stream *s)
{
    for (size_t i = 0; i < s->ncons; i++) {
        js_consumer *c = s->cons[i];
        c->npend = 0;
        c->nredq = 0;
        c->ninitial = c->initial_pos = 0;
        c->num_pending = 0;
        if (c->dseq_s < s->st.last_seq)
            c->dseq_s = s->st.last_seq;
        update_floor(c);
    }
}

/* Timers: pull request expiry, redeliveries, heartbeats, inactive
 * ephemerals; and delivery of whatever is waiting.  *more: call again at
 * once. */
void js_consumers_tick(js_stream *s, int64_t now, int64_t *next, bool *more)
{
    for (size_t i = 0; i < s->ncons; i++) {
        js_consumer *c = s->cons[i];
        if (c->deliver_subject && c->active)
            c->last_active = now;
        if (!c->durable && c->inactive > 0 && !c->nwait && !(c->deliver_subject && c->active) &&
            now - c->last_active > c->inactive) {
            js_ev_consumer_action(s->acc, s->cfg.name, c->name, "delete");
            consumer_remove(c);
            i--;
            continue;
        }
        /* redeliveries due */
        for (size_t k = 0; k < c->npend; k++) {
            js_pend *p = &c->pend[k];
            if (p->queued)
                continue;
            if (c->max_deliver > 0 && p->dc >= (uint64_t)c->max_deliver) {
                if (!p->advised && p->deadline <= now) {    /* its last ack_wait is over */
                    p->advised = true;
                    js_ev_max_deliver(s->acc, s->cfg.name, c->name, p->sseq, p->dc);
                } else if (!p->advised && (!*next || p->deadline < *next)) {
                    *next = p->deadline;
                }
                continue;
            }
            if (p->deadline <= now) {
                if (c->nredq == c->capredq) {
                    size_t cap = c->capredq ? c->capredq * 2 : 16;
                    uint64_t *v = realloc(c->redq, cap * sizeof *v);
                    if (!v)
                        break;
                    c->redq = v;
                    c->capredq = cap;
                }
                c->redq[c->nredq++] = p->sseq;
                p->queued = true;
            } else if (!*next || p->deadline < *next) {
                *next = p->deadline;
            }
        }
        if (pump(c, now))
            *more = true;
        if (c->pace_at > now && (!*next || c->pace_at < *next))
            *next = c->pace_at;
        /* expired pull requests */
        js_wait **pp = &c->wait_head, *prev = NULL;
        while (*pp) {
            js_wait *w = *pp;
            if (w->expires && w->expires <= now) {
                char h[200];
                snprintf(h, sizeof h, "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: "
                         "%lld\r\nNats-Pending-Bytes: %lld\r\n\r\n", (long long)w->batch,
                         (long long)w->bytes_left);
                status(w->acc, w->reply, h);
                *pp = w->next;
                if (c->wait_tail == w)
                    c->wait_tail = prev;
                c->nwait--;
                free(w->reply);
                free(w);
                continue;
            }
            if (w->expires && (!*next || w->expires < *next))
                *next = w->expires;
            if (w->hb) {    /* the request's idle heartbeat */
                if (now >= w->next_hb) {
                    char h[200];
                    snprintf(h, sizeof h, "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: "
                             "%llu\r\nNats-Last-Stream: %llu\r\n\r\n",
                             (unsigned long long)c->dseq_c, (unsigned long long)c->dseq_s);
                    status(w->acc, w->reply, h);
                    w->next_hb = now + w->hb;
                }
                if (!*next || w->next_hb < *next)
                    *next = w->next_hb;
            }
            prev = w;
            pp = &w->next;
        }
        /* idle heartbeats of push consumers */
        if (c->deliver_subject && c->active && c->idle_hb > 0) {
            if (now - c->last_out >= c->idle_hb) {
                char h[600];
                snprintf(h, sizeof h, "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: "
                         "%llu\r\nNats-Last-Stream: %llu\r\n%s%s%s\r\n",
                         (unsigned long long)c->dseq_c, (unsigned long long)c->dseq_s,
                         c->fc_subject[0] ? "Nats-Consumer-Stalled: " : "", c->fc_subject,
                         c->fc_subject[0] ? "\r\n" : "");
                status(s->acc, c->deliver_subject, h);
                c->last_out = now;
            }
            int64_t at = c->last_out + c->idle_hb;
            if (!*next || at < *next)
                *next = at;
        }
    }
}

/* ---- start-up ---- */

static void load_one(void *ud, const char *name, const char *config, int64_t created)
{
    js_stream *s = ud;
    json_error_t je;
    json_t *cfg = json_loads(config, 0, &je);
    js_consumer *c = cfg ? calloc(1, sizeof *c) : NULL;
    char err[200];
    if (!c || !(c->name = strdup(name))) {
        json_decref(cfg);
        free(c);
        return;
    }
    c->s = s;
    c->durable = true;
    c->cfg = cfg;
    c->created_ns = created;
    c->last_active = js_now_ns();
    if (parse_cfg(c, cfg, err, sizeof err) != 0) {
        js_log(MODNATS_LOG_ERROR, "consumer %s > %s: stored configuration unreadable (%s)",
               s->cfg.name, name, err);
        consumer_free(c);
        return;
    }
    js_consumer **v = realloc(s->cons, (s->ncons + 1) * sizeof *v);
    if (!v) {
        consumer_free(c);
        return;
    }
    s->cons = v;
    v[s->ncons++] = c;
    load_state(c, c->last_active);
    c->num_pending = count_pending(c);
    if (c->deliver_subject) {    /* no client yet at start-up */
        js_push_watch(s->acc, c->deliver_subject, true);
        c->watched = true;
        c->active = false;
    }
}

void js_consumers_load(js_stream *s)
{
    js_db_consumers_foreach(s->db, s->id, load_one, s);
}

bool js_consumers_interested(const js_stream *s, const char *subj, size_t n)
{
    for (size_t i = 0; i < s->ncons; i++)
        if (cmatch(s->cons[i], subj, n))
            return true;
    return false;
}

size_t js_consumers_count(const js_stream *s)
{
    return s->ncons;
}

/* The name of consumer i of stream s (js_events.c). */
const char *js_consumer_name(const js_stream *s, size_t i)
{
    return i < s->ncons ? s->cons[i]->name : NULL;
}

/* Consumer i of stream s as CONSUMER.INFO shows it (for /jsz, js_jsz.c). */
json_t *js_consumer_info_json(js_stream *s, size_t i)
{
    return i < s->ncons ? consumer_info(s->cons[i]) : json_object();
}
