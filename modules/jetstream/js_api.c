/*
 * js_api.c - nats-server's JetStream API on the JetStream thread: the
 * JSON of requests and responses (types io.nats.jetstream.api.v1.*,
 * errors with ADR-7's err_code), stream configurations, and DIRECT.GET.
 *
 * Requests arrive as jobs on $JS.API.INFO and $JS.API.STREAM.> (also
 * under $JS.<domain>.API when a domain is set); every reply goes out
 * through js_reply, after the turn's commit.
 */
#include "jetstream.h"
#include "js_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define T_PREFIX "io.nats.jetstream.api.v1."

/* ---- small formats ---- */

/* Go's RFC3339Nano in UTC: fraction without trailing zeros; Go's zero
 * time for ns <= 0. */
void js_fmt_time(char *buf, size_t len, int64_t ns)
{
    if (ns <= 0) {
        snprintf(buf, len, "0001-01-01T00:00:00Z");
        return;
    }
    time_t sec = (time_t)(ns / 1000000000);
    long frac = (long)(ns % 1000000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac) {
        char f[16];
        snprintf(f, sizeof f, ".%09ld", frac);
        size_t fl = strlen(f);
        while (fl > 1 && f[fl - 1] == '0')
            f[--fl] = 0;
        snprintf(buf + n, len - n, "%sZ", f);
    } else {
        snprintf(buf + n, len - n, "Z");
    }
}

static char *b64(const char *src, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1), *p = out;
    if (!out)
        return NULL;
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        *p++ = tab[s[i] >> 2];
        *p++ = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        *p++ = tab[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
        *p++ = tab[s[i + 2] & 63];
    }
    if (i < n) {
        *p++ = tab[s[i] >> 2];
        if (i + 1 < n) {
            *p++ = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
            *p++ = tab[(s[i + 1] & 15) << 2];
        } else {
            *p++ = tab[(s[i] & 3) << 4];
            *p++ = '=';
        }
        *p++ = '=';
    }
    *p = 0;
    return out;
}

/* ---- replies ---- */

/* JSON text as Go's encoder writes it: <, > and & escaped (they only
 * occur inside strings), so responses are byte-identical to nats-server's. */
static char *go_escape(char *txt)
{
    size_t extra = 0;
    for (const char *p = txt; *p; p++)
        extra += (*p == '<' || *p == '>' || *p == '&') * 5;
    if (!extra)
        return txt;
    char *out = malloc(strlen(txt) + extra + 1), *w = out;
    if (!out)
        return txt;
    for (const char *p = txt; *p; p++) {
        if (*p == '<' || *p == '>' || *p == '&')
            w += sprintf(w, "\\u%04x", (unsigned)*p);
        else
            *w++ = *p;
    }
    *w = 0;
    free(txt);
    return out;
}

static void send_json(const js_job *j, json_t *o)
{
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (txt) {
        txt = go_escape(txt);
        js_reply(j->acc, j->reply, j->reply_len, NULL, 0, txt, strlen(txt), false);
        js_ev_api_audit(j, txt);
    }
    free(txt);
}

static json_t *resp(const char *type)
{
    json_t *o = json_object();
    char t[128];
    snprintf(t, sizeof t, T_PREFIX "%s", type);
    json_object_set_new(o, "type", json_string(t));
    return o;
}

/* nats-server leaves MSG.GET and MSG.NEXT out of the account's API counters. */
static bool api_counted;

static void send_error(const js_job *j, const char *type, int code, int err_code,
                       const char *desc)
{
    if (api_counted)
        js_acct_api_count(j->acc, 0, 1);
    json_t *o = resp(type);
    json_t *e = json_object();
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "err_code", json_integer(err_code));
    json_object_set_new(e, "description", json_string(desc));
    json_object_set_new(o, "error", e);
    if (!strcmp(type, "stream_info_response")) {    /* its paging fields come along */
        json_object_set_new(o, "total", json_integer(0));
        json_object_set_new(o, "offset", json_integer(0));
        json_object_set_new(o, "limit", json_integer(0));
    }
    send_json(j, o);
}

/* ---- stream configurations ---- */

static bool valid_name(const char *n)
{
    if (!*n)
        return false;
    for (const char *p = n; *p; p++)
        if (*p == '.' || *p == '*' || *p == '>' || *p == ' ' || *p == '\t' || *p == '\r' ||
            *p == '\n' || *p == '/' || *p == '\\')
            return false;
    return true;
}

