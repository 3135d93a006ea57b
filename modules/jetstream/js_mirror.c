/*
 * js_mirror.c - mirrors and sources of streams within this server.
 *
 * No consumers over the wire: every turn of the JetStream thread
 * (js_mirrors_run, before the commit) reads what each origin stored past
 * the last sequence taken and appends it to the copying stream.  A mirror
 * keeps the origin's sequences (gaps where the origin has none, or where
 * its filter skips); a source gives new sequences and adds the header
 * `Nats-Stream-Source: <origin> <origin seq>`, as nats-server 2.9 does.
 *
 * Progress: per mirror/source, the last origin sequence taken.  It is
 * written as a record of the copying stream (the consumer-state family,
 * under a name no consumer can have) into the same pending batch as the
 * copied messages, so one commit has both or neither: a crash neither
 * loses nor duplicates.  An origin that does not exist (yet) is waited
 * for, as nats-server does.
 */
#include "jetstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* At most this many messages copied per turn (all streams together). */
#define COPY_BUDGET 4096

typedef struct js_copy_src {
    uint64_t sseq;          /* last origin sequence taken (copied or skipped) */
    uint64_t dseq;          /* last origin sequence copied */
    bool     started;       /* sseq known (stored, or set from the start options) */
    int64_t  active_ns;     /* last contact with the origin, 0: never */
} js_copy_src;

typedef struct js_copy {
    size_t      n;
    js_copy_src src[];
} js_copy;

/* ---- configuration ---- */

void js_source_free(js_source_cfg *sc)
{
    free(sc->name);
    free(sc->filter);
    free(sc->start_time);
    memset(sc, 0, sizeof *sc);
}

/* RFC 3339 (as Go writes a time.Time) -> ns since the epoch; -1: not one. */
static int parse_time(const char *t, int64_t *out)
{
    struct tm tm = {0};
    const char *p = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 9)
                frac = frac * 10 + (*p - '0');
        if (!digits)
            return -1;
        for (; digits < 9; digits++)
            frac *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
            return -1;
        off = (hh * 3600 + mm * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    time_t secs = timegm(&tm);
    *out = ((int64_t)secs - off) * 1000000000 + frac;
    return 0;
}

int js_source_parse(json_t *o, js_source_cfg *sc, char *err, size_t errlen)
{
    memset(sc, 0, sizeof *sc);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "invalid JSON: a mirror or source must be an object");
        return -1;
    }
    json_t *v = json_object_get(o, "name");
    if (!json_is_string(v) || !*json_string_value(v)) {
        snprintf(err, errlen, "stream mirror or source requires a name");    /* checked below too */
        return -1;
    }
    sc->name = strdup(json_string_value(v));
    v = json_object_get(o, "filter_subject");
    if (json_is_string(v) && *json_string_value(v))
        sc->filter = strdup(json_string_value(v));
    v = json_object_get(o, "opt_start_seq");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            snprintf(err, errlen, "invalid JSON: opt_start_seq must be a sequence");
            return -1;
        }
        sc->start_seq = (uint64_t)json_integer_value(v);
    }
    v = json_object_get(o, "opt_start_time");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || parse_time(json_string_value(v), &sc->start_time_ns) != 0) {
            snprintf(err, errlen, "invalid JSON: opt_start_time must be an RFC 3339 time");
            return -1;
        }
        sc->start_time = strdup(json_string_value(v));
    }
    json_t *ext = json_object_get(o, "external");
    if (json_is_object(ext)) {
        json_t *api = json_object_get(ext, "api"), *del = json_object_get(ext, "deliver");
        if ((json_is_string(api) && *json_string_value(api)) ||
            (json_is_string(del) && *json_string_value(del))) {
            snprintf(err, errlen, "stream mirrors and sources of other accounts or domains "
                                  "(external) are not supported by modnats yet");
            return -1;
        }
    }
    v = json_object_get(o, "filter_subject");
    if (v && !json_is_null(v) && !json_is_string(v)) {
        snprintf(err, errlen, "invalid JSON: filter_subject must be a string");
        return -1;
    }
    /* (the progress record's name holds both) */
    if (sc->name && (strlen(sc->name) > 255 || (sc->filter && strlen(sc->filter) > 255))) {
        snprintf(err, errlen, "stream mirror or source name or filter subject longer than 255");
        return -1;
    }
    return sc->name ? 0 : -1;
}

json_t *js_source_json(const js_source_cfg *sc)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(sc->name));
    if (sc->start_seq)
        json_object_set_new(o, "opt_start_seq", json_integer((json_int_t)sc->start_seq));
    if (sc->start_time)
        json_object_set_new(o, "opt_start_time", json_string(sc->start_time));
    if (sc->filter)
        json_object_set_new(o, "filter_subject", json_string(sc->filter));
    return o;
}

