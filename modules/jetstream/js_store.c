/*
 * js_store.c - streams and messages in RocksDB, with the key layout of
 * docs/adr-001-jetstream-storage.md: one column family per kind of record,
 * every key led by the stream id (8 bytes, big-endian) so a stream is one
 * key range per family.
 *
 * Writes collect in a WriteBatchWithIndex; reads merge it with the
 * database, so the JetStream thread sees its own uncommitted writes while
 * it builds a group commit.
 */
#include "js_store.h"

#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CF_DEFAULT, CF_META, CF_MSGS, CF_SUBJ, CF_PSC, CF_STATE, CF_CMETA, CF_CSTATE, CF__COUNT };
static const char *const cf_names[CF__COUNT] = {"default", "meta", "msgs", "subj", "psc",
                                                "state", "cmeta", "cstate"};

struct js_db {
    rocksdb_t                      *db;
    rocksdb_options_t              *opts;
    rocksdb_env_t                  *env;       /* the MemEnv of a memory db */
    rocksdb_column_family_handle_t *cf[CF__COUNT];
    /* Every pending write goes into pb, the batch js_db_commit writes.
     * The small families (meta, state, psc, cmeta, cstate) are also put
     * into wb, an indexed batch used only to read them back before the
     * commit; messages and their subject index, the bulk, are read back
     * from the overlay below (hash lookups, sorted seq lists), which is
     * far cheaper per message than an indexed batch. */
    rocksdb_writebatch_t           *pb;
    rocksdb_writebatch_wi_t        *wb;
    struct pmsg                   **pm_tab;  size_t pm_cap, pm_n;   /* (id, seq) -> msg */
    struct psub                   **ps_tab;  size_t ps_cap, ps_n;   /* (id, subject) -> seqs */
    struct pstream                 *pst;     size_t npst;           /* id -> seqs */
    rocksdb_readoptions_t          *ro;
    rocksdb_writeoptions_t         *wo_sync, *wo_nosync;
    bool                            memory;
    /* Per-subject counts changed since the last commit: a hash of psc key
     * -> count, written into the batch once per commit instead of a
     * read-modify-write of the batch per message. */
    struct psc_ent                **psc_tab;
    size_t                          psc_cap, psc_n;
};

typedef struct seqvec { uint64_t *v; size_t n, cap; } seqvec;

/* A message written or deleted since the last commit. */
typedef struct pmsg {
    struct pmsg *next;
    uint64_t     id, seq;
    char        *val;  size_t vlen;     /* the msgs value; NULL when deleted */
} pmsg;

/* The pending seqs of one subject of one stream, ascending. */
typedef struct psub {
    struct psub *next;
    uint64_t     id;
    seqvec       seqs;
    size_t       slen;
    char         subj[];
} psub;

typedef struct pstream { uint64_t id; seqvec seqs; } pstream;

typedef struct psc_ent {
    struct psc_ent *next;
    uint64_t        count;
    size_t          klen;
    char            key[];
} psc_ent;

/* ---- keys ---- */

static void put_be64(char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (char)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | (unsigned char)p[i];
    return v;
}

/* id + seq */
static void key_msg(char k[16], uint64_t id, uint64_t seq)
{
    put_be64(k, id);
    put_be64(k + 8, seq);
}

/* id + subject + 0 + seq: malloc'd, length in *len. */
static char *key_subj(uint64_t id, const char *subj, size_t slen, uint64_t seq, size_t *len)
{
    char *k = malloc(8 + slen + 1 + 8);
    if (!k)
        abort();
    put_be64(k, id);
    memcpy(k + 8, subj, slen);
    k[8 + slen] = 0;
    put_be64(k + 9 + slen, seq);
    *len = 8 + slen + 1 + 8;
    return k;
}

static char *key_meta(const char *account, const char *name, size_t *len)
{
    size_t la = strlen(account), ln = strlen(name);
    char *k = malloc(1 + la + 1 + ln);
    if (!k)
        abort();
    k[0] = 'S';
    memcpy(k + 1, account, la);
    k[1 + la] = 0;
    memcpy(k + 2 + la, name, ln);
    *len = 2 + la + ln;
    return k;
}

/* ---- open / close / commit ---- */