static bool valid_subject(const char *s)
{
    if (!*s)
        return false;
    const char *t = s;
    for (;;) {
        const char *e = strchr(t, '.');
        size_t l = e ? (size_t)(e - t) : strlen(t);
        if (!l)
            return false;
        for (size_t i = 0; i < l; i++)
            if (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n')
                return false;
        if (l > 1 && memchr(t, '>', l) && t[0] == '>')
            return false;
        if (l == 1 && t[0] == '>' && e)
            return false;
        if (!e)
            return true;
        t = e + 1;
    }
}

/* Can one subject match both patterns? */
static bool subjects_overlap(const char *a, const char *b)
{
    for (;;) {
        const char *ae = strchr(a, '.'), *be = strchr(b, '.');
        size_t al = ae ? (size_t)(ae - a) : strlen(a), bl = be ? (size_t)(be - b) : strlen(b);
        if ((al == 1 && *a == '>') || (bl == 1 && *b == '>'))
            return true;
        if (!((al == 1 && *a == '*') || (bl == 1 && *b == '*') ||
              (al == bl && !memcmp(a, b, al))))
            return false;
        if (!ae || !be)
            return !ae && !be;
        a = ae + 1;
        b = be + 1;
    }
}

static int64_t get_int(json_t *o, const char *k, int64_t def)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

static bool get_bool(json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

static const char *get_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int js_cfg_parse(json_t *o, js_cfg *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "invalid JSON: the request is not an object");
        return -1;
    }
    const char *s = get_str(o, "name");
    c->name = strdup(s ? s : "");
    if ((s = get_str(o, "description")) && *s)
        c->description = strdup(s);
    json_t *subj = json_object_get(o, "subjects");
    if (json_is_array(subj) && json_array_size(subj)) {
        c->subjects = calloc(json_array_size(subj), sizeof *c->subjects);
        for (size_t i = 0; c->subjects && i < json_array_size(subj); i++) {
            const char *v = json_string_value(json_array_get(subj, i));
            if (!v) {
                snprintf(err, errlen, "invalid JSON: subjects must be strings");
                js_cfg_free(c);
                return -1;
            }
            c->subjects[c->nsubjects++] = strdup(v);
        }
    }
    s = get_str(o, "retention");
    c->retention = !s || !strcmp(s, "limits") ? 0 : !strcmp(s, "interest") ? 1
                 : !strcmp(s, "workqueue") ? 2 : -1;
    c->max_consumers = get_int(o, "max_consumers", 0);
    c->max_msgs = get_int(o, "max_msgs", 0);
    c->max_bytes = get_int(o, "max_bytes", 0);
    c->max_age_ns = get_int(o, "max_age", 0);
    c->max_msgs_per_subject = get_int(o, "max_msgs_per_subject", 0);
    c->max_msg_size = get_int(o, "max_msg_size", 0);
    /* 0 means unlimited, as nats-server normalises it */
    if (!c->max_consumers)
        c->max_consumers = -1;
    if (!c->max_msgs)
        c->max_msgs = -1;
    if (!c->max_bytes)
        c->max_bytes = -1;
    if (!c->max_msgs_per_subject)
        c->max_msgs_per_subject = -1;
    if (!c->max_msg_size)
        c->max_msg_size = -1;
    s = get_str(o, "discard");
    c->discard_new = s && !strcmp(s, "new");
    s = get_str(o, "storage");
    c->memory = s && !strcmp(s, "memory");
    c->replicas = get_int(o, "num_replicas", 1);
    if (c->replicas <= 0)
        c->replicas = 1;
    c->dup_window_ns = get_int(o, "duplicate_window", 0);
    c->sealed = get_bool(o, "sealed");
    c->deny_delete = get_bool(o, "deny_delete");
    c->deny_purge = get_bool(o, "deny_purge");
    c->allow_rollup = get_bool(o, "allow_rollup_hdrs");
    c->allow_direct = get_bool(o, "allow_direct");
    c->mirror_direct = get_bool(o, "mirror_direct");
    c->discard_new_per_subject = get_bool(o, "discard_new_per_subject");
    c->no_ack = get_bool(o, "no_ack");

    if (!c->name || !*c->name) {
        snprintf(err, errlen, "stream name is required");
        return -1;
    }
    if (!valid_name(c->name)) {
        snprintf(err, errlen, "stream name can not contain whitespace, '.', '*', '>', "
                              "path separators");
        return -1;
    }
    if (c->retention < 0) {
        snprintf(err, errlen, "invalid JSON: unknown retention policy");
        return -1;
    }
    json_t *mir = json_object_get(o, "mirror");
    if (mir && !json_is_null(mir)) {
        c->mirror = calloc(1, sizeof *c->mirror);
        if (!c->mirror || js_source_parse(mir, c->mirror, err, errlen) != 0)
            return -1;
    }
    json_t *src = json_object_get(o, "sources");
    if (src && !json_is_null(src) && !json_is_array(src)) {
        snprintf(err, errlen, "invalid JSON: sources must be an array");
        return -1;
    }
    if (json_array_size(src)) {
        c->sources = calloc(json_array_size(src), sizeof *c->sources);
        if (!c->sources)
            return -1;
        for (size_t i = 0; i < json_array_size(src); i++) {
            if (js_source_parse(json_array_get(src, i), &c->sources[i], err, errlen) != 0) {
                js_source_free(&c->sources[i]);
                return -1;
            }
            c->nsources++;
        }
    }
    json_t *rp = json_object_get(o, "republish");
    if (json_is_object(rp)) {
        const char *rsrc = get_str(rp, "src"), *dest = get_str(rp, "dest");
        if (!dest || !*dest || !valid_subject(dest) || (rsrc && *rsrc && !valid_subject(rsrc))) {
            snprintf(err, errlen, "stream configuration for republish destination is invalid");
            return -1;
        }
        c->rp_src = strdup(rsrc && *rsrc ? rsrc : ">");
        c->rp_dest = strdup(dest);
        c->rp_headers_only = get_bool(rp, "headers_only");
    }
    if (!c->nsubjects && !c->mirror && !c->nsources) {    /* nats-server: the name is the subject */
        c->subjects = calloc(1, sizeof *c->subjects);
        if (c->subjects && (c->subjects[0] = strdup(c->name)))
            c->nsubjects = 1;
    }
    for (size_t i = 0; i < c->nsubjects; i++) {
        if (!valid_subject(c->subjects[i])) {
            snprintf(err, errlen, "invalid subject");
            return -1;
        }
        /* a subject inside $JS.API.> (">" itself is allowed, as in nats-server) */
        if (js_subject_match("$JS.API.>", c->subjects[i], strlen(c->subjects[i]))) {
            snprintf(err, errlen, "subjects overlap with jetstream api");
            return -1;
        }
        for (size_t k = 0; k < i; k++) {
            if (!strcmp(c->subjects[i], c->subjects[k])) {
                snprintf(err, errlen, "duplicate subjects detected");
                return -1;
            }
        }
    }
    for (size_t i = 0; c->rp_dest && i < c->nsubjects; i++) {
        if (subjects_overlap(c->rp_dest, c->subjects[i])) {
            snprintf(err, errlen, "stream configuration for republish destination forms a cycle");
            return -1;
        }
    }
    const int64_t two_min = 120LL * 1000000000;
    if (c->max_age_ns < 0 || c->dup_window_ns < 0) {
        snprintf(err, errlen, "max age and duplicates window can not be negative");
        return -1;
    }
    if (c->mirror)    /* a mirror does not deduplicate (nats-server leaves it 0) */
        c->dup_window_ns = 0;
    else if (c->dup_window_ns == 0)
        c->dup_window_ns = c->max_age_ns && c->max_age_ns < two_min ? c->max_age_ns : two_min;
    if (c->max_age_ns && c->dup_window_ns > c->max_age_ns) {
        snprintf(err, errlen, "duplicates window can not be larger then max age");
        return -1;
    }
    if (c->discard_new_per_subject && (!c->discard_new || c->max_msgs_per_subject <= 0)) {
        snprintf(err, errlen, "discard new per subject requires discard new policy and max "
                              "msgs per subject to be set");
        return -1;
    }
    return 0;
}