/* Do two subjects (with wildcards) have a subject in common? */
static bool collide(const char *a, const char *b)
{
    for (;;) {
        size_t la = strcspn(a, "."), lb = strcspn(b, ".");
        if ((la == 1 && *a == '>') || (lb == 1 && *b == '>'))
            return true;
        if (!((la == 1 && *a == '*') || (lb == 1 && *b == '*') ||
              (la == lb && !memcmp(a, b, la))))
            return false;
        a += la;
        b += lb;
        if (!*a || !*b)
            return !*a && !*b;
        a++;
        b++;
    }
}

/* filter NULL: everything; otherwise some subject collides with it. */
static bool overlaps(char *const *subjects, size_t n, const char *filter)
{
    if (!filter)
        return true;
    for (size_t i = 0; i < n; i++)
        if (collide(subjects[i], filter))
            return true;
    return false;
}

static int fail(int *code, int *err_code, int c, int e, char *err, size_t errlen, const char *fmt,
                const char *a, const char *b)
{
    *code = c;
    *err_code = e;
    snprintf(err, errlen, fmt, a, b);
    return -1;
}

static int check_origin(modnats_account *acc, const js_cfg *c, const js_source_cfg *sc,
                        bool mirror, int *code, int *err_code, char *err, size_t errlen)
{
    js_stream *o = js_stream_find(acc, sc->name);
    if (!o)
        return 0;    /* waited for */
    if (c->max_msg_size > 0 && o->cfg.max_msg_size > 0 && c->max_msg_size < o->cfg.max_msg_size)
        return mirror ? fail(code, err_code, 400, 10030, err, errlen,
                             "stream mirror must have max message size >= source", NULL, NULL)
                      : fail(code, err_code, 400, 10046, err, errlen,
                             "stream source must have max message size >= target", NULL, NULL);
    if (o->cfg.nsubjects && !overlaps(o->cfg.subjects, o->cfg.nsubjects, sc->filter)) {
        char what[300];
        snprintf(what, sizeof what, "%s '%s'", mirror ? "mirror" : "source", sc->name);
        return fail(code, err_code, 500, 10052, err, errlen,
                    "%s filter subject '%s' does not overlap with any origin stream subject",
                    what, sc->filter);
    }
    return 0;
}

/* Does following mirrors and sources from c lead back to a stream already
 * visited (for sources: with subjects the filter takes)? */
static bool has_cycle(modnats_account *acc, const js_cfg *c)
{
    const js_cfg *queue[256];
    const char *visited[256];
    size_t qh = 0, qt = 0, nv = 0;
    queue[qt++] = c;
    while (qh < qt) {
        const js_cfg *cur = queue[qh++];
        if (nv < 256)
            visited[nv++] = cur->name;
        for (size_t i = 0; i <= cur->nsources; i++) {
            const js_source_cfg *sc = i < cur->nsources ? &cur->sources[i] : cur->mirror;
            if (!sc)
                continue;
            bool seen = false;
            for (size_t k = 0; k < nv && !seen; k++)
                seen = !strcmp(visited[k], sc->name);
            if (seen) {
                if (sc == cur->mirror || overlaps(cur->subjects, cur->nsubjects, sc->filter))
                    return true;
                continue;
            }
            js_stream *o = js_stream_find(acc, sc->name);
            if (o && qt < 256)
                queue[qt++] = &o->cfg;
        }
    }
    return false;
}

int js_mirror_check(modnats_account *acc, const js_cfg *c, int *code, int *err_code, char *err,
                    size_t errlen)
{
    if (c->mirror) {
        if (c->nsubjects)
            return fail(code, err_code, 400, 10034, err, errlen,
                        "stream mirrors can not contain subjects", NULL, NULL);
        if (c->nsources)
            return fail(code, err_code, 400, 10031, err, errlen,
                        "stream mirrors can not also contain other sources", NULL, NULL);
        /* both start seq and time: allowed by nats-server 2.9 (seq wins) */
        if (check_origin(acc, c, c->mirror, true, code, err_code, err, errlen) != 0)
            return -1;
    }
    for (size_t i = 0; i < c->nsources; i++)
        if (check_origin(acc, c, &c->sources[i], false, code, err_code, err, errlen) != 0)
            return -1;
    if ((c->mirror || c->nsources) && has_cycle(acc, c))
        return fail(code, err_code, 500, 10052, err, errlen, "detected cycle", NULL, NULL);
    return 0;
}

/* ---- progress ---- */

static const js_source_cfg *source_of(const js_stream *s, size_t i)
{
    return s->cfg.mirror ? s->cfg.mirror : &s->cfg.sources[i];
}