js_db *js_db_open(const char *dir, bool memory, char *err, size_t errlen)
{
    js_db *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->memory = memory;
    d->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(d->opts, 1);
    rocksdb_options_set_create_missing_column_families(d->opts, 1);
    rocksdb_options_set_paranoid_checks(d->opts, 1);
    rocksdb_options_set_max_background_jobs(d->opts, 2);
    rocksdb_options_set_keep_log_file_num(d->opts, 3);
    rocksdb_options_set_info_log_level(d->opts, 3 /* ERROR */);
    if (memory) {
        d->env = rocksdb_create_mem_env();
        rocksdb_options_set_env(d->opts, d->env);
    }
    const rocksdb_options_t *cfo[CF__COUNT];
    for (int i = 0; i < CF__COUNT; i++)
        cfo[i] = d->opts;
    char *e = NULL;
    d->db = rocksdb_open_column_families(d->opts, dir, CF__COUNT, cf_names, cfo, d->cf, &e);
    if (e || !d->db) {
        snprintf(err, errlen, "cannot open the JetStream store %s: %s", dir, e ? e : "?");
        free(e);
        d->db = NULL;
        js_db_close(d);
        return NULL;
    }
    d->wb = rocksdb_writebatch_wi_create(0, 1);
    d->pb = rocksdb_writebatch_create();
    d->ro = rocksdb_readoptions_create();
    d->wo_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(d->wo_sync, 1);
    d->wo_nosync = rocksdb_writeoptions_create();
    if (memory)
        rocksdb_writeoptions_disable_WAL(d->wo_nosync, 1);
    return d;
}

static void psc_drop(js_db *d);
static void overlay_clear(js_db *d);

void js_db_close(js_db *d)
{
    if (!d)
        return;
    psc_drop(d);
    overlay_clear(d);
    free(d->pm_tab);
    free(d->ps_tab);
    free(d->pst);
    if (d->pb)
        rocksdb_writebatch_destroy(d->pb);
    if (d->wb)
        rocksdb_writebatch_wi_destroy(d->wb);
    if (d->db) {
        for (int i = 0; i < CF__COUNT; i++)
            if (d->cf[i])
                rocksdb_column_family_handle_destroy(d->cf[i]);
        rocksdb_close(d->db);
    }
    if (d->ro)
        rocksdb_readoptions_destroy(d->ro);
    if (d->wo_sync)
        rocksdb_writeoptions_destroy(d->wo_sync);
    if (d->wo_nosync)
        rocksdb_writeoptions_destroy(d->wo_nosync);
    rocksdb_options_destroy(d->opts);
    if (d->env)
        rocksdb_env_destroy(d->env);
    free(d);
}

bool js_db_pending(const js_db *d)
{
    return rocksdb_writebatch_count(d->pb) > 0;
}

static void psc_flush(js_db *d);

int js_db_commit(js_db *d, bool sync, char *err, size_t errlen)
{
    psc_flush(d);
    if (!js_db_pending(d))
        return 0;
    char *e = NULL;
    rocksdb_write(d->db, sync && !d->memory ? d->wo_sync : d->wo_nosync, d->pb, &e);
    rocksdb_writebatch_clear(d->pb);
    rocksdb_writebatch_wi_clear(d->wb);
    overlay_clear(d);
    if (e) {
        snprintf(err, errlen, "%s", e);
        free(e);
        return -1;
    }
    return 0;
}

int js_db_sync_wal(js_db *d)
{
    if (d->memory)
        return 0;
    char *e = NULL;
    rocksdb_flush_wal(d->db, 1, &e);
    if (e) {
        free(e);
        return -1;
    }
    return 0;
}

/* ---- small helpers over the batch + db ---- */

/* The value of key in family cf (batch first, then db); NULL if absent. */
static char *get(js_db *d, int cf, const char *k, size_t klen, size_t *vlen)
{
    char *e = NULL;
    char *v = rocksdb_writebatch_wi_get_from_batch_and_db_cf(d->wb, d->db, d->ro, d->cf[cf], k,
                                                             klen, vlen, &e);
    if (e) {
        free(e);
        return NULL;
    }
    return v;
}

static rocksdb_iterator_t *iter(js_db *d, int cf)
{
    rocksdb_iterator_t *base = rocksdb_create_iterator_cf(d->db, d->ro, d->cf[cf]);
    return rocksdb_writebatch_wi_create_iterator_with_base_cf(d->wb, base, d->cf[cf]);
}

/* A write to a small family: into the commit batch and the read index. */
static void small_put(js_db *d, int cf, const char *k, size_t klen, const char *v, size_t vlen)
{
    rocksdb_writebatch_put_cf(d->pb, d->cf[cf], k, klen, v, vlen);
    rocksdb_writebatch_wi_put_cf(d->wb, d->cf[cf], k, klen, v, vlen);
}

static void small_del(js_db *d, int cf, const char *k, size_t klen)
{
    rocksdb_writebatch_delete_cf(d->pb, d->cf[cf], k, klen);
    rocksdb_writebatch_wi_delete_cf(d->wb, d->cf[cf], k, klen);
}

/* ---- streams ---- */

uint64_t js_db_new_id(js_db *d)
{
    size_t vlen = 0;
    char *v = get(d, CF_META, "N", 1, &vlen);
    uint64_t id = v && vlen == 8 ? get_be64(v) : 1;
    free(v);
    char nv[8];
    put_be64(nv, id + 1);
    small_put(d, CF_META, "N", 1, nv, 8);
    return id;
}