json_t *js_cfg_json(const js_cfg *c)
{
    static const char *const ret[] = {"limits", "interest", "workqueue"};
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    if (c->description)
        json_object_set_new(o, "description", json_string(c->description));
    if (c->nsubjects) {    /* a mirror or a source-only stream has none (omitted) */
        json_t *a = json_array();
        for (size_t i = 0; i < c->nsubjects; i++)
            json_array_append_new(a, json_string(c->subjects[i]));
        json_object_set_new(o, "subjects", a);
    }
    json_object_set_new(o, "retention", json_string(ret[c->retention]));
    json_object_set_new(o, "max_consumers", json_integer(c->max_consumers));
    json_object_set_new(o, "max_msgs", json_integer(c->max_msgs));
    json_object_set_new(o, "max_bytes", json_integer(c->max_bytes));
    json_object_set_new(o, "max_age", json_integer(c->max_age_ns));
    json_object_set_new(o, "max_msgs_per_subject", json_integer(c->max_msgs_per_subject));
    json_object_set_new(o, "max_msg_size", json_integer(c->max_msg_size));
    json_object_set_new(o, "discard", json_string(c->discard_new ? "new" : "old"));
    json_object_set_new(o, "storage", json_string(c->memory ? "memory" : "file"));
    json_object_set_new(o, "num_replicas", json_integer(c->replicas));
    if (c->no_ack)
        json_object_set_new(o, "no_ack", json_true());
    if (c->dup_window_ns)    /* 0 only for a mirror: omitted, as nats-server */
        json_object_set_new(o, "duplicate_window", json_integer(c->dup_window_ns));
    if (c->rp_dest) {
        json_t *rp = json_object();
        json_object_set_new(rp, "src", json_string(c->rp_src));
        json_object_set_new(rp, "dest", json_string(c->rp_dest));
        if (c->rp_headers_only)
            json_object_set_new(rp, "headers_only", json_true());
        json_object_set_new(o, "republish", rp);
    }
    if (c->mirror)
        json_object_set_new(o, "mirror", js_source_json(c->mirror));
    if (c->nsources) {
        json_t *sa = json_array();
        for (size_t i = 0; i < c->nsources; i++)
            json_array_append_new(sa, js_source_json(&c->sources[i]));
        json_object_set_new(o, "sources", sa);
    }
    json_object_set_new(o, "allow_direct", json_boolean(c->allow_direct));
    json_object_set_new(o, "mirror_direct", json_boolean(c->mirror_direct));
    if (c->discard_new_per_subject)
        json_object_set_new(o, "discard_new_per_subject", json_true());
    json_object_set_new(o, "sealed", json_boolean(c->sealed));
    json_object_set_new(o, "deny_delete", json_boolean(c->deny_delete));
    json_object_set_new(o, "deny_purge", json_boolean(c->deny_purge));
    json_object_set_new(o, "allow_rollup_hdrs", json_boolean(c->allow_rollup));
    return o;
}