/* The record's name: starts with a byte no consumer name has. */
static void source_key(const js_source_cfg *sc, bool mirror, char *buf, size_t len)
{
    if (mirror)
        snprintf(buf, len, "\x01mirror");
    else
        snprintf(buf, len, "\x01source\x01%s\x01%s", sc->name, sc->filter ? sc->filter : "");
}

static void progress_key(const js_stream *s, size_t i, char *buf, size_t len)
{
    source_key(source_of(s, i), s->cfg.mirror != NULL, buf, len);
}

static void get_seqs(const char *blob, uint64_t *a, uint64_t *b)
{
    *a = *b = 0;
    for (int k = 0; k < 8; k++) {
        *a = *a << 8 | (unsigned char)blob[k];
        *b = *b << 8 | (unsigned char)blob[8 + k];
    }
}

static void put_seqs(char *blob, uint64_t a, uint64_t b)
{
    for (int k = 7; k >= 0; k--, a >>= 8, b >>= 8) {
        blob[k] = (char)(a & 0xff);
        blob[8 + k] = (char)(b & 0xff);
    }
}

static js_copy *progress(js_stream *s)
{
    if (s->copy)
        return s->copy;
    size_t n = s->cfg.mirror ? 1 : s->cfg.nsources;
    if (!n)
        return NULL;
    js_copy *c = calloc(1, sizeof *c + n * sizeof c->src[0]);
    if (!c)
        return NULL;
    c->n = n;
    for (size_t i = 0; i < n; i++) {
        char key[600];
        progress_key(s, i, key, sizeof key);
        size_t len = 0;
        char *blob = js_db_get_cstate(s->db, s->id, key, &len);
        if (blob && len == 16) {    /* sseq, dseq: big-endian */
            get_seqs(blob, &c->src[i].sseq, &c->src[i].dseq);
            c->src[i].started = true;
        }
        free(blob);
    }
    s->copy = c;
    return c;
}

static void progress_save(js_stream *s, size_t i)
{
    char key[600], blob[16];
    progress_key(s, i, key, sizeof key);
    put_seqs(blob, s->copy->src[i].sseq, s->copy->src[i].dseq);
    js_db_put_cstate(s->db, s->id, key, blob, sizeof blob);
}

void js_mirror_free(js_stream *s)
{
    free(s->copy);
    s->copy = NULL;
}

void js_mirror_update(js_stream *s, const js_cfg *old)
{
    js_mirror_free(s);
    for (size_t i = 0; i < s->cfg.nsources; i++) {
        char key[600], okey[600];
        size_t len;
        source_key(&s->cfg.sources[i], false, key, sizeof key);
        char *blob = js_db_get_cstate(s->db, s->id, key, &len);
        for (size_t k = 0; !blob && k < old->nsources; k++) {
            const js_source_cfg *was = &old->sources[k], *now = &s->cfg.sources[i];
            if (strcmp(was->name, now->name) != 0)
                continue;
            source_key(was, false, okey, sizeof okey);
            if (!(blob = js_db_get_cstate(s->db, s->id, okey, &len)) || len != 16)
                continue;
            /* Overlapping filters: again from after the last message copied
             * (what the old filter skipped since may now match); disjoint
             * ones: from now on.  As nats-server 2.9. */
            uint64_t sseq, dseq;
            get_seqs(blob, &sseq, &dseq);
            bool overlap = !was->filter || !now->filter || collide(was->filter, now->filter);
            put_seqs(blob, overlap ? dseq : sseq, dseq);
            js_db_put_cstate(s->db, s->id, key, blob, len);
        }
        free(blob);
    }
}

/* The first origin sequence at or after t (last_seq + 1: none). */
static uint64_t seq_at_time(js_stream *o, int64_t t)
{
    uint64_t lo = o->st.first_seq, hi = o->st.last_seq + 1;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        js_msg *m = js_db_next_msg(o->db, o->id, mid, NULL);
        if (!m || m->ts >= t)
            hi = mid;
        else
            lo = mid + 1;
        js_msg_free(m);
    }
    return lo;
}

/* A source's copy: the origin's headers plus Nats-Stream-Source. */
static void store_sourced(js_stream *s, const js_source_cfg *sc, const js_msg *m, int64_t now)
{
    size_t keep = 0;
    if (m->hdr_len >= 12 && !memcmp(m->hdr + m->hdr_len - 2, "\r\n", 2))
        keep = m->hdr_len - 2;    /* without the blank line */
    size_t cap = keep + strlen(sc->name) + 80;
    char *h = malloc(cap);
    if (!h)
        return;
    int n = keep ? snprintf(h, cap, "%.*sNats-Stream-Source: %s %llu\r\n\r\n", (int)keep, m->hdr,
                            sc->name, (unsigned long long)m->seq)
                 : snprintf(h, cap, "NATS/1.0\r\nNats-Stream-Source: %s %llu\r\n\r\n", sc->name,
                            (unsigned long long)m->seq);
    if (n > 0 && (size_t)n < cap)
        js_stream_store_copy(s, 0, now, m->subject, m->subject_len, h, (size_t)n, m->data,
                             m->data_len);
    free(h);
}