void js_db_put_stream(js_db *d, uint64_t id, const char *account, const char *name,
                      const char *config, int64_t created_ns)
{
    size_t klen, clen = strlen(config);
    char *k = key_meta(account, name, &klen);
    char *v = malloc(16 + clen);
    if (!v)
        abort();
    put_be64(v, id);
    put_be64(v + 8, (uint64_t)created_ns);
    memcpy(v + 16, config, clen);
    small_put(d, CF_META, k, klen, v, 16 + clen);
    free(k);
    free(v);
}

/* Commit what is pending, then range-delete the stream's keys in the
 * families from..to (range deletes cannot go through a
 * WriteBatchWithIndex). */
static int drop_ranges(js_db *d, uint64_t id, int from, int to)
{
    char err[256];
    if (js_db_commit(d, true, err, sizeof err) != 0)
        return -1;
    char lo[8], hi[8];
    put_be64(lo, id);
    put_be64(hi, id + 1);
    char *e = NULL;
    rocksdb_writebatch_t *b = rocksdb_writebatch_create();
    for (int cf = from; cf <= to; cf++)
        if (cf != CF_STATE)
            rocksdb_writebatch_delete_range_cf(b, d->cf[cf], lo, 8, hi, 8);
    rocksdb_write(d->db, d->memory ? d->wo_nosync : d->wo_sync, b, &e);
    rocksdb_writebatch_destroy(b);
    if (e) {
        free(e);
        return -1;
    }
    return 0;
}

int js_db_drop_stream(js_db *d, uint64_t id, const char *account, const char *name)
{
    size_t klen;
    char *k = key_meta(account, name, &klen);
    small_del(d, CF_META, k, klen);
    free(k);
    char idk[8];
    put_be64(idk, id);
    small_del(d, CF_STATE, idk, 8);
    return drop_ranges(d, id, CF_MSGS, CF__COUNT - 1);
}

int js_db_purge_msgs(js_db *d, uint64_t id)
{
    return drop_ranges(d, id, CF_MSGS, CF_PSC);
}

int js_db_streams_foreach(js_db *d, js_stream_fn fn, void *ud)
{
    rocksdb_iterator_t *it = iter(d, CF_META);
    for (rocksdb_iter_seek(it, "S", 1); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it, &klen);
        const char *v = rocksdb_iter_value(it, &vlen);
        if (klen < 2 || k[0] != 'S')
            break;
        const char *sep = memchr(k + 1, 0, klen - 1);
        if (!sep || vlen < 16)
            continue;
        char *acc = strndup(k + 1, (size_t)(sep - (k + 1)));
        char *name = strndup(sep + 1, klen - (size_t)(sep + 1 - k));
        char *cfg = strndup(v + 16, vlen - 16);
        if (acc && name && cfg)
            fn(ud, get_be64(v), acc, name, cfg, (int64_t)get_be64(v + 8));
        free(acc);
        free(name);
        free(cfg);
    }
    rocksdb_iter_destroy(it);
    return 0;
}

bool js_db_get_state(js_db *d, uint64_t id, js_state *out)
{
    char k[8];
    put_be64(k, id);
    size_t vlen = 0;
    char *v = get(d, CF_STATE, k, 8, &vlen);
    memset(out, 0, sizeof *out);
    if (!v || vlen != 48) {
        free(v);
        return false;
    }
    out->first_seq = get_be64(v);
    out->last_seq = get_be64(v + 8);
    out->msgs = get_be64(v + 16);
    out->bytes = get_be64(v + 24);
    out->first_ts = (int64_t)get_be64(v + 32);
    out->last_ts = (int64_t)get_be64(v + 40);
    free(v);
    return true;
}

void js_db_put_state(js_db *d, uint64_t id, const js_state *st)
{
    char k[8], v[48];
    put_be64(k, id);
    put_be64(v, st->first_seq);
    put_be64(v + 8, st->last_seq);
    put_be64(v + 16, st->msgs);
    put_be64(v + 24, st->bytes);
    put_be64(v + 32, (uint64_t)st->first_ts);
    put_be64(v + 40, (uint64_t)st->last_ts);
    small_put(d, CF_STATE, k, 8, v, 48);
}

/* ---- consumers ---- */

static char *key_cons(uint64_t id, const char *name, size_t *len)
{
    size_t n = strlen(name);
    char *k = malloc(8 + n);
    if (!k)
        abort();
    put_be64(k, id);
    memcpy(k + 8, name, n);
    *len = 8 + n;
    return k;
}

void js_db_put_consumer(js_db *d, uint64_t id, const char *name, const char *config,
                        int64_t created_ns)
{
    size_t klen, clen = strlen(config);
    char *k = key_cons(id, name, &klen);
    char *v = malloc(8 + clen);
    if (!v)
        abort();
    put_be64(v, (uint64_t)created_ns);
    memcpy(v + 8, config, clen);
    small_put(d, CF_CMETA, k, klen, v, 8 + clen);
    free(k);
    free(v);
}