static bool cfg_equal(const js_cfg *a, const js_cfg *b)
{
    char *x = js_cfg_to_string(a), *y = js_cfg_to_string(b);
    bool eq = x && y && !strcmp(x, y);
    free(x);
    free(y);
    return eq;
}

static bool mirror_equal(const js_source_cfg *a, const js_source_cfg *b)
{
    if (!a || !b)
        return a == b;
    json_t *x = js_source_json(a), *y = js_source_json(b);
    bool eq = json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return eq;
}

/* ---- stream info ---- */

typedef struct subj_ctx {
    const char *filter;
    json_t     *map;
    uint64_t    n;
} subj_ctx;

static void count_subject(void *ud, const char *subj, uint64_t count)
{
    subj_ctx *c = ud;
    c->n++;
    if (c->filter && c->map && js_subject_match(c->filter, subj, strlen(subj)))
        json_object_set_new(c->map, subj, json_integer((json_int_t)count));
}

/* The sequences between first and last that hold no message, as the
 * "deleted" array of a stream info asked for deleted_details. */
static json_t *deleted_seqs(js_stream *s)
{
    json_t *a = json_array();
    uint64_t next = s->st.first_seq;
    while (next <= s->st.last_seq) {
        js_msg *m = js_db_next_msg(s->db, s->id, next, NULL);
        bool found = m != NULL;
        uint64_t upto = found ? m->seq : s->st.last_seq + 1;
        js_msg_free(m);
        for (uint64_t q = next; q < upto; q++)
            json_array_append_new(a, json_integer((json_int_t)q));
        if (!found)
            break;
        next = upto + 1;
    }
    return a;
}

static json_t *stream_state_json(js_stream *s, const char *subjects_filter, bool deleted_details)
{
    char t[64];
    json_t *st = json_object();
    json_object_set_new(st, "messages", json_integer((json_int_t)s->st.msgs));
    json_object_set_new(st, "bytes", json_integer((json_int_t)s->st.bytes));
    json_object_set_new(st, "first_seq", json_integer((json_int_t)s->st.first_seq));
    js_fmt_time(t, sizeof t, s->st.msgs ? s->st.first_ts : 0);
    json_object_set_new(st, "first_ts", json_string(t));
    json_object_set_new(st, "last_seq", json_integer((json_int_t)s->st.last_seq));
    js_fmt_time(t, sizeof t, s->st.last_ts);
    json_object_set_new(st, "last_ts", json_string(t));
    subj_ctx c = {.filter = subjects_filter && *subjects_filter ? subjects_filter : NULL};
    if (c.filter) {    /* only then a walk over the subjects */
        c.map = json_object();
        js_db_subjects_foreach(s->db, s->id, count_subject, &c);
    }
    c.n = s->nsubjects;
    if (c.map && json_object_size(c.map))
        json_object_set_new(st, "subjects", c.map);
    else
        json_decref(c.map);
    if (s->st.msgs && s->st.last_seq >= s->st.first_seq) {
        uint64_t span = s->st.last_seq - s->st.first_seq + 1;
        if (span > s->st.msgs) {
            json_object_set_new(st, "num_deleted", json_integer((json_int_t)(span - s->st.msgs)));
            if (deleted_details)
                json_object_set_new(st, "deleted", deleted_seqs(s));
        }
    }
    if (c.n)
        json_object_set_new(st, "num_subjects", json_integer((json_int_t)c.n));
    json_object_set_new(st, "consumer_count", json_integer((json_int_t)js_consumers_count(s)));
    return st;
}

static void stream_info_into(json_t *o, js_stream *s, const char *subjects_filter,
                             bool deleted_details)
{
    char t[64];
    json_object_set_new(o, "config", js_cfg_json(&s->cfg));
    js_fmt_time(t, sizeof t, s->created_ns);
    json_object_set_new(o, "created", json_string(t));
    json_object_set_new(o, "state", stream_state_json(s, subjects_filter, deleted_details));
}

/* ---- requests ---- */

static json_t *parse_body(const js_job *j, const char *type, bool required)
{
    if (!j->data_len) {
        if (required)
            send_error(j, type, 400, 10025, "invalid JSON");
        return required ? NULL : json_object();
    }
    json_error_t e;
    json_t *o = json_loadb(j->data, j->data_len, 0, &e);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        send_error(j, type, 400, 10025, "invalid JSON");
        return NULL;
    }
    return o;
}

static bool overlaps_other(const js_stream *self, modnats_account *acc, const js_cfg *c)
{
    for (size_t i = 0; i < js_g.nstreams; i++) {
        js_stream *o = js_g.streams[i];
        if (o == self || o->acc != acc)
            continue;
        for (size_t a = 0; a < c->nsubjects; a++)
            for (size_t b = 0; b < o->cfg.nsubjects; b++)
                if (subjects_overlap(c->subjects[a], o->cfg.subjects[b]))
                    return true;
    }
    return false;
}

