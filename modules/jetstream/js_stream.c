/*
 * js_stream.c - streams on the JetStream thread: create, update, delete,
 * load at start-up, the publish path (expected-* headers, the duplicate
 * window, rollups, limits, discard policies) and max_age expiry.
 *
 * Every change goes into the stream's database's pending batch; the
 * thread commits once per turn (js_thread.c), after js_streams_flush_state
 * wrote the state records of the streams that changed.
 */
#include "jetstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the duplicate window ---- */

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static js_dedup_ent *dd_find(js_stream *s, const char *id, size_t n)
{
    if (!s->dd_cap)
        return NULL;
    for (js_dedup_ent *e = s->dd_tab[hash_str(id, n) & (s->dd_cap - 1)]; e; e = e->next_hash)
        if (strlen(e->id) == n && !memcmp(e->id, id, n))
            return e;
    return NULL;
}

static void dd_unlink_hash(js_stream *s, js_dedup_ent *e)
{
    js_dedup_ent **pp = &s->dd_tab[hash_str(e->id, strlen(e->id)) & (s->dd_cap - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next_hash;
    if (*pp)
        *pp = e->next_hash;
}

/* Drop entries older than the window (arrival order is time order). */
static void dd_expire(js_stream *s, int64_t now)
{
    while (s->dd_head && s->dd_head->ts < now - s->cfg.dup_window_ns) {
        js_dedup_ent *e = s->dd_head;
        s->dd_head = e->next_age;
        if (!s->dd_head)
            s->dd_tail = NULL;
        dd_unlink_hash(s, e);
        s->dd_n--;
        free(e);
    }
}

static void dd_add(js_stream *s, const char *id, size_t n, uint64_t seq, int64_t ts)
{
    if (s->cfg.dup_window_ns <= 0)
        return;
    if (s->dd_n + 1 > s->dd_cap / 2) {
        size_t cap = s->dd_cap ? s->dd_cap * 2 : 64;
        js_dedup_ent **t = calloc(cap, sizeof *t);
        if (!t)
            return;
        for (js_dedup_ent *e = s->dd_head; e; e = e->next_age) {
            size_t b = hash_str(e->id, strlen(e->id)) & (cap - 1);
            e->next_hash = t[b];
            t[b] = e;
        }
        free(s->dd_tab);
        s->dd_tab = t;
        s->dd_cap = cap;
    }
    js_dedup_ent *e = malloc(sizeof *e + n + 1);
    if (!e)
        return;
    memcpy(e->id, id, n);
    e->id[n] = 0;
    e->seq = seq;
    e->ts = ts;
    e->next_age = NULL;
    size_t b = hash_str(id, n) & (s->dd_cap - 1);
    e->next_hash = s->dd_tab[b];
    s->dd_tab[b] = e;
    if (s->dd_tail)
        s->dd_tail->next_age = e;
    else
        s->dd_head = e;
    s->dd_tail = e;
    s->dd_n++;
}

static void dd_free(js_stream *s)
{
    while (s->dd_head) {
        js_dedup_ent *e = s->dd_head;
        s->dd_head = e->next_age;
        free(e);
    }
    free(s->dd_tab);
    s->dd_tab = NULL;
    s->dd_cap = s->dd_n = 0;
    s->dd_tail = NULL;
}

/* ---- headers ---- */

/* The value of header `name` in a NATS/1.0 block, or NULL. */
const char *js_hdr_get(const char *hdr, size_t hlen, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = hdr, *end = hdr + hlen;
    const char *eol = memchr(p, '\n', hlen);
    if (!eol)
        return NULL;
    p = eol + 1;    /* past NATS/1.0 ... */
    while (p < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        size_t ll = (size_t)(le - p);
        if (ll && p[ll - 1] == '\r')
            ll--;
        if (ll > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
            const char *v = p + nl + 1;
            const char *ve = p + ll;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return NULL;
}

/* ---- the set of streams ---- */

js_stream *js_stream_find(modnats_account *acc, const char *name)
{
    for (size_t i = 0; i < js_g.nstreams; i++)
        if (js_g.streams[i]->acc == acc && !strcmp(js_g.streams[i]->cfg.name, name))
            return js_g.streams[i];
    return NULL;
}

js_stream *js_stream_by_id(uint64_t id)
{
    for (size_t i = 0; i < js_g.nstreams; i++)
        if (js_g.streams[i]->id == id)
            return js_g.streams[i];
    return NULL;
}

void js_cfg_free(js_cfg *c)
{
    free(c->rp_src);
    free(c->rp_dest);
    free(c->name);
    free(c->description);
    for (size_t i = 0; i < c->nsubjects; i++)
        free(c->subjects[i]);
    free(c->subjects);
    if (c->mirror)
        js_source_free(c->mirror);
    free(c->mirror);
    for (size_t i = 0; i < c->nsources; i++)
        js_source_free(&c->sources[i]);
    free(c->sources);
    memset(c, 0, sizeof *c);
}

/* nats-server's accounting of a message's size. */
uint64_t js_msg_size(const js_stream *s, size_t slen, size_t hlen, size_t dlen)
{
    if (s->cfg.memory)
        return slen + hlen + dlen + 16;
    return hlen ? 22 + slen + 4 + hlen + dlen + 8 : 22 + slen + dlen + 8;
}

static void unsubscribe_all(js_stream *s)
{
    for (size_t i = 0; i < s->nsubs; i++)
        js_g.api->unsubscribe(s->subs[i]);
    free(s->subs);
    s->subs = NULL;
    s->nsubs = 0;
}

/* DIRECT.GET subscribers (a stream with allow_direct, mirrors with
 * mirror_direct) share a queue group, as nats-server's: one answers. */
#define JS_DIRECT_GROUP "_sys_"

static int add_sub(js_stream *s, const char *subject, int kind)
{
    modnats_sub *sub = js_subscribe_capture(s->acc, subject,
                                            kind == JS_JOB_DIRECT ? JS_DIRECT_GROUP : NULL,
                                            s->id, kind);
    modnats_sub **v = sub ? realloc(s->subs, (s->nsubs + 1) * sizeof *v) : NULL;
    if (!v) {
        if (sub)
            js_g.api->unsubscribe(sub);
        return -1;
    }
    s->subs = v;
    v[s->nsubs++] = sub;
    return 0;
}

static int add_direct_subs(js_stream *s, const char *name)
{
    char subj[400];
    snprintf(subj, sizeof subj, "$JS.API.DIRECT.GET.%s", name);
    if (add_sub(s, subj, JS_JOB_DIRECT) != 0)
        return -1;
    snprintf(subj, sizeof subj, "$JS.API.DIRECT.GET.%s.>", name);
    return add_sub(s, subj, JS_JOB_DIRECT);
}

/* The stream's subjects and, with allow_direct, its DIRECT.GET subjects;
 * a mirror with mirror_direct also answers its origin's DIRECT.GET if
 * the origin had allow_direct when the mirror found it (as nats-server
 * 2.9.10, which goes on answering after the origin is deleted). */
static int subscribe_all(js_stream *s)
{
    unsubscribe_all(s);
    for (size_t i = 0; i < s->cfg.nsubjects; i++)
        if (add_sub(s, s->cfg.subjects[i], JS_JOB_PUB) != 0)
            return -1;
    if (s->cfg.allow_direct && add_direct_subs(s, s->cfg.name) != 0)
        return -1;
    if (!s->cfg.mirror || !s->cfg.mirror_direct) {
        s->origin_direct = false;
    } else if (!s->origin_direct) {
        js_stream *o = js_stream_find(s->acc, s->cfg.mirror->name);
        s->origin_direct = o && o->cfg.allow_direct;
    }
    if (s->origin_direct && add_direct_subs(s, s->cfg.mirror->name) != 0)
        return -1;
    return 0;
}

/* o was created or loaded: its mirrors with mirror_direct that do not
 * answer for it yet start to, if it has allow_direct (the moment a
 * nats-server mirror finds its origin; a later update of the origin's
 * allow_direct changes nothing there either). */
static void origin_direct_refresh(js_stream *o)
{
    if (!o->cfg.allow_direct)
        return;
    for (size_t i = 0; i < js_g.nstreams; i++) {
        js_stream *m = js_g.streams[i];
        if (m != o && m->acc == o->acc && m->cfg.mirror && m->cfg.mirror_direct &&
            !m->origin_direct && !strcmp(m->cfg.mirror->name, o->cfg.name) &&
            subscribe_all(m) != 0)
            js_log(MODNATS_LOG_ERROR, "stream %s: cannot subscribe for mirror_direct", m->cfg.name);
    }
}

static void stream_free(js_stream *s)
{
    js_consumers_free(s);
    js_mirror_free(s);
    unsubscribe_all(s);
    dd_free(s);
    js_cfg_free(&s->cfg);
    free(s->account);
    free(s->last_msg_id);
    free(s);
}

void js_streams_free(void)
{
    for (size_t i = 0; i < js_g.nstreams; i++)
        stream_free(js_g.streams[i]);
    free(js_g.streams);
    js_g.streams = NULL;
    js_g.nstreams = 0;
}

static int list_add(js_stream *s)
{
    js_stream **v = realloc(js_g.streams, (js_g.nstreams + 1) * sizeof *v);
    if (!v)
        return -1;
    js_g.streams = v;
    v[js_g.nstreams++] = s;
    return 0;
}

static void list_remove(js_stream *s)
{
    for (size_t i = 0; i < js_g.nstreams; i++) {
        if (js_g.streams[i] == s) {
            memmove(&js_g.streams[i], &js_g.streams[i + 1],
                    (js_g.nstreams - i - 1) * sizeof s);
            js_g.nstreams--;
            return;
        }
    }
}

char *js_cfg_to_string(const js_cfg *c)
{
    json_t *o = js_cfg_json(c);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static void persist_meta(js_stream *s)
{
    char *cfg = js_cfg_to_string(&s->cfg);
    if (cfg)
        js_db_put_stream(s->db, s->id, s->account, s->cfg.name, cfg, s->created_ns);
    free(cfg);
}

/* ---- removing messages, limits ---- */

/* After the first message went: the next one still stored, or empty. */
static void advance_first(js_stream *s, uint64_t from)
{
    js_msg *m = js_db_next_msg(s->db, s->id, from, NULL);
    if (m) {
        s->st.first_seq = m->seq;
        s->st.first_ts = m->ts;
        js_msg_free(m);
    } else {
        s->st.first_seq = s->st.last_seq + 1;
        s->st.first_ts = 0;
    }
}

/* Remove message seq; true if it was there. */
bool js_stream_remove(js_stream *s, uint64_t seq)
{
    js_msg *m = NULL;
    if (!js_db_del_msg(s->db, s->id, seq, &m))
        return false;
    s->st.msgs--;
    if (!js_db_subject_count(s->db, s->id, m->subject, m->subject_len) && s->nsubjects)
        s->nsubjects--;
    uint64_t sz = js_msg_size(s, m->subject_len, m->hdr_len, m->data_len);
    s->st.bytes = s->st.bytes > sz ? s->st.bytes - sz : 0;
    js_consumers_on_remove(s, seq, m->subject, m->subject_len);
    js_msg_free(m);
    if (seq == s->st.first_seq)
        advance_first(s, seq + 1);
    s->state_dirty = true;
    return true;
}

static void remove_first(js_stream *s)
{
    if (!s->st.msgs)
        return;
    if (!js_stream_remove(s, s->st.first_seq)) {
        /* first_seq pointed at a hole: find the real first */
        advance_first(s, s->st.first_seq);
        js_stream_remove(s, s->st.first_seq);
    }
}

/* Discard old: drop the oldest until the limits hold. */
static void enforce_limits(js_stream *s)
{
    while (s->cfg.max_msgs > 0 && s->st.msgs > (uint64_t)s->cfg.max_msgs)
        remove_first(s);
    while (s->cfg.max_bytes > 0 && s->st.bytes > (uint64_t)s->cfg.max_bytes && s->st.msgs)
        remove_first(s);
}

static void enforce_per_subject(js_stream *s, const char *subj, size_t slen)
{
    if (s->cfg.max_msgs_per_subject <= 0)
        return;
    while (js_db_subject_count(s->db, s->id, subj, slen) > (uint64_t)s->cfg.max_msgs_per_subject) {
        uint64_t seq = js_db_first_seq_by_subject(s->db, s->id, subj, slen, 0);
        if (!seq || !js_stream_remove(s, seq))
            break;
    }
}

/* Every subject over max_msgs_per_subject (after an update lowered it). */
typedef struct subj_list { char **v; size_t n; } subj_list;
static void collect_subj(void *ud, const char *subj, uint64_t count)
{
    subj_list *l = ((void **)ud)[0];
    const js_stream *s = ((void **)ud)[1];
    if (count <= (uint64_t)s->cfg.max_msgs_per_subject)
        return;
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return;
    l->v = v;
    if ((v[l->n] = strdup(subj)))
        l->n++;
}

static void enforce_all(js_stream *s)
{
    if (s->cfg.max_msgs_per_subject > 0) {
        subj_list l = {0};
        void *ud[2] = {&l, s};
        js_db_subjects_foreach(s->db, s->id, collect_subj, ud);
        for (size_t i = 0; i < l.n; i++) {
            enforce_per_subject(s, l.v[i], strlen(l.v[i]));
            free(l.v[i]);
        }
        free(l.v);
    }
    enforce_limits(s);
}

uint64_t js_stream_purge(js_stream *s, const char *filter, uint64_t upto, uint64_t keep,
                         bool has_keep)
{
    uint64_t purged = 0;
    if (filter && (!*filter || !strcmp(filter, ">")))
        filter = NULL;
    if (!filter && !upto && !has_keep) {
        /* everything: one range delete per family */
        purged = s->st.msgs;
        js_db_purge_msgs(s->db, s->id);
        s->nsubjects = 0;
        js_consumers_on_purge_all(s);
        s->st.msgs = s->st.bytes = 0;
        s->st.first_seq = s->st.last_seq + 1;
        s->st.first_ts = 0;
        s->state_dirty = true;
        return purged;
    }
    /* How many match (for keep): count first. */
    uint64_t total = 0;
    if (has_keep) {
        for (js_msg *m = js_db_next_msg(s->db, s->id, s->st.first_seq, filter); m;) {
            total++;
            uint64_t next = m->seq + 1;
            js_msg_free(m);
            m = js_db_next_msg(s->db, s->id, next, filter);
        }
        if (total <= keep)
            return 0;
    }
    uint64_t to_remove = has_keep ? total - keep : UINT64_MAX;
    uint64_t from = s->st.first_seq;
    while (purged < to_remove) {
        js_msg *m = js_db_next_msg(s->db, s->id, from, filter);
        if (!m)
            break;
        uint64_t seq = m->seq;
        js_msg_free(m);
        if (upto && seq >= upto)
            break;
        if (js_stream_remove(s, seq))
            purged++;
        from = seq + 1;
    }
    return purged;
}

/* ---- create, update, delete, load ---- */

static void rebuild_memory(js_stream *s)
{
    /* The duplicate window and the last Nats-Msg-Id, from the messages
     * inside the window (binary search by time: seq order is time order). */
    int64_t cutoff = js_now_ns() - s->cfg.dup_window_ns;
    uint64_t lo = s->st.first_seq, hi = s->st.last_seq + 1;
    while (lo < hi && s->st.msgs) {
        uint64_t mid = lo + (hi - lo) / 2;
        js_msg *m = js_db_next_msg(s->db, s->id, mid, NULL);
        if (!m || m->ts >= cutoff)
            hi = mid;
        else
            lo = mid + 1;
        js_msg_free(m);
    }
    for (js_msg *m = s->st.msgs ? js_db_next_msg(s->db, s->id, lo, NULL) : NULL; m;) {
        size_t n;
        const char *id = js_hdr_get(m->hdr, m->hdr_len, "Nats-Msg-Id", &n);
        if (id && n)
            dd_add(s, id, n, m->seq, m->ts);
        free(s->last_msg_id);
        s->last_msg_id = id && n ? strndup(id, n) : NULL;
        uint64_t next = m->seq + 1;
        js_msg_free(m);
        m = js_db_next_msg(s->db, s->id, next, NULL);
    }
}

static js_stream *stream_new(modnats_account *acc, js_cfg *cfg, uint64_t id, int64_t created)
{
    js_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->id = id;
    s->acc = acc;
    s->account = strdup(js_g.api->account_name(acc));
    s->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    s->created_ns = created;
    s->db = s->cfg.memory ? js_g.mdb : js_g.fdb;
    if (!s->account) {
        stream_free(s);
        return NULL;
    }
    return s;
}

js_stream *js_stream_create(modnats_account *acc, js_cfg *cfg)
{
    uint64_t id = js_db_new_id(js_g.fdb);
    js_stream *s = stream_new(acc, cfg, id, js_now_ns());
    if (!s)
        return NULL;
    s->state_dirty = true;
    if (subscribe_all(s) != 0 || list_add(s) != 0) {
        stream_free(s);
        return NULL;
    }
    persist_meta(s);
    origin_direct_refresh(s);
    return s;
}

int js_stream_update(js_stream *s, js_cfg *cfg)
{
    bool resub = cfg->allow_direct != s->cfg.allow_direct ||
                 cfg->mirror_direct != s->cfg.mirror_direct || cfg->nsubjects != s->cfg.nsubjects;
    for (size_t i = 0; !resub && i < cfg->nsubjects; i++)
        resub = strcmp(cfg->subjects[i], s->cfg.subjects[i]) != 0;
    js_cfg old = s->cfg;
    s->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    js_mirror_update(s, &old);    /* sources may have changed */
    js_cfg_free(&old);
    if (resub && subscribe_all(s) != 0)
        return -1;
    if (s->cfg.dup_window_ns <= 0)
        dd_free(s);
    persist_meta(s);
    enforce_all(s);
    return 0;
}

void js_stream_delete(js_stream *s)
{
    unsubscribe_all(s);
    js_db_drop_stream(s->db, s->id, s->account, s->cfg.name);
    list_remove(s);
    stream_free(s);
}

static void count_subjects(void *ud, const char *subj, uint64_t count)
{
    (void)subj;
    (void)count;
    (*(uint64_t *)ud)++;
}

static void load_one(void *ud, uint64_t id, const char *account, const char *name,
                     const char *config, int64_t created)
{
    int *rc = ud;
    json_error_t jerr;
    json_t *o = json_loads(config, 0, &jerr);
    js_cfg cfg;
    char err[300];
    if (!o || js_cfg_parse(o, &cfg, err, sizeof err) != 0) {
        js_log(MODNATS_LOG_ERROR, "stream %s > %s: stored configuration unreadable, skipped",
               account, name);
        json_decref(o);
        return;
    }
    json_decref(o);
    modnats_account *acc = js_g.api->account_get_or_create(account);
    js_stream *s = acc ? stream_new(acc, &cfg, id, created) : NULL;
    if (!s) {
        js_cfg_free(&cfg);
        *rc = -1;
        return;
    }
    js_db_get_state(s->db, id, &s->st);
    js_db_subjects_foreach(s->db, id, count_subjects, &s->nsubjects);
    rebuild_memory(s);
    js_consumers_load(s);
    if (subscribe_all(s) != 0 || list_add(s) != 0) {
        stream_free(s);
        *rc = -1;
        return;
    }
}

int js_streams_load(char *err, size_t errlen)
{
    int rc = 0;
    js_db_streams_foreach(js_g.fdb, load_one, &rc);
    for (size_t i = 0; rc == 0 && i < js_g.nstreams; i++)
        origin_direct_refresh(js_g.streams[i]);
    if (rc != 0)
        snprintf(err, errlen, "cannot load the stored streams (out of memory?)");
    return rc;
}

void js_streams_flush_state(void)
{
    for (size_t i = 0; i < js_g.nstreams; i++) {
        js_stream *s = js_g.streams[i];
        if (s->state_dirty) {
            js_db_put_state(s->db, s->id, &s->st);
            s->state_dirty = false;
        }
        js_consumers_flush_state(s);
    }
}

void js_streams_tick(int64_t now, int64_t *next_ns, bool *more)
{
    for (size_t i = 0; i < js_g.nstreams; i++)
        js_consumers_tick(js_g.streams[i], now, next_ns, more);
}

void js_streams_expire(int64_t now, int64_t *next_ns)
{
    int64_t next = 0;
    for (size_t i = 0; i < js_g.nstreams; i++) {
        js_stream *s = js_g.streams[i];
        if (s->cfg.dup_window_ns > 0)
            dd_expire(s, now);
        if (s->cfg.max_age_ns <= 0)
            continue;
        while (s->st.msgs && s->st.first_ts && s->st.first_ts <= now - s->cfg.max_age_ns)
            remove_first(s);
        if (s->st.msgs && s->st.first_ts) {
            int64_t at = s->st.first_ts + s->cfg.max_age_ns;
            if (!next || at < next)
                next = at;
        }
    }
    *next_ns = next;
}

/* ---- republish ---- */

char *js_subject_map(const char *src, const char *dest, const char *subj, size_t slen)
{
    if (!js_subject_match(src, subj, slen))
        return NULL;
    /* the tokens src's wildcards captured */
    const char *cap[32];
    size_t capl[32], ncap = 0;
    const char *rest = NULL;
    size_t restl = 0;
    const char *f = src, *t = subj, *te = subj + slen;
    while (*f && t <= te) {
        const char *fe = strchr(f, '.');
        size_t fl = fe ? (size_t)(fe - f) : strlen(f);
        const char *tn = memchr(t, '.', (size_t)(te - t));
        size_t tl = tn ? (size_t)(tn - t) : (size_t)(te - t);
        if (fl == 1 && *f == '>') {
            rest = t;
            restl = (size_t)(te - t);
            break;
        }
        if (fl == 1 && *f == '*' && ncap < 32) {
            cap[ncap] = t;
            capl[ncap++] = tl;
        }
        if (!fe || !tn)
            break;
        f = fe + 1;
        t = tn + 1;
    }
    size_t cap_out = strlen(dest) + slen + 64;
    char *out = malloc(cap_out), *w = out;
    if (!out)
        return NULL;
    size_t next = 0;
    for (const char *d = dest; *d;) {
        const char *de = strchr(d, '.');
        size_t dl = de ? (size_t)(de - d) : strlen(d);
        const char *tok = d;
        size_t tokl = dl;
        int n = -1;
        if (dl == 1 && *d == '*')
            n = (int)next++;
        else if (dl >= 2 && d[0] == '$')
            n = atoi(d + 1) - 1;
        else if (dl > 15 && !strncmp(d, "{{wildcard(", 11))
            n = atoi(d + 11) - 1;
        if (n >= 0 && (size_t)n < ncap) {
            tok = cap[n];
            tokl = capl[n];
        } else if (dl == 1 && *d == '>' && rest) {
            tok = rest;
            tokl = restl;
        }
        if ((size_t)(w - out) + tokl + 2 > cap_out) {
            free(out);
            return NULL;
        }
        memcpy(w, tok, tokl);
        w += tokl;
        if (!de)
            break;
        *w++ = '.';
        d = de + 1;
    }
    *w = 0;
    return out;
}

static void republish(js_stream *s, const js_job *j, uint64_t seq, uint64_t last)
{
    char *to = js_subject_map(s->cfg.rp_src, s->cfg.rp_dest, j->subject, j->subject_len);
    if (!to)
        return;
    size_t own = 0;
    const char *own_hdr = "";
    if (j->hdr_len >= 12) {    /* the message's header lines, after NATS/1.0 */
        const char *eol = memchr(j->hdr, '\n', j->hdr_len);
        if (eol) {
            own_hdr = eol + 1;
            own = j->hdr_len - (size_t)(own_hdr - j->hdr);
            if (own >= 2)
                own -= 2;
        }
    }
    size_t cap = own + j->subject_len + strlen(s->cfg.name) + 200;
    char *h = malloc(cap);
    if (h) {
        int n = snprintf(h, cap, "NATS/1.0\r\n%.*sNats-Stream: %s\r\nNats-Subject: %.*s\r\n"
                         "Nats-Sequence: %llu\r\nNats-Last-Sequence: %llu\r\n",
                         (int)own, own_hdr, s->cfg.name, (int)j->subject_len, j->subject,
                         (unsigned long long)seq, (unsigned long long)last);
        if (s->cfg.rp_headers_only)
            n += snprintf(h + n, cap - (size_t)n, "Nats-Msg-Size: %zu\r\n", j->data_len);
        n += snprintf(h + n, cap - (size_t)n, "\r\n");
        js_reply(s->acc, to, strlen(to), h, (size_t)n, s->cfg.rp_headers_only ? NULL : j->data,
                 s->cfg.rp_headers_only ? 0 : j->data_len, false);
    }
    free(h);
    free(to);
}

/* ---- the publish path ---- */

static void pub_error(js_stream *s, const js_job *j, int code, int err_code, const char *desc)
{
    if (!j->reply_len)
        return;
    json_t *o = json_object();
    json_t *e = json_object();
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "err_code", json_integer(err_code));
    json_object_set_new(e, "description", json_string(desc));
    json_object_set_new(o, "error", e);
    json_object_set_new(o, "stream", json_string(s->cfg.name));
    json_object_set_new(o, "seq", json_integer(0));
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (txt)
        js_reply(j->acc, j->reply, j->reply_len, NULL, 0, txt, strlen(txt), false);
    free(txt);
}

static void pub_ack(js_stream *s, const js_job *j, uint64_t seq, bool dup)
{
    if (!j->reply_len)
        return;
    /* nats-server writes this one by hand, spaces included */
    char buf[600];
    int n = snprintf(buf, sizeof buf, "{\"stream\":\"%s\", %s%s%s\"seq\":%llu%s}", s->cfg.name,
                     js_g.domain ? "\"domain\":\"" : "", js_g.domain ? js_g.domain : "",
                     js_g.domain ? "\", " : "", (unsigned long long)seq,
                     dup ? ",\"duplicate\": true" : "");
    if (n > 0 && (size_t)n < sizeof buf)
        js_reply(j->acc, j->reply, j->reply_len, NULL, 0, buf, (size_t)n, !dup);
}

static bool hdr_u64(const js_job *j, const char *name, uint64_t *out)
{
    size_t n;
    const char *v = js_hdr_get(j->hdr, j->hdr_len, name, &n);
    if (!v)
        return false;
    char buf[32];
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, v, n);
    buf[n] = 0;
    *out = strtoull(buf, NULL, 10);
    return true;
}

void js_stream_publish(js_stream *s, const js_job *j)
{
    const char *h = j->hdr;
    size_t hl = j->hdr_len, n;
    const char *v;
    char desc[300];

    if (s->cfg.sealed) {
        pub_error(s, j, 400, 10109, "invalid operation on sealed stream");
        return;
    }
    /* The duplicate window first: a duplicate is acknowledged as such. */
    const char *msgid = hl ? js_hdr_get(h, hl, "Nats-Msg-Id", &n) : NULL;
    size_t msgid_len = msgid ? n : 0;
    if (msgid_len && s->cfg.dup_window_ns > 0) {
        dd_expire(s, j->ts);
        js_dedup_ent *e = dd_find(s, msgid, msgid_len);
        if (e) {
            pub_ack(s, j, e->seq, true);
            return;
        }
    }
    if (hl) {
        if ((v = js_hdr_get(h, hl, "Nats-Expected-Stream", &n)) &&
            (strlen(s->cfg.name) != n || memcmp(v, s->cfg.name, n) != 0)) {
            pub_error(s, j, 400, 10060, "expected stream does not match");
            return;
        }
        uint64_t want;
        if (hdr_u64(j, "Nats-Expected-Last-Sequence", &want) && want != s->st.last_seq) {
            snprintf(desc, sizeof desc, "wrong last sequence: %llu",
                     (unsigned long long)s->st.last_seq);
            pub_error(s, j, 400, 10071, desc);
            return;
        }
        if ((v = js_hdr_get(h, hl, "Nats-Expected-Last-Msg-Id", &n))) {
            const char *last = s->last_msg_id ? s->last_msg_id : "";
            if (strlen(last) != n || memcmp(v, last, n) != 0) {
                snprintf(desc, sizeof desc, "wrong last msg ID: %s", last);
                pub_error(s, j, 400, 10070, desc);
                return;
            }
        }
        if (hdr_u64(j, "Nats-Expected-Last-Subject-Sequence", &want)) {
            uint64_t last = js_db_last_seq_by_subject(s->db, s->id, j->subject, j->subject_len);
            if (want != last) {
                snprintf(desc, sizeof desc, "wrong last sequence: %llu",
                         (unsigned long long)last);
                pub_error(s, j, 400, 10071, desc);
                return;
            }
        }
    }
    const char *rollup = hl ? js_hdr_get(h, hl, "Nats-Rollup", &n) : NULL;
    size_t rollup_len = rollup ? n : 0;
    if (rollup) {
        if (!s->cfg.allow_rollup || s->cfg.deny_purge) {
            pub_error(s, j, 500, 10111, "rollup not permitted");
            return;
        }
        if (!(rollup_len == 3 && (!memcmp(rollup, "sub", 3) || !memcmp(rollup, "all", 3)))) {
            snprintf(desc, sizeof desc, "rollup value invalid: %.*s", (int)rollup_len, rollup);
            pub_error(s, j, 500, 10111, desc);
            return;
        }
    }
    if (s->cfg.max_msg_size >= 0 && (int64_t)(hl + j->data_len) > s->cfg.max_msg_size) {
        pub_error(s, j, 400, 10054, "message size exceeds maximum allowed");
        return;
    }
    uint64_t sz = js_msg_size(s, j->subject_len, hl, j->data_len);
    int64_t limit = s->cfg.memory ? js_g.max_mem : js_g.max_file;
    if (limit >= 0) {
        uint64_t used = 0;
        for (size_t i = 0; i < js_g.nstreams; i++)
            if (js_g.streams[i]->cfg.memory == s->cfg.memory)
                used += js_g.streams[i]->st.bytes;
        if (used + sz > (uint64_t)limit) {
            pub_error(s, j, 503, 10023, "insufficient resources");
            return;
        }
    }
    if (!js_acct_room(s, sz)) {    /* the account's max_memory / max_storage */
        pub_error(s, j, 400, 10002, "resource limits exceeded for account");
        return;
    }
    if (s->cfg.discard_new) {
        if (s->cfg.max_msgs > 0 && s->st.msgs >= (uint64_t)s->cfg.max_msgs) {
            pub_error(s, j, 503, 10077, "maximum messages exceeded");
            return;
        }
        if (s->cfg.max_bytes > 0 && s->st.bytes + sz > (uint64_t)s->cfg.max_bytes) {
            pub_error(s, j, 503, 10077, "maximum bytes exceeded");
            return;
        }
        if (s->cfg.discard_new_per_subject && s->cfg.max_msgs_per_subject > 0 &&
            js_db_subject_count(s->db, s->id, j->subject, j->subject_len) >=
                (uint64_t)s->cfg.max_msgs_per_subject) {
            pub_error(s, j, 503, 10077, "maximum messages per subject exceeded");
            return;
        }
    }

    uint64_t seq = s->st.last_seq + 1;
    /* republish names the subject's previous message (nats-server) */
    uint64_t prev_last = s->cfg.rp_dest
        ? js_db_last_seq_by_subject(s->db, s->id, j->subject, j->subject_len) : 0;
    js_db_put_msg(s->db, s->id, seq, j->ts, j->subject, j->subject_len, hl ? h : NULL, hl,
                  j->data, j->data_len);
    if (js_db_subject_count(s->db, s->id, j->subject, j->subject_len) == 1)
        s->nsubjects++;
    if (!s->st.msgs) {
        s->st.first_seq = seq;
        s->st.first_ts = j->ts;
    }
    s->st.last_seq = seq;
    s->st.last_ts = j->ts;
    s->st.msgs++;
    s->st.bytes += sz;
    s->state_dirty = true;
    js_consumers_on_store(s, seq, j->subject, j->subject_len);
    js_mirror_on_store(s);
    free(s->last_msg_id);
    s->last_msg_id = msgid_len ? strndup(msgid, msgid_len) : NULL;
    if (msgid_len)
        dd_add(s, msgid, msgid_len, seq, j->ts);
    if (rollup) {
        if (rollup[0] == 's') {
            for (uint64_t f; (f = js_db_first_seq_by_subject(s->db, s->id, j->subject,
                                                             j->subject_len, 0)) &&
                             f < seq;)
                js_stream_remove(s, f);
        } else {
            while (s->st.msgs > 1 && s->st.first_seq < seq)
                remove_first(s);
        }
    }
    enforce_per_subject(s, j->subject, j->subject_len);
    enforce_limits(s);
    pub_ack(s, j, seq, false);
    if (s->cfg.rp_dest)
        republish(s, j, seq, prev_last);
    /* interest retention: nobody to keep it for (as nats-server: stored,
     * acknowledged, gone) */
    if (s->cfg.retention == 1 && !js_consumers_interested(s, j->subject, j->subject_len))
        js_stream_remove(s, seq);
}

/* ---- mirrors and sources (js_mirror.c) ---- */

void js_stream_store_copy(js_stream *s, uint64_t seq, int64_t ts, const char *subj, size_t slen,
                          const char *hdr, size_t hlen, const char *data, size_t dlen)
{
    /* a source's message goes through the duplicate window (a mirror has none) */
    size_t idn = 0;
    const char *id = hlen && s->cfg.dup_window_ns > 0
                         ? js_hdr_get(hdr, hlen, "Nats-Msg-Id", &idn) : NULL;
    if (id && idn) {
        dd_expire(s, ts);
        if (dd_find(s, id, idn))
            return;
    }
    if (!seq || seq <= s->st.last_seq)
        seq = s->st.last_seq + 1;
    js_db_put_msg(s->db, s->id, seq, ts, subj, slen, hlen ? hdr : NULL, hlen, data, dlen);
    if (js_db_subject_count(s->db, s->id, subj, slen) == 1)
        s->nsubjects++;
    if (!s->st.msgs) {
        s->st.first_seq = seq;
        s->st.first_ts = ts;
    }
    s->st.last_seq = seq;
    s->st.last_ts = ts;
    s->st.msgs++;
    s->st.bytes += js_msg_size(s, slen, hlen, dlen);
    s->state_dirty = true;
    if (s->cfg.dup_window_ns > 0) {    /* a source's copy: as a publish */
        free(s->last_msg_id);
        s->last_msg_id = id && idn ? strndup(id, idn) : NULL;
        if (id && idn)
            dd_add(s, id, idn, seq, ts);
    }
    js_consumers_on_store(s, seq, subj, slen);
    js_mirror_on_store(s);
    enforce_per_subject(s, subj, slen);
    enforce_limits(s);
    if (s->cfg.retention == 1 && !js_consumers_interested(s, subj, slen))
        js_stream_remove(s, seq);
}