void js_db_del_consumer(js_db *d, uint64_t id, const char *name)
{
    size_t klen;
    char *k = key_cons(id, name, &klen);
    small_del(d, CF_CMETA, k, klen);
    small_del(d, CF_CSTATE, k, klen);
    free(k);
}

int js_db_consumers_foreach(js_db *d, uint64_t id, js_consumer_fn fn, void *ud)
{
    char k[8];
    put_be64(k, id);
    rocksdb_iterator_t *it = iter(d, CF_CMETA);
    for (rocksdb_iter_seek(it, k, 8); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *ik = rocksdb_iter_key(it, &klen);
        if (klen < 8 || get_be64(ik) != id)
            break;
        const char *v = rocksdb_iter_value(it, &vlen);
        if (vlen < 8)
            continue;
        char *name = strndup(ik + 8, klen - 8);
        char *cfg = strndup(v + 8, vlen - 8);
        if (name && cfg)
            fn(ud, name, cfg, (int64_t)get_be64(v));
        free(name);
        free(cfg);
    }
    rocksdb_iter_destroy(it);
    return 0;
}

void js_db_put_cstate(js_db *d, uint64_t id, const char *name, const void *blob, size_t len)
{
    size_t klen;
    char *k = key_cons(id, name, &klen);
    small_put(d, CF_CSTATE, k, klen, blob, len);
    free(k);
}

void *js_db_get_cstate(js_db *d, uint64_t id, const char *name, size_t *len)
{
    size_t klen;
    char *k = key_cons(id, name, &klen);
    char *v = get(d, CF_CSTATE, k, klen, len);
    free(k);
    return v;
}

/* ---- messages ---- */

void js_msg_free(js_msg *m)
{
    if (m) {
        free(m->buf);
        free(m);
    }
}

/* Decode a msgs value: ts(8) slen(2) hlen(4) subject hdr data. */
static js_msg *decode(uint64_t seq, const char *v, size_t vlen)
{
    if (vlen < 14)
        return NULL;
    size_t slen = ((size_t)(unsigned char)v[8] << 8) | (unsigned char)v[9];
    size_t hlen = ((size_t)(unsigned char)v[10] << 24) | ((size_t)(unsigned char)v[11] << 16) |
                  ((size_t)(unsigned char)v[12] << 8) | (unsigned char)v[13];
    if (14 + slen + hlen > vlen)
        return NULL;
    js_msg *m = calloc(1, sizeof *m);
    if (!m || !(m->buf = malloc(vlen - 14 + 1))) {
        free(m);
        return NULL;
    }
    memcpy(m->buf, v + 14, vlen - 14);
    m->buf[vlen - 14] = 0;
    m->seq = seq;
    m->ts = (int64_t)get_be64(v);
    m->subject = m->buf;
    m->subject_len = slen;
    m->hdr = m->buf + slen;
    m->hdr_len = hlen;
    m->data = m->buf + slen + hlen;
    m->data_len = vlen - 14 - slen - hlen;
    return m;
}

static uint64_t psc_hash(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    return h;
}

static psc_ent *psc_find(js_db *d, const char *k, size_t klen)
{
    if (!d->psc_cap)
        return NULL;
    for (psc_ent *e = d->psc_tab[psc_hash(k, klen) & (d->psc_cap - 1)]; e; e = e->next)
        if (e->klen == klen && !memcmp(e->key, k, klen))
            return e;
    return NULL;
}

static void psc_drop(js_db *d)
{
    for (size_t i = 0; i < d->psc_cap; i++) {
        while (d->psc_tab[i]) {
            psc_ent *e = d->psc_tab[i];
            d->psc_tab[i] = e->next;
            free(e);
        }
    }
    free(d->psc_tab);
    d->psc_tab = NULL;
    d->psc_cap = d->psc_n = 0;
}

/* Write the changed counts into the batch (0: the key goes). */
static void psc_flush(js_db *d)
{
    for (size_t i = 0; i < d->psc_cap && d->psc_n; i++) {
        for (psc_ent *e = d->psc_tab[i]; e; e = e->next) {
            if (!e->count) {
                small_del(d, CF_PSC, e->key, e->klen);
            } else {
                char nv[8];
                put_be64(nv, e->count);
                small_put(d, CF_PSC, e->key, e->klen, nv, 8);
            }
        }
    }
    psc_drop(d);
}