static void api_account_info(const js_job *j)
{
    uint64_t mem = 0, file = 0;
    int n = 0;
    size_t ncons = 0;
    for (size_t i = 0; i < js_g.nstreams; i++) {
        js_stream *s = js_g.streams[i];
        if (s->acc != j->acc)
            continue;
        n++;
        ncons += js_consumers_count(s);
        if (s->cfg.memory)
            mem += s->st.bytes;
        else
            file += s->st.bytes;
    }
    json_t *o = resp("account_info_response");
    json_object_set_new(o, "memory", json_integer((json_int_t)mem));
    json_object_set_new(o, "storage", json_integer((json_int_t)file));
    json_object_set_new(o, "streams", json_integer(n));
    json_object_set_new(o, "consumers", json_integer((json_int_t)ncons));
    /* the account's limits (js_acct.c); the server's own are not reported here */
    js_account_limits lim;
    js_acct_get(j->acc, &lim);
    json_object_set_new(o, "limits", js_acct_limits_json(&lim));
    if (js_g.domain)
        json_object_set_new(o, "domain", json_string(js_g.domain));
    json_t *a = json_object();
    uint64_t total = 0, errors = 0;
    js_acct_api_get(j->acc, &total, &errors);
    if (total > 0)    /* nats-server counts this request after answering it */
        total--;
    json_object_set_new(a, "total", json_integer((json_int_t)total));
    json_object_set_new(a, "errors", json_integer((json_int_t)errors));
    json_object_set_new(o, "api", a);
    send_json(j, o);
}

static void api_stream_create(const js_job *j, const char *name, bool update)
{
    const char *type = update ? "stream_update_response" : "stream_create_response";
    json_t *body = parse_body(j, type, true);
    if (!body)
        return;
    js_cfg cfg;
    char err[300];
    int rc = js_cfg_parse(body, &cfg, err, sizeof err);
    json_decref(body);
    if (rc != 0) {
        if (!strncmp(err, "invalid JSON", 12))
            send_error(j, type, 400, 10025, "invalid JSON");
        else
            send_error(j, type, 500, 10052, err);
        js_cfg_free(&cfg);
        return;
    }
    if (strcmp(cfg.name, name) != 0) {
        send_error(j, type, 400, 10056, "stream name in subject does not match request");
        js_cfg_free(&cfg);
        return;
    }
    if (cfg.replicas > 1) {
        send_error(j, type, 500, 10074, "replicas > 1 not supported in non-clustered mode");
        js_cfg_free(&cfg);
        return;
    }
    int code, err_code;
    if (js_mirror_check(j->acc, &cfg, &code, &err_code, err, sizeof err) != 0) {
        send_error(j, type, code, err_code, err);
        js_cfg_free(&cfg);
        return;
    }
    js_stream *s = js_stream_find(j->acc, name);
    const char *why_acct = NULL;
    int acode = 0, aerr = js_acct_check_stream(j->acc, &cfg, s, update, &acode, &why_acct);
    if (aerr) {
        send_error(j, type, acode, aerr, why_acct);
        js_cfg_free(&cfg);
        return;
    }
    if (!update && s) {
        if (cfg_equal(&s->cfg, &cfg)) {    /* idempotent create */
            json_t *o = resp(type);
            stream_info_into(o, s, NULL, false);
            js_mirror_info(s, o, js_now_ns());
            send_json(j, o);
        } else {
            send_error(j, type, 400, 10058,
                       "stream name already in use with a different configuration");
        }
        js_cfg_free(&cfg);
        return;
    }
    if (update && !s) {
        send_error(j, type, 404, 10059, "stream not found");
        js_cfg_free(&cfg);
        return;
    }
    if (!update && cfg.sealed) {
        send_error(j, type, 500, 10052, "stream configuration for create can not be sealed");
        js_cfg_free(&cfg);
        return;
    }
    if (cfg.sealed) {    /* a sealed stream takes nothing and loses nothing */
        cfg.discard_new = true;
        cfg.deny_delete = cfg.deny_purge = true;
    }
    if (overlaps_other(s, j->acc, &cfg)) {
        send_error(j, type, 400, 10065, "subjects overlap with an existing stream");
        js_cfg_free(&cfg);
        return;
    }
    if (update) {
        const char *why = cfg.memory != s->cfg.memory
                              ? "stream configuration update can not change storage type"
                          : cfg.retention != s->cfg.retention
                              ? "stream configuration update can not change retention policy"
                          : s->cfg.sealed && !cfg.sealed
                              ? "stream configuration update can not unseal a sealed stream"
                              : NULL;
        if (why) {
            send_error(j, type, 500, 10052, why);
            js_cfg_free(&cfg);
            return;
        }
        if (!mirror_equal(s->cfg.mirror, cfg.mirror)) {
            send_error(j, type, 400, 10055, "stream mirror configuration can not be updated");
            js_cfg_free(&cfg);
            return;
        }
        if (js_stream_update(s, &cfg) != 0) {
            send_error(j, type, 500, 10069, "cannot subscribe to the stream's subjects");
            js_cfg_free(&cfg);
            return;
        }
    } else {
        s = js_stream_create(j->acc, &cfg);
        if (!s) {
            send_error(j, type, 500, 10049, "cannot create the stream");
            js_cfg_free(&cfg);
            return;
        }
    }
    js_ev_stream_action(j->acc, name, update ? "modify" : "create");
    json_t *o = resp(type);
    stream_info_into(o, s, NULL, false);
    if (!update)    /* nats-server: no mirror/sources info before the first copy */
        json_object_set_new(o, "did_create", json_true());
    else
        js_mirror_info(s, o, js_now_ns());
    send_json(j, o);
}