/* Copy from one origin; returns how many messages were taken. */
static size_t copy_one(js_stream *s, size_t i, int64_t now, size_t budget)
{
    const js_source_cfg *sc = source_of(s, i);
    js_copy_src *p = &s->copy->src[i];
    js_stream *o = js_stream_find(s->acc, sc->name);
    if (!o || o == s)
        return 0;
    p->active_ns = now;
    bool dirty = false;
    if (!p->started) {
        if (sc->start_seq)
            p->sseq = sc->start_seq - 1;
        else if (sc->start_time)
            p->sseq = seq_at_time(o, sc->start_time_ns) - 1;
        else
            p->sseq = 0;
        p->started = dirty = true;
    }
    size_t taken = 0;
    while (taken < budget) {
        js_msg *m = js_db_next_msg(o->db, o->id, p->sseq + 1, sc->filter);
        if (!m) {
            if (o->st.last_seq > p->sseq) {    /* the rest does not match the filter */
                p->sseq = o->st.last_seq;
                dirty = true;
            }
            break;
        }
        if (s->cfg.mirror)
            js_stream_store_copy(s, m->seq, m->ts, m->subject, m->subject_len, m->hdr,
                                 m->hdr_len, m->data, m->data_len);
        else
            store_sourced(s, sc, m, now);
        p->sseq = p->dseq = m->seq;
        js_msg_free(m);
        dirty = true;
        taken++;
    }
    if (dirty)
        progress_save(s, i);
    return taken;
}

void js_mirrors_run(int64_t now, bool *more)
{
    /* Each turn starts at the next stream: one long catch-up does not
     * starve the others. */
    static size_t first;
    size_t budget = COPY_BUDGET;
    if (js_g.nstreams)
        first = (first + 1) % js_g.nstreams;
    for (size_t n = 0; n < js_g.nstreams; n++) {
        js_stream *s = js_g.streams[(first + n) % js_g.nstreams];
        if (!s->cfg.mirror && !s->cfg.nsources)
            continue;
        js_copy *c = progress(s);
        for (size_t i = 0; c && i < c->n; i++) {
            if (!budget) {
                *more = true;
                return;
            }
            budget -= copy_one(s, i, now, budget);
        }
    }
    if (!budget)
        *more = true;
}

void js_mirror_on_store(js_stream *o)
{
    for (size_t k = 0; k < js_g.nstreams; k++) {
        js_stream *s = js_g.streams[k];
        if (s == o || s->acc != o->acc || (!s->cfg.mirror && !s->cfg.nsources))
            continue;
        js_copy *c = progress(s);
        for (size_t i = 0; c && i < c->n; i++) {
            js_copy_src *p = &c->src[i];
            /* one behind is caught up; further behind: the turn's copy */
            if (strcmp(source_of(s, i)->name, o->cfg.name) != 0 || !p->started ||
                p->sseq + 1 != o->st.last_seq)
                continue;
            copy_one(s, i, js_now_ns(), 1);
        }
    }
}

/* ---- STREAM.INFO ---- */

static json_t *source_info(js_stream *s, size_t i, int64_t now)
{
    const js_source_cfg *sc = source_of(s, i);
    js_copy_src *p = s->copy ? &s->copy->src[i] : NULL;
    js_stream *o = js_stream_find(s->acc, sc->name);
    uint64_t lag = 0;
    if (o && p && p->started)
        lag = o->st.last_seq > p->sseq ? o->st.last_seq - p->sseq : 0;
    else if (o)
        lag = o->st.msgs;
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(sc->name));
    json_object_set_new(j, "lag", json_integer((json_int_t)lag));
    json_object_set_new(j, "active",
                        json_integer(p && p->active_ns ? now - p->active_ns : -1));
    if (!o) {
        json_t *e = json_object();
        json_object_set_new(e, "code", json_integer(404));
        json_object_set_new(e, "err_code", json_integer(10059));
        json_object_set_new(e, "description", json_string("stream not found"));
        json_object_set_new(j, "error", e);
    }
    return j;
}

void js_mirror_info(js_stream *s, json_t *o, int64_t now)
{
    if (!s->cfg.mirror && !s->cfg.nsources)
        return;
    progress(s);
    if (s->cfg.mirror) {
        json_object_set_new(o, "mirror", source_info(s, 0, now));
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < s->cfg.nsources; i++)
        json_array_append_new(a, source_info(s, i, now));
    json_object_set_new(o, "sources", a);
}