static void psc_add(js_db *d, uint64_t id, const char *subj, size_t slen, int64_t delta)
{
    size_t klen = 8 + slen;
    char kb[8 + 256], *k = klen <= sizeof kb ? kb : malloc(klen);
    if (!k)
        abort();
    put_be64(k, id);
    memcpy(k + 8, subj, slen);
    psc_ent *e = psc_find(d, k, klen);
    if (!e) {
        if (d->psc_n + 1 > d->psc_cap / 2) {
            size_t cap = d->psc_cap ? d->psc_cap * 2 : 256;
            psc_ent **t = calloc(cap, sizeof *t);
            if (!t)
                abort();
            for (size_t i = 0; i < d->psc_cap; i++) {
                while (d->psc_tab[i]) {
                    psc_ent *x = d->psc_tab[i];
                    d->psc_tab[i] = x->next;
                    size_t b = psc_hash(x->key, x->klen) & (cap - 1);
                    x->next = t[b];
                    t[b] = x;
                }
            }
            free(d->psc_tab);
            d->psc_tab = t;
            d->psc_cap = cap;
        }
        if (!(e = malloc(sizeof *e + klen)))
            abort();
        size_t vlen = 0;
        char *v = get(d, CF_PSC, k, klen, &vlen);
        e->count = v && vlen == 8 ? get_be64(v) : 0;
        free(v);
        e->klen = klen;
        memcpy(e->key, k, klen);
        size_t b = psc_hash(k, klen) & (d->psc_cap - 1);
        e->next = d->psc_tab[b];
        d->psc_tab[b] = e;
        d->psc_n++;
    }
    if (delta < 0 && e->count < (uint64_t)-delta)
        e->count = 0;
    else
        e->count = (uint64_t)((int64_t)e->count + delta);
    if (k != kb)
        free(k);
}

/* ---- the overlay of pending messages ---- */

static uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull + (a << 6) + (a >> 2));
    h ^= h >> 29;
    return h * 0xbf58476d1ce4e5b9ull;
}

static void seq_insert(seqvec *v, uint64_t seq)
{
    if (v->n && v->v[v->n - 1] == seq)
        return;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        uint64_t *n = realloc(v->v, cap * sizeof *n);
        if (!n)
            abort();
        v->v = n;
        v->cap = cap;
    }
    size_t i = v->n;
    if (!v->n || v->v[v->n - 1] < seq) {    /* the usual case: a new last seq */
        v->v[v->n++] = seq;
        return;
    }
    while (i > 0 && v->v[i - 1] > seq)
        i--;
    if (i > 0 && v->v[i - 1] == seq)
        return;
    memmove(&v->v[i + 1], &v->v[i], (v->n - i) * sizeof *v->v);
    v->v[i] = seq;
    v->n++;
}