static js_stream *need_stream(const js_job *j, const char *type, const char *name)
{
    js_stream *s = js_stream_find(j->acc, name);
    if (!s)
        send_error(j, type, 404, 10059, "stream not found");
    return s;
}

static void api_stream_info(const js_job *j, const char *name)
{
    const char *type = "stream_info_response";
    js_stream *s = need_stream(j, type, name);
    if (!s)
        return;
    json_t *body = parse_body(j, type, false);
    if (!body)
        return;
    json_t *o = resp(type);
    json_object_set_new(o, "total", json_integer(0));
    json_object_set_new(o, "offset", json_integer(0));
    json_object_set_new(o, "limit", json_integer(0));
    stream_info_into(o, s, get_str(body, "subjects_filter"), get_bool(body, "deleted_details"));
    js_mirror_info(s, o, js_now_ns());
    json_decref(body);
    send_json(j, o);
}

static void api_stream_delete(const js_job *j, const char *name)
{
    const char *type = "stream_delete_response";
    js_stream *s = need_stream(j, type, name);
    if (!s)
        return;
    js_ev_stream_deleted(s);
    js_stream_delete(s);
    json_t *o = resp(type);
    json_object_set_new(o, "success", json_true());
    send_json(j, o);
}

static int by_name(const void *a, const void *b)
{
    const js_stream *x = *(js_stream *const *)a, *y = *(js_stream *const *)b;
    return strcmp(x->cfg.name, y->cfg.name);
}

static void api_stream_list(const js_job *j, bool names)
{
    const char *type = names ? "stream_names_response" : "stream_list_response";
    json_t *body = parse_body(j, type, false);
    if (!body)
        return;
    int64_t offset = get_int(body, "offset", 0);
    const char *filter = get_str(body, "subject");
    js_stream **v = calloc(js_g.nstreams + 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; v && i < js_g.nstreams; i++) {
        js_stream *s = js_g.streams[i];
        if (s->acc != j->acc)
            continue;
        bool match = !filter || !*filter;
        for (size_t k = 0; !match && k < s->cfg.nsubjects; k++)
            match = subjects_overlap(filter, s->cfg.subjects[k]);
        if (match)
            v[n++] = s;
    }
    qsort(v, n, sizeof *v, by_name);
    int64_t limit = names ? 1024 : 256;
    json_t *o = resp(type);
    json_object_set_new(o, "total", json_integer((json_int_t)n));
    json_object_set_new(o, "offset", json_integer(offset));
    json_object_set_new(o, "limit", json_integer(limit));
    json_t *a = json_array();
    for (size_t i = (size_t)(offset > 0 ? offset : 0); i < n && (int64_t)json_array_size(a) < limit;
         i++) {
        if (names) {
            json_array_append_new(a, json_string(v[i]->cfg.name));
        } else {
            json_t *info = json_object();
            stream_info_into(info, v[i], NULL, false);
            js_mirror_info(v[i], info, js_now_ns());
            json_array_append_new(a, info);
        }
    }
    json_object_set_new(o, "streams", json_array_size(a) ? a : json_null());
    if (!json_array_size(a))
        json_decref(a);
    free(v);
    json_decref(body);
    send_json(j, o);
}

static void api_stream_purge(const js_job *j, const char *name)
{
    const char *type = "stream_purge_response";
    js_stream *s = need_stream(j, type, name);
    if (!s)
        return;
    json_t *body = parse_body(j, type, false);
    if (!body)
        return;
    if (s->cfg.sealed) {
        json_decref(body);
        json_t *o = resp(type);
        json_t *e = json_object();
        json_object_set_new(e, "code", json_integer(400));
        json_object_set_new(e, "err_code", json_integer(10109));
        json_object_set_new(e, "description", json_string("invalid operation on sealed stream"));
        json_object_set_new(o, "error", e);
        json_object_set_new(o, "purged", json_integer(0));
        if (api_counted)
            js_acct_api_count(j->acc, 0, 1);
        send_json(j, o);
        return;
    }
    if (s->cfg.deny_purge) {
        json_decref(body);
        send_error(j, type, 400, 10110, "stream purge not permitted");
        return;
    }
    json_t *keep = json_object_get(body, "keep");
    int64_t seq = get_int(body, "seq", 0);
    if (seq > 0 && json_is_integer(keep) && json_integer_value(keep) > 0) {
        json_decref(body);
        send_error(j, type, 400, 10003, "bad request");
        return;
    }
    uint64_t purged = js_stream_purge(s, get_str(body, "filter"), seq > 0 ? (uint64_t)seq : 0,
                                      json_is_integer(keep) && json_integer_value(keep) > 0
                                          ? (uint64_t)json_integer_value(keep) : 0,
                                      json_is_integer(keep) && json_integer_value(keep) > 0);
    json_decref(body);
    json_t *o = resp(type);
    json_object_set_new(o, "success", json_true());
    json_object_set_new(o, "purged", json_integer((json_int_t)purged));
    send_json(j, o);
}