/* First index with v[i] >= seq. */
static size_t seq_lower(const seqvec *v, uint64_t seq)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->v[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static pmsg *pm_find(js_db *d, uint64_t id, uint64_t seq)
{
    if (!d->pm_cap)
        return NULL;
    for (pmsg *e = d->pm_tab[mix(id, seq) & (d->pm_cap - 1)]; e; e = e->next)
        if (e->id == id && e->seq == seq)
            return e;
    return NULL;
}

static pmsg *pm_get(js_db *d, uint64_t id, uint64_t seq)
{
    pmsg *e = pm_find(d, id, seq);
    if (e)
        return e;
    if (d->pm_n + 1 > d->pm_cap / 2) {
        size_t cap = d->pm_cap ? d->pm_cap * 2 : 1024;
        pmsg **t = calloc(cap, sizeof *t);
        if (!t)
            abort();
        for (size_t i = 0; i < d->pm_cap; i++) {
            while (d->pm_tab[i]) {
                pmsg *x = d->pm_tab[i];
                d->pm_tab[i] = x->next;
                size_t b = mix(x->id, x->seq) & (cap - 1);
                x->next = t[b];
                t[b] = x;
            }
        }
        free(d->pm_tab);
        d->pm_tab = t;
        d->pm_cap = cap;
    }
    if (!(e = calloc(1, sizeof *e)))
        abort();
    e->id = id;
    e->seq = seq;
    size_t b = mix(id, seq) & (d->pm_cap - 1);
    e->next = d->pm_tab[b];
    d->pm_tab[b] = e;
    d->pm_n++;
    return e;
}

static psub *ps_get(js_db *d, uint64_t id, const char *subj, size_t slen, bool create)
{
    uint64_t h = mix(id, psc_hash(subj, slen));
    if (d->ps_cap) {
        for (psub *e = d->ps_tab[h & (d->ps_cap - 1)]; e; e = e->next)
            if (e->id == id && e->slen == slen && !memcmp(e->subj, subj, slen))
                return e;
    }
    if (!create)
        return NULL;
    if (d->ps_n + 1 > d->ps_cap / 2) {
        size_t cap = d->ps_cap ? d->ps_cap * 2 : 256;
        psub **t = calloc(cap, sizeof *t);
        if (!t)
            abort();
        for (size_t i = 0; i < d->ps_cap; i++) {
            while (d->ps_tab[i]) {
                psub *x = d->ps_tab[i];
                d->ps_tab[i] = x->next;
                size_t b = mix(x->id, psc_hash(x->subj, x->slen)) & (cap - 1);
                x->next = t[b];
                t[b] = x;
            }
        }
        free(d->ps_tab);
        d->ps_tab = t;
        d->ps_cap = cap;
    }
    psub *e = calloc(1, sizeof *e + slen + 1);
    if (!e)
        abort();
    e->id = id;
    e->slen = slen;
    memcpy(e->subj, subj, slen);
    size_t b = h & (d->ps_cap - 1);
    e->next = d->ps_tab[b];
    d->ps_tab[b] = e;
    d->ps_n++;
    return e;
}

static seqvec *pst_get(js_db *d, uint64_t id, bool create)
{
    for (size_t i = 0; i < d->npst; i++)
        if (d->pst[i].id == id)
            return &d->pst[i].seqs;
    if (!create)
        return NULL;
    pstream *v = realloc(d->pst, (d->npst + 1) * sizeof *v);
    if (!v)
        abort();
    d->pst = v;
    memset(&v[d->npst], 0, sizeof v[d->npst]);
    v[d->npst].id = id;
    return &v[d->npst++].seqs;
}

static void overlay_clear(js_db *d)
{
    for (size_t i = 0; i < d->pm_cap; i++) {
        while (d->pm_tab[i]) {
            pmsg *x = d->pm_tab[i];
            d->pm_tab[i] = x->next;
            free(x->val);
            free(x);
        }
    }
    d->pm_n = 0;
    for (size_t i = 0; i < d->ps_cap; i++) {
        while (d->ps_tab[i]) {
            psub *x = d->ps_tab[i];
            d->ps_tab[i] = x->next;
            free(x->seqs.v);
            free(x);
        }
    }
    d->ps_n = 0;
    for (size_t i = 0; i < d->npst; i++)
        free(d->pst[i].seqs.v);
    d->npst = 0;
}

void js_db_put_msg(js_db *d, uint64_t id, uint64_t seq, int64_t ts, const char *subj,
                   size_t slen, const char *hdr, size_t hlen, const char *data, size_t dlen)
{
    size_t vlen = 14 + slen + hlen + dlen;
    char *v = malloc(vlen);
    if (!v)
        abort();
    put_be64(v, (uint64_t)ts);
    v[8] = (char)(slen >> 8);
    v[9] = (char)slen;
    v[10] = (char)(hlen >> 24);
    v[11] = (char)(hlen >> 16);
    v[12] = (char)(hlen >> 8);
    v[13] = (char)hlen;
    memcpy(v + 14, subj, slen);
    if (hlen)
        memcpy(v + 14 + slen, hdr, hlen);
    if (dlen)
        memcpy(v + 14 + slen + hlen, data, dlen);
    char k[16];
    key_msg(k, id, seq);
    rocksdb_writebatch_put_cf(d->pb, d->cf[CF_MSGS], k, 16, v, vlen);
    size_t sklen;
    char *sk = key_subj(id, subj, slen, seq, &sklen);
    rocksdb_writebatch_put_cf(d->pb, d->cf[CF_SUBJ], sk, sklen, "", 0);
    free(sk);
    pmsg *e = pm_get(d, id, seq);
    free(e->val);
    e->val = v;        /* the overlay keeps the value */
    e->vlen = vlen;
    seq_insert(pst_get(d, id, true), seq);
    seq_insert(&ps_get(d, id, subj, slen, true)->seqs, seq);
    psc_add(d, id, subj, slen, 1);
}

/* The value of (id, seq): overlay first, then the database.  *deleted:
 * the overlay says it is gone.  Returns a malloc'd copy or NULL. */
static char *msg_value(js_db *d, uint64_t id, uint64_t seq, size_t *vlen)
{
    pmsg *e = pm_find(d, id, seq);
    if (e) {
        if (!e->val)
            return NULL;
        char *v = malloc(e->vlen ? e->vlen : 1);
        if (!v)
            abort();
        memcpy(v, e->val, e->vlen);
        *vlen = e->vlen;
        return v;
    }
    char k[16];
    key_msg(k, id, seq);
    return get(d, CF_MSGS, k, 16, vlen);
}

js_msg *js_db_get_msg(js_db *d, uint64_t id, uint64_t seq)
{
    size_t vlen = 0;
    char *v = msg_value(d, id, seq, &vlen);
    if (!v)
        return NULL;
    js_msg *m = decode(seq, v, vlen);
    free(v);
    return m;
}

static bool has_wildcard(const char *f)
{
    for (const char *p = f; *p; p++)
        if ((*p == '*' || *p == '>') && (p == f || p[-1] == '.') && (!p[1] || p[1] == '.'))
            return true;
    return false;
}

static bool value_matches(const char *v, size_t vlen, const char *filter)
{
    if (!filter)
        return true;
    if (vlen < 14)
        return false;
    size_t slen = ((size_t)(unsigned char)v[8] << 8) | (unsigned char)v[9];
    return 14 + slen <= vlen && js_subject_match(filter, v + 14, slen);
}

js_msg *js_db_next_msg(js_db *d, uint64_t id, uint64_t from, const char *filter)
{
    if (filter && !*filter)
        filter = NULL;
    if (filter && !has_wildcard(filter)) {
        uint64_t seq = js_db_first_seq_by_subject(d, id, filter, strlen(filter), from);
        return seq ? js_db_get_msg(d, id, seq) : NULL;
    }
    if (filter && !strcmp(filter, ">"))
        filter = NULL;
    /* the first match in the database (what the overlay deleted skipped)... */
    js_msg *m = NULL;
    rocksdb_iterator_t *it = iter(d, CF_MSGS);
    char k[16];
    key_msg(k, id, from);
    for (rocksdb_iter_seek(it, k, 16); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *ik = rocksdb_iter_key(it, &klen);
        if (klen != 16 || get_be64(ik) != id)
            break;
        uint64_t seq = get_be64(ik + 8);
        pmsg *e = pm_find(d, id, seq);
        const char *v = e ? e->val : rocksdb_iter_value(it, &vlen);
        if (e)
            vlen = e->vlen;
        if (!v || !value_matches(v, vlen, filter))
            continue;
        m = decode(seq, v, vlen);
        break;
    }
    rocksdb_iter_destroy(it);
    /* ...or an earlier one among the pending writes */
    seqvec *pv = pst_get(d, id, false);
    for (size_t i = pv ? seq_lower(pv, from) : 0; pv && i < pv->n; i++) {
        uint64_t seq = pv->v[i];
        if (m && seq >= m->seq)
            break;
        pmsg *e = pm_find(d, id, seq);
        if (!e || !e->val || !value_matches(e->val, e->vlen, filter))
            continue;
        js_msg_free(m);
        m = decode(seq, e->val, e->vlen);
        break;
    }
    return m;
}

/* Read-ahead for consumers: what js_db_next_msg would return for from,
 * then for the seq after it, and so on, max times; but with one iterator
 * over the messages family (Next, not a seek per message) and the
 * filter, literal or not, checked on each message, so it pays off when
 * most messages match.  The pending writes merge in as there. */
size_t js_db_next_msgs(js_db *d, uint64_t id, uint64_t from, const char *filter, js_msg **out,
                       size_t max)
{
    if (filter && (!*filter || !strcmp(filter, ">")))
        filter = NULL;
    size_t n = 0;
    if (!max)
        return 0;
    rocksdb_iterator_t *it = iter(d, CF_MSGS);
    char k[16];
    key_msg(k, id, from);
    for (rocksdb_iter_seek(it, k, 16); n < max && rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *ik = rocksdb_iter_key(it, &klen);
        if (klen != 16 || get_be64(ik) != id)
            break;
        uint64_t seq = get_be64(ik + 8);
        pmsg *e = pm_find(d, id, seq);
        const char *v = e ? e->val : rocksdb_iter_value(it, &vlen);
        if (e)
            vlen = e->vlen;
        if (!v || !value_matches(v, vlen, filter))
            continue;
        js_msg *m = decode(seq, v, vlen);
        if (m)
            out[n++] = m;
    }
    rocksdb_iter_destroy(it);
    /* the pending writes (new seqs, normally all after the database's)
     * merged in order; past max, the largest go */
    seqvec *pv = pst_get(d, id, false);
    for (size_t i = pv ? seq_lower(pv, from) : 0; pv && i < pv->n; i++) {
        uint64_t seq = pv->v[i];
        if (n == max && seq >= out[n - 1]->seq)
            break;
        pmsg *e = pm_find(d, id, seq);
        if (!e || !e->val || !value_matches(e->val, e->vlen, filter))
            continue;
        size_t at = n;
        while (at > 0 && out[at - 1]->seq >= seq)
            at--;
        if (at < n && out[at]->seq == seq)
            continue;    /* already read through the iterator */
        js_msg *m = decode(seq, e->val, e->vlen);
        if (!m)
            continue;
        if (n == max)
            js_msg_free(out[--n]);
        memmove(&out[at + 1], &out[at], (n - at) * sizeof *out);
        out[at] = m;
        n++;
    }
    return n;
}

bool js_db_del_msg(js_db *d, uint64_t id, uint64_t seq, js_msg **out)
{
    js_msg *m = js_db_get_msg(d, id, seq);
    if (out)
        *out = NULL;
    if (!m)
        return false;
    char k[16];
    key_msg(k, id, seq);
    rocksdb_writebatch_delete_cf(d->pb, d->cf[CF_MSGS], k, 16);
    size_t sklen;
    char *sk = key_subj(id, m->subject, m->subject_len, seq, &sklen);
    rocksdb_writebatch_delete_cf(d->pb, d->cf[CF_SUBJ], sk, sklen);
    free(sk);
    pmsg *e = pm_get(d, id, seq);    /* a tombstone over the database's copy */
    free(e->val);
    e->val = NULL;
    e->vlen = 0;
    psc_add(d, id, m->subject, m->subject_len, -1);
    if (out)
        *out = m;
    else
        js_msg_free(m);
    return true;
}

static bool pending_live(js_db *d, uint64_t id, uint64_t seq)
{
    pmsg *e = pm_find(d, id, seq);
    return !e || e->val != NULL;
}

uint64_t js_db_last_seq_by_subject(js_db *d, uint64_t id, const char *subj, size_t slen)
{
    uint64_t seq = 0;
    psub *p = ps_get(d, id, subj, slen, false);
    for (size_t i = p ? p->seqs.n : 0; i > 0; i--) {
        pmsg *e = pm_find(d, id, p->seqs.v[i - 1]);
        if (e && e->val) {
            seq = p->seqs.v[i - 1];
            break;
        }
    }
    size_t klen;
    char *k = key_subj(id, subj, slen, UINT64_MAX, &klen);
    rocksdb_iterator_t *it = iter(d, CF_SUBJ);
    for (rocksdb_iter_seek_for_prev(it, k, klen); rocksdb_iter_valid(it);
         rocksdb_iter_prev(it)) {
        size_t ilen;
        const char *ik = rocksdb_iter_key(it, &ilen);
        if (ilen != klen || memcmp(ik, k, klen - 8))
            break;
        uint64_t q = get_be64(ik + klen - 8);
        if (q <= seq)
            break;
        if (pending_live(d, id, q)) {
            seq = q;
            break;
        }
    }
    rocksdb_iter_destroy(it);
    free(k);
    return seq;
}

uint64_t js_db_first_seq_by_subject(js_db *d, uint64_t id, const char *subj, size_t slen,
                                    uint64_t from)
{
    uint64_t seq = 0;
    psub *p = ps_get(d, id, subj, slen, false);
    for (size_t i = p ? seq_lower(&p->seqs, from) : 0; p && i < p->seqs.n; i++) {
        pmsg *e = pm_find(d, id, p->seqs.v[i]);
        if (e && e->val) {
            seq = p->seqs.v[i];
            break;
        }
    }
    size_t klen;
    char *k = key_subj(id, subj, slen, from, &klen);
    rocksdb_iterator_t *it = iter(d, CF_SUBJ);
    for (rocksdb_iter_seek(it, k, klen); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t ilen;
        const char *ik = rocksdb_iter_key(it, &ilen);
        if (ilen != klen || memcmp(ik, k, klen - 8))
            break;
        uint64_t q = get_be64(ik + klen - 8);
        if (seq && q >= seq)
            break;
        if (pending_live(d, id, q)) {
            seq = q;
            break;
        }
    }
    rocksdb_iter_destroy(it);
    free(k);
    return seq;
}

uint64_t js_db_subject_count(js_db *d, uint64_t id, const char *subj, size_t slen)
{
    char *k = malloc(8 + slen);
    if (!k)
        abort();
    put_be64(k, id);
    memcpy(k + 8, subj, slen);
    psc_ent *e = psc_find(d, k, 8 + slen);
    if (e) {
        free(k);
        return e->count;
    }
    size_t vlen = 0;
    char *v = get(d, CF_PSC, k, 8 + slen, &vlen);
    uint64_t n = v && vlen == 8 ? get_be64(v) : 0;
    free(v);
    free(k);
    return n;
}

int js_db_subjects_foreach(js_db *d, uint64_t id, js_subject_fn fn, void *ud)
{
    psc_flush(d);    /* the iterator reads the batch */
    char k[8];
    put_be64(k, id);
    rocksdb_iterator_t *it = iter(d, CF_PSC);
    for (rocksdb_iter_seek(it, k, 8); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *ik = rocksdb_iter_key(it, &klen);
        if (klen < 8 || get_be64(ik) != id)
            break;
        const char *v = rocksdb_iter_value(it, &vlen);
        char *s = strndup(ik + 8, klen - 8);
        if (s && vlen == 8)
            fn(ud, s, get_be64(v));
        free(s);
    }
    rocksdb_iter_destroy(it);
    return 0;
}

/* ---- subjects ---- */

bool js_subject_match(const char *f, const char *s, size_t slen)
{
    const char *se = s + slen;
    while (*f) {
        const char *fe = strchr(f, '.');
        size_t fl = fe ? (size_t)(fe - f) : strlen(f);
        if (s >= se)
            return false;
        const char *te = memchr(s, '.', (size_t)(se - s));
        size_t tl = te ? (size_t)(te - s) : (size_t)(se - s);
        if (fl == 1 && *f == '>')
            return true;
        if (!(fl == 1 && *f == '*') && (fl != tl || memcmp(f, s, fl) != 0))
            return false;
        f += fl;
        s += tl;
        if (*f == '.')
            f++;
        else
            return s == se;
        if (s < se && *s == '.')
            s++;
        else
            return false;
    }
    return s == se;
}