/* The message a MSG.GET / DIRECT.GET request asks for, or NULL; *bad when
 * the request itself is wrong. */
static js_msg *lookup(js_stream *s, json_t *body, bool *bad)
{
    int64_t seq = get_int(body, "seq", 0);
    const char *last = get_str(body, "last_by_subj");
    const char *next = get_str(body, "next_by_subj");
    *bad = false;
    if ((seq > 0) + (last != NULL) > 1 || (last && next) || (!seq && !last && !next) ||
        seq < 0) {
        *bad = true;
        return NULL;
    }
    if (last) {
        uint64_t q = js_db_last_seq_by_subject(s->db, s->id, last, strlen(last));
        return q ? js_db_get_msg(s->db, s->id, q) : NULL;
    }
    if (next)
        return js_db_next_msg(s->db, s->id, seq > 0 ? (uint64_t)seq : s->st.first_seq, next);
    return js_db_get_msg(s->db, s->id, (uint64_t)seq);
}

static void api_msg_get(const js_job *j, const char *name)
{
    const char *type = "stream_msg_get_response";
    js_stream *s = need_stream(j, type, name);
    if (!s)
        return;
    json_t *body = parse_body(j, type, true);
    if (!body)
        return;
    bool bad;
    js_msg *m = lookup(s, body, &bad);
    json_decref(body);
    if (bad) {
        send_error(j, type, 400, 10003, "bad request");
        return;
    }
    if (!m) {
        send_error(j, type, 404, 10037, "no message found");
        return;
    }
    json_t *o = resp(type);
    json_t *msg = json_object();
    char t[64];
    json_object_set_new(msg, "subject", json_stringn(m->subject, m->subject_len));
    json_object_set_new(msg, "seq", json_integer((json_int_t)m->seq));
    if (m->hdr_len) {
        char *h = b64(m->hdr, m->hdr_len);
        json_object_set_new(msg, "hdrs", json_string(h ? h : ""));
        free(h);
    }
    if (m->data_len) {
        char *d = b64(m->data, m->data_len);
        json_object_set_new(msg, "data", json_string(d ? d : ""));
        free(d);
    }
    js_fmt_time(t, sizeof t, m->ts);
    json_object_set_new(msg, "time", json_string(t));
    json_object_set_new(o, "message", msg);
    js_msg_free(m);
    send_json(j, o);
}

static void api_msg_delete(const js_job *j, const char *name)
{
    const char *type = "stream_msg_delete_response";
    js_stream *s = need_stream(j, type, name);
    if (!s)
        return;
    json_t *body = parse_body(j, type, true);
    if (!body)
        return;
    int64_t seq = get_int(body, "seq", 0);
    json_decref(body);
    if (s->cfg.sealed) {
        send_error(j, type, 400, 10109, "invalid operation on sealed stream");
        return;
    }
    if (s->cfg.deny_delete) {
        send_error(j, type, 400, 10057, "message delete not permitted");
        return;
    }
    if (seq <= 0) {
        send_error(j, type, 400, 10003, "bad request");
        return;
    }
    if (!js_stream_remove(s, (uint64_t)seq)) {
        /* As nats-server: its memory store reports any missing sequence,
         * and its file store one that was already deleted between the
         * first and the last, as 10043 "sequence N not found"; the file
         * store fails with 10057 past the last ("stream store EOF") and
         * below the first ("no message found"). */
        if (s->cfg.memory ||
            ((uint64_t)seq >= s->st.first_seq && (uint64_t)seq <= s->st.last_seq)) {
            char d[64];
            snprintf(d, sizeof d, "sequence %lld not found", (long long)seq);
            send_error(j, type, 400, 10043, d);
            return;
        }
        send_error(j, type, 500, 10057,
                   (uint64_t)seq > s->st.last_seq ? "stream store EOF" : "no message found");
        return;
    }
    json_t *o = resp(type);
    json_object_set_new(o, "success", json_true());
    send_json(j, o);
}

void js_api_handle(const js_job *j)
{
    const char *p = j->subject;
    if (!strncmp(p, "$JS.ACK.", 8)) {
        js_consumer_ack(j);
        return;
    }
    if (!strncmp(p, "$JS.FC.", 7)) {
        js_consumer_fc(j);
        return;
    }
    /* $JS.API.x or $JS.<domain>.API.x */
    if (!strncmp(p, "$JS.API.", 8)) {
        p += 8;
    } else if (js_g.domain && !strncmp(p, "$JS.", 4) &&
               !strncmp(p + 4, js_g.domain, strlen(js_g.domain)) &&
               !strncmp(p + 4 + strlen(js_g.domain), ".API.", 5)) {
        p += 4 + strlen(js_g.domain) + 5;
    } else {
        return;
    }
    if (js_acct_refuse_api(j, p))    /* an account without JetStream */
        return;
    if (!j->reply_len)    /* nowhere to answer */
        return;
    api_counted = strncmp(p, "STREAM.MSG.GET.", 15) != 0 &&
                  strncmp(p, "CONSUMER.MSG.NEXT.", 18) != 0;
    if (api_counted)
        js_acct_api_count(j->acc, 1, 0);
    static const struct {
        const char *prefix;
        void (*fn)(const js_job *, const char *);
    } named[] = {
        {"STREAM.INFO.", api_stream_info},
        {"STREAM.DELETE.", api_stream_delete},
        {"STREAM.PURGE.", api_stream_purge},
        {"STREAM.MSG.GET.", api_msg_get},
        {"STREAM.MSG.DELETE.", api_msg_delete},
    };
    if (!strcmp(p, "INFO")) {
        api_account_info(j);
        return;
    }
    if (!strncmp(p, "CONSUMER.", 9)) {
        js_consumer_api(j, p);
        return;
    }
    if (!strncmp(p, "STREAM.CREATE.", 14) && !strchr(p + 14, '.')) {
        api_stream_create(j, p + 14, false);
        return;
    }
    if (!strncmp(p, "STREAM.UPDATE.", 14) && !strchr(p + 14, '.')) {
        api_stream_create(j, p + 14, true);
        return;
    }
    if (!strcmp(p, "STREAM.LIST") || !strcmp(p, "STREAM.NAMES")) {
        api_stream_list(j, p[7] == 'N');
        return;
    }
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t l = strlen(named[i].prefix);
        if (!strncmp(p, named[i].prefix, l) && p[l] && !strchr(p + l, '.')) {
            named[i].fn(j, p + l);
            return;
        }
    }
    /* Malformed or not offered (snapshots, restores, ...): no answer, as
     * nats-server does for subjects it does not serve. */
}

/* ---- DIRECT.GET: the message itself, with Nats-* headers ---- */

static void direct_status(const js_job *j, const char *status)
{
    char h[100];
    int n = snprintf(h, sizeof h, "NATS/1.0 %s\r\n\r\n", status);
    js_reply(j->acc, j->reply, j->reply_len, h, (size_t)n, NULL, 0, false);
}

void js_direct_get(const js_job *j)
{
    js_stream *s = js_stream_by_id(j->stream_id);
    if (!s || !j->reply_len)
        return;
    /* $JS.API.DIRECT.GET.<stream>[.<subject>]; <stream> is this stream's
     * name, or its origin's for a mirror with mirror_direct */
    size_t pre = strlen("$JS.API.DIRECT.GET.");
    if (j->subject_len <= pre)
        return;
    const char *dot = memchr(j->subject + pre, '.', j->subject_len - pre);
    pre = dot ? (size_t)(dot - j->subject) : j->subject_len;
    const char *subj = j->subject_len > pre + 1 ? j->subject + pre + 1 : NULL;
    js_msg *m = NULL;
    if (subj) {
        if (j->data_len) {
            direct_status(j, "408 Bad Request");
            return;
        }
        uint64_t q = js_db_last_seq_by_subject(s->db, s->id, subj, strlen(subj));
        m = q ? js_db_get_msg(s->db, s->id, q) : NULL;
    } else {
        json_error_t e;
        if (!j->data_len) {
            direct_status(j, "408 Empty Request");
            return;
        }
        json_t *body = json_loadb(j->data, j->data_len, 0, &e);
        if (!json_is_object(body)) {
            json_decref(body);
            direct_status(j, "408 Malformed Request");
            return;
        }
        bool bad, empty = !get_int(body, "seq", 0) && !get_str(body, "last_by_subj") &&
                          !get_str(body, "next_by_subj");
        m = lookup(s, body, &bad);
        json_decref(body);
        if (bad) {
            direct_status(j, empty ? "408 Empty Request" : "408 Bad Request");
            return;
        }
    }
    if (!m) {
        direct_status(j, "404 Message Not Found");
        return;
    }
    char t[64];
    js_fmt_time(t, sizeof t, m->ts);
    /* the message's own header lines (after NATS/1.0), then ours */
    const char *own = "";
    size_t own_len = 0;
    if (m->hdr_len) {
        const char *eol = memchr(m->hdr, '\n', m->hdr_len);
        if (eol) {
            own = eol + 1;
            own_len = m->hdr_len - (size_t)(own - m->hdr);
            if (own_len >= 2 && own[own_len - 2] == '\r' && own[own_len - 1] == '\n')
                own_len -= 2;    /* the blank line */
        }
    }
    size_t cap = own_len + m->subject_len + strlen(s->cfg.name) + 200;
    char *h = malloc(cap);
    if (!h) {
        js_msg_free(m);
        return;
    }
    int n = snprintf(h, cap, "NATS/1.0\r\n%.*sNats-Stream: %s\r\nNats-Subject: %.*s\r\n"
                     "Nats-Sequence: %llu\r\nNats-Time-Stamp: %s\r\n\r\n",
                     (int)own_len, own, s->cfg.name, (int)m->subject_len, m->subject,
                     (unsigned long long)m->seq, t);
    js_reply(j->acc, j->reply, j->reply_len, h, (size_t)n, m->data, m->data_len, false);
    free(h);
    js_msg_free(m);
}

/* A stream's state as STREAM.INFO shows it (for /jsz, js_jsz.c). */
json_t *js_stream_state_json(js_stream *s)
{
    return stream_state_json(s, NULL, false);
}
