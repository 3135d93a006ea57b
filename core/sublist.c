/*
 * sublist.c - the routing engine: a token trie of subscriptions per account.
 *
 * Each trie level holds its literal children in a dense array, indexed by an
 * open-addressing hash table once the level grows past a few entries, plus
 * one dedicated child each for '*' and '>'.  A node carries the plain subs and
 * the queue groups whose pattern ends there.  Matching a literal subject walks
 * the trie once per path ('*', '>' and the literal branch), so a literal
 * subject in a big trie costs O(tokens) hash lookups.
 *
 * Writers take the rwlock's write side and bump the generation id; matchers
 * take the read side and read the generation id under it, so a result is
 * never tagged with a generation newer than its contents.  mn_match_cache is
 * a per-thread subject -> result table that is flushed whenever the
 * generation moves; flushed results go through qsbr because the caller may
 * still be delivering with them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* pthread_rwlockattr_setkind_np */
#endif
#include "sublist.h"
#include "qsbr.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <assert.h>
#include <time.h>
#include <sys/random.h>

/* ---- hashing ---------------------------------------------------------- */

/* Seeded per process so that clients cannot pick colliding tokens. */
static uint64_t sl_seed;
static pthread_once_t sl_seed_once = PTHREAD_ONCE_INIT;

static void sl_seed_init(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&s;
    }
    sl_seed = s | 1;
}

static inline uint64_t sl_mix(uint64_t h)
{
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

static inline uint32_t sl_hash(const char *p, size_t n)
{
    uint64_t h = sl_seed ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        for (size_t i = 0; i < n; i++)
            w |= (uint64_t)(unsigned char)p[i] << (8 * i);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    }
    return (uint32_t)sl_mix(h);
}

static inline uint32_t sl_ptr_hash(const void *p)
{
    return (uint32_t)sl_mix((uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull);
}

/* ---- dense array with an optional hash index --------------------------- */

/* A slot maps a hash to a position in the dense array (pos+1; 0 = empty).
 * Keeping the hash in the slot lets deletion and rehash run without looking
 * at the elements. */
typedef struct sl_slot {
    uint32_t hash;
    uint32_t pos;
} sl_slot;

typedef struct sl_ix {
    sl_slot *s;        /* NULL while the array is small enough to scan */
    uint32_t mask;
} sl_ix;

typedef uint32_t (*sl_hashof_fn)(const void *elem);

/* Elements are stored densely so that iteration (matching, foreach) never
 * walks empty hash slots.  Removal swaps the last element into the hole. */
typedef struct sl_vec {
    void   **v;
    uint32_t n, cap;
    sl_ix    ix;
} sl_vec;

static void ix_put(sl_ix *ix, uint32_t hash, uint32_t pos)
{
    uint32_t i = hash & ix->mask;
    while (ix->s[i].pos)
        i = (i + 1) & ix->mask;
    ix->s[i].hash = hash;
    ix->s[i].pos = pos + 1;
}

/* The slot holding position pos; it must exist. */
static uint32_t ix_slot_of(const sl_ix *ix, uint32_t hash, uint32_t pos)
{
    uint32_t i = hash & ix->mask;
    while (ix->s[i].pos != pos + 1) {
        assert(ix->s[i].pos != 0);
        i = (i + 1) & ix->mask;
    }
    return i;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void ix_del(sl_ix *ix, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & ix->mask;
        if (!ix->s[j].pos)
            break;
        uint32_t home = ix->s[j].hash & ix->mask;
        /* The entry at j may move to i only if its home is not in (i, j]. */
        bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            ix->s[i] = ix->s[j];
            i = j;
        }
    }
    ix->s[i].pos = 0;
}

/* Rebuild the index with cap slots (a power of two); false when out of
 * memory, leaving the old index in place. */
static bool vec_reindex(sl_vec *a, uint32_t cap, sl_hashof_fn hf)
{
    sl_slot *s = calloc(cap, sizeof *s);
    if (!s)
        return false;
    free(a->ix.s);
    a->ix.s = s;
    a->ix.mask = cap - 1;
    for (uint32_t k = 0; k < a->n; k++)
        ix_put(&a->ix, hf(a->v[k]), k);
    return true;
}

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t c = 8;
    while (c < n)
        c <<= 1;
    return c;
}

/* Append e (with hash h).  The index is built once n exceeds ixmin. */
static int vec_push(sl_vec *a, void *e, uint32_t h, uint32_t ixmin, sl_hashof_fn hf)
{
    if (a->n == UINT32_MAX / 4)
        return MN_ENOMEM;
    if (a->n == a->cap) {
        uint32_t nc = a->cap ? a->cap * 2 : 2;
        void **nv = realloc(a->v, (size_t)nc * sizeof *nv);
        if (!nv)
            return MN_ENOMEM;
        a->v = nv;
        a->cap = nc;
    }
    uint32_t n1 = a->n + 1;
    if (a->ix.s) {
        if ((uint64_t)n1 * 4 > (uint64_t)(a->ix.mask + 1) * 3 &&
            !vec_reindex(a, (a->ix.mask + 1) * 2, hf))
            return MN_ENOMEM;
    } else if (n1 > ixmin) {
        if (!vec_reindex(a, pow2_at_least(n1 * 2), hf))
            return MN_ENOMEM;
    }
    if (a->ix.s)
        ix_put(&a->ix, h, a->n);
    a->v[a->n++] = e;
    return MN_OK;
}

static void vec_remove_at(sl_vec *a, uint32_t p, uint32_t ixmin, sl_hashof_fn hf)
{
    assert(p < a->n);
    uint32_t last = a->n - 1;
    if (a->ix.s) {
        ix_del(&a->ix, ix_slot_of(&a->ix, hf(a->v[p]), p));
        if (p != last)
            a->ix.s[ix_slot_of(&a->ix, hf(a->v[last]), last)].pos = p + 1;
    }
    a->v[p] = a->v[last];
    a->n = last;

    if (a->n == 0) {
        free(a->v);
        free(a->ix.s);
        memset(a, 0, sizeof *a);
        return;
    }
    /* Give memory back after mass unsubscribes; failures just keep it. */
    if (a->ix.s) {
        if (a->n <= ixmin / 2) {
            free(a->ix.s);
            a->ix.s = NULL;
            a->ix.mask = 0;
        } else if (a->ix.mask + 1 > 16 && (uint64_t)a->n * 8 < a->ix.mask + 1) {
            vec_reindex(a, pow2_at_least(a->n * 2), hf);
        }
    }
    if (a->cap > 8 && a->n < a->cap / 4) {
        void **nv = realloc(a->v, (size_t)(a->cap / 2) * sizeof *nv);
        if (nv) {
            a->v = nv;
            a->cap /= 2;
        }
    }
}

static void vec_free(sl_vec *a)
{
    free(a->v);
    free(a->ix.s);
    memset(a, 0, sizeof *a);
}

/* ---- the trie ---------------------------------------------------------- */

enum { LEVEL_IX_MIN = 8, SUBS_IX_MIN = 8, QGROUP_IX_MIN = 8, CACHE_IX_MIN = 0 };

typedef struct sl_node sl_node;

typedef struct sl_level {
    sl_vec   lits;         /* sl_node *, literal tokens */
    sl_node *pwc;          /* '*' */
    sl_node *fwc;          /* '>' */
} sl_level;

typedef struct sl_qgroup {
    sl_vec   members;      /* mn_sub * */
    uint32_t hash, len;
    char     name[];
} sl_qgroup;

struct sl_node {
    sl_level next;
    sl_vec   psubs;        /* mn_sub * */
    sl_vec   qgroups;      /* sl_qgroup * */
    sl_node *parent;       /* NULL at the top level */
    uint32_t hash, toklen; /* literal token; 0/0 for wildcards */
    char     tok[];
};

struct mn_sublist {
    pthread_rwlock_t  lock;
    sl_level          root;
    _Atomic uint64_t  genid;
    _Atomic size_t    count;
    _Atomic uint64_t  inserts, removes, matches;   /* for monitoring */
};

static uint32_t node_hashof(const void *e) { return ((const sl_node *)e)->hash; }
static uint32_t sub_hashof(const void *e) { return sl_ptr_hash(e); }
static uint32_t qgroup_hashof(const void *e) { return ((const sl_qgroup *)e)->hash; }

static inline bool level_empty(const sl_level *lv)
{
    return lv->lits.n == 0 && !lv->pwc && !lv->fwc;
}

static inline bool node_has_subs(const sl_node *n)
{
    return n->psubs.n != 0 || n->qgroups.n != 0;
}

static inline bool node_empty(const sl_node *n)
{
    return !node_has_subs(n) && level_empty(&n->next);
}

/* Position of the literal child tok in lv, or -1. */
static int64_t level_find(const sl_level *lv, const char *tok, uint32_t len, uint32_t h)
{
    const sl_vec *a = &lv->lits;
    if (a->ix.s) {
        for (uint32_t i = h & a->ix.mask; a->ix.s[i].pos; i = (i + 1) & a->ix.mask) {
            if (a->ix.s[i].hash != h)
                continue;
            const sl_node *n = a->v[a->ix.s[i].pos - 1];
            if (n->toklen == len && memcmp(n->tok, tok, len) == 0)
                return a->ix.s[i].pos - 1;
        }
        return -1;
    }
    for (uint32_t k = 0; k < a->n; k++) {
        const sl_node *n = a->v[k];
        if (n->hash == h && n->toklen == len && memcmp(n->tok, tok, len) == 0)
            return k;
    }
    return -1;
}

/* Position of sub in a, or -1. */
static int64_t subs_find(const sl_vec *a, const mn_sub *sub)
{
    if (a->ix.s) {
        uint32_t h = sl_ptr_hash(sub);
        for (uint32_t i = h & a->ix.mask; a->ix.s[i].pos; i = (i + 1) & a->ix.mask)
            if (a->v[a->ix.s[i].pos - 1] == sub)
                return a->ix.s[i].pos - 1;
        return -1;
    }
    for (uint32_t k = 0; k < a->n; k++)
        if (a->v[k] == sub)
            return k;
    return -1;
}

static int64_t qgroup_find(const sl_vec *a, const char *name, uint32_t len, uint32_t h)
{
    if (a->ix.s) {
        for (uint32_t i = h & a->ix.mask; a->ix.s[i].pos; i = (i + 1) & a->ix.mask) {
            if (a->ix.s[i].hash != h)
                continue;
            const sl_qgroup *g = a->v[a->ix.s[i].pos - 1];
            if (g->len == len && memcmp(g->name, name, len) == 0)
                return a->ix.s[i].pos - 1;
        }
        return -1;
    }
    for (uint32_t k = 0; k < a->n; k++) {
        const sl_qgroup *g = a->v[k];
        if (g->hash == h && g->len == len && memcmp(g->name, name, len) == 0)
            return k;
    }
    return -1;
}

static sl_node *node_new(sl_node *parent, const char *tok, uint32_t len, uint32_t h)
{
    sl_node *n = calloc(1, sizeof *n + len + 1);
    if (!n)
        return NULL;
    n->parent = parent;
    n->hash = h;
    n->toklen = len;
    if (len)
        memcpy(n->tok, tok, len);
    return n;
}

/* Frees a node and everything below it (not the subs). */
static void node_free_tree(sl_node *n);

static void level_free(sl_level *lv)
{
    for (uint32_t k = 0; k < lv->lits.n; k++)
        node_free_tree(lv->lits.v[k]);
    vec_free(&lv->lits);
    if (lv->pwc)
        node_free_tree(lv->pwc);
    if (lv->fwc)
        node_free_tree(lv->fwc);
    lv->pwc = lv->fwc = NULL;
}

static void node_free_tree(sl_node *n)
{
    level_free(&n->next);
    vec_free(&n->psubs);
    for (uint32_t k = 0; k < n->qgroups.n; k++) {
        sl_qgroup *g = n->qgroups.v[k];
        vec_free(&g->members);
        free(g);
    }
    vec_free(&n->qgroups);
    free(n);
}

/* Unlink and free empty nodes from n upwards. */
static void sl_prune(mn_sublist *sl, sl_node *n)
{
    while (n && node_empty(n)) {
        sl_node *up = n->parent;
        sl_level *lv = up ? &up->next : &sl->root;
        if (lv->pwc == n) {
            lv->pwc = NULL;
        } else if (lv->fwc == n) {
            lv->fwc = NULL;
        } else {
            int64_t p = level_find(lv, n->tok, n->toklen, n->hash);
            assert(p >= 0 && lv->lits.v[p] == n);
            vec_remove_at(&lv->lits, (uint32_t)p, LEVEL_IX_MIN, node_hashof);
        }
        node_free_tree(n);
        n = up;
    }
}

/* ---- subject syntax ---------------------------------------------------- */

static inline bool bad_subject_char(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}

/* Shared validator: tokens non-empty, no whitespace or NUL; wildcards are
 * whole tokens, allowed only when wild, '>' only last. */
static bool subject_valid(const char *s, size_t len, bool wild)
{
    if (!s || len == 0)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (bad_subject_char(s[i]))
                return false;
            continue;
        }
        size_t tl = i - start;
        if (tl == 0)
            return false;
        if (tl == 1 && (s[start] == '*' || s[start] == '>')) {
            if (!wild)
                return false;
            if (s[start] == '>' && i != len)
                return false;
        }
        start = i + 1;
    }
    return true;
}

bool mn_subject_valid_literal(const char *s, size_t len)
{
    return subject_valid(s, len, false);
}

bool mn_subject_valid_sub(const char *s, size_t len)
{
    return subject_valid(s, len, true);
}

/* True when no token is a lone '*' or '>' (syntax is not checked). */
bool mn_subject_is_literal(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((s[i] == '*' || s[i] == '>') &&
            (i == 0 || s[i - 1] == '.') && (i + 1 == len || s[i + 1] == '.'))
            return false;
    }
    return true;
}

/* Token-by-token walk; an empty subject token never matches, as the trie
 * never matches one either. */
bool mn_subject_matches(const char *pat, size_t plen, const char *subj, size_t slen)
{
    if (plen == 0 || slen == 0)
        return false;
    size_t pi = 0, si = 0;
    for (;;) {
        size_t pe = pi, se = si;
        while (pe < plen && pat[pe] != '.')
            pe++;
        while (se < slen && subj[se] != '.')
            se++;
        size_t pl = pe - pi, sl = se - si;
        if (sl == 0)
            return false;
        if (pl == 1 && pat[pi] == '>') {
            /* '>' eats the rest, but every remaining token must be non-empty. */
            size_t prev = si;
            for (size_t k = si; k <= slen; k++) {
                if (k == slen || subj[k] == '.') {
                    if (k == prev)
                        return false;
                    prev = k + 1;
                }
            }
            return true;
        }
        if (!(pl == 1 && pat[pi] == '*') && (pl != sl || memcmp(pat + pi, subj + si, sl) != 0))
            return false;
        bool pend = pe >= plen, send = se >= slen;
        if (pend || send)
            return pend && send;
        pi = pe + 1;
        si = se + 1;
    }
}

/* ---- tokens of a subject ------------------------------------------------ */

typedef struct sl_tok {
    const char *p;
    uint32_t    len;
    uint32_t    hash;
} sl_tok;

enum { TOKS_STACK = 32 };

typedef struct sl_toks {
    sl_tok *t;
    size_t  n;
    sl_tok  stack[TOKS_STACK];
} sl_toks;

/* Split s into tokens and hash them.  MN_EINVAL on an empty token or a
 * token too long to index. */
static int toks_split(sl_toks *tk, const char *s, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '.';
    tk->t = tk->stack;
    tk->n = 0;
    if (n > TOKS_STACK) {
        tk->t = malloc(n * sizeof *tk->t);
        if (!tk->t)
            return MN_ENOMEM;
    }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        size_t tl = i - start;
        if (tl == 0 || tl > UINT32_MAX / 2)
            return MN_EINVAL;
        sl_tok *t = &tk->t[tk->n++];
        t->p = s + start;
        t->len = (uint32_t)tl;
        t->hash = sl_hash(t->p, tl);
        start = i + 1;
    }
    return MN_OK;
}

static void toks_done(sl_toks *tk)
{
    if (tk->t != tk->stack)
        free(tk->t);
}

static inline bool tok_is(const sl_tok *t, char c)
{
    return t->len == 1 && t->p[0] == c;
}

/* ---- insert / remove ---------------------------------------------------- */

static bool queue_valid(const mn_sub *sub)
{
    if (sub->queue_len == 0)
        return true;
    if (!sub->queue)
        return false;
    for (uint32_t i = 0; i < sub->queue_len; i++)
        if (bad_subject_char(sub->queue[i]))
            return false;
    return true;
}

mn_sublist *mn_sublist_new(void)
{
    pthread_once(&sl_seed_once, sl_seed_init);
    mn_sublist *sl = calloc(1, sizeof *sl);
    if (!sl)
        return NULL;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* Readers are constant; without this a subscribe could starve. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&sl->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0) {
        free(sl);
        return NULL;
    }
    atomic_init(&sl->genid, 0);
    atomic_init(&sl->count, 0);
    return sl;
}

void mn_sublist_free(mn_sublist *sl)
{
    if (!sl)
        return;
    level_free(&sl->root);
    pthread_rwlock_destroy(&sl->lock);
    free(sl);
}

/* Add sub to node n (write lock held). */
static int node_add_sub(sl_node *n, mn_sub *sub)
{
    if (sub->queue_len == 0) {
        if (subs_find(&n->psubs, sub) >= 0)
            return MN_EINVAL;
        return vec_push(&n->psubs, sub, sl_ptr_hash(sub), SUBS_IX_MIN, sub_hashof);
    }
    uint32_t qh = sl_hash(sub->queue, sub->queue_len);
    int64_t gp = qgroup_find(&n->qgroups, sub->queue, sub->queue_len, qh);
    sl_qgroup *g;
    if (gp >= 0) {
        g = n->qgroups.v[gp];
        if (subs_find(&g->members, sub) >= 0)
            return MN_EINVAL;
    } else {
        g = calloc(1, sizeof *g + sub->queue_len + 1);
        if (!g)
            return MN_ENOMEM;
        g->hash = qh;
        g->len = sub->queue_len;
        memcpy(g->name, sub->queue, sub->queue_len);
        if (vec_push(&n->qgroups, g, qh, QGROUP_IX_MIN, qgroup_hashof) != MN_OK) {
            free(g);
            return MN_ENOMEM;
        }
    }
    int rc = vec_push(&g->members, sub, sl_ptr_hash(sub), SUBS_IX_MIN, sub_hashof);
    if (rc != MN_OK && g->members.n == 0) {
        int64_t p = qgroup_find(&n->qgroups, g->name, g->len, g->hash);
        vec_remove_at(&n->qgroups, (uint32_t)p, QGROUP_IX_MIN, qgroup_hashof);
        free(g);
    }
    return rc;
}

/* Remove sub from node n (write lock held): MN_OK or MN_ENOTFOUND. */
static int node_del_sub(sl_node *n, mn_sub *sub)
{
    if (sub->queue_len == 0) {
        int64_t p = subs_find(&n->psubs, sub);
        if (p < 0)
            return MN_ENOTFOUND;
        vec_remove_at(&n->psubs, (uint32_t)p, SUBS_IX_MIN, sub_hashof);
        return MN_OK;
    }
    uint32_t qh = sl_hash(sub->queue, sub->queue_len);
    int64_t gp = qgroup_find(&n->qgroups, sub->queue, sub->queue_len, qh);
    if (gp < 0)
        return MN_ENOTFOUND;
    sl_qgroup *g = n->qgroups.v[gp];
    int64_t p = subs_find(&g->members, sub);
    if (p < 0)
        return MN_ENOTFOUND;
    vec_remove_at(&g->members, (uint32_t)p, SUBS_IX_MIN, sub_hashof);
    if (g->members.n == 0) {
        vec_remove_at(&n->qgroups, (uint32_t)gp, QGROUP_IX_MIN, qgroup_hashof);
        free(g);
    }
    return MN_OK;
}

int mn_sublist_insert(mn_sublist *sl, mn_sub *sub)
{
    if (!sl || !sub || !mn_subject_valid_sub(sub->subject, sub->subject_len) || !queue_valid(sub))
        return MN_EINVAL;
    sl_toks tk;
    int rc = toks_split(&tk, sub->subject, sub->subject_len);
    if (rc != MN_OK) {
        toks_done(&tk);
        return rc;
    }

    pthread_rwlock_wrlock(&sl->lock);
    sl_level *lv = &sl->root;
    sl_node *parent = NULL, *n = NULL;
    for (size_t i = 0; i < tk.n; i++) {
        const sl_tok *t = &tk.t[i];
        sl_node **slot = tok_is(t, '*') ? &lv->pwc : tok_is(t, '>') ? &lv->fwc : NULL;
        if (slot) {
            if (!*slot && !(*slot = node_new(parent, NULL, 0, 0)))
                goto nomem;
            n = *slot;
        } else {
            int64_t p = level_find(lv, t->p, t->len, t->hash);
            if (p >= 0) {
                n = lv->lits.v[p];
            } else {
                n = node_new(parent, t->p, t->len, t->hash);
                if (!n)
                    goto nomem;
                if (vec_push(&lv->lits, n, t->hash, LEVEL_IX_MIN, node_hashof) != MN_OK) {
                    free(n);
                    goto nomem;
                }
            }
        }
        parent = n;
        lv = &n->next;
    }
    rc = node_add_sub(n, sub);
    if (rc == MN_OK) {
        atomic_fetch_add_explicit(&sl->count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&sl->inserts, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&sl->genid, 1, memory_order_release);
    } else {
        sl_prune(sl, n);
    }
    pthread_rwlock_unlock(&sl->lock);
    toks_done(&tk);
    return rc;

nomem:
    sl_prune(sl, parent);
    pthread_rwlock_unlock(&sl->lock);
    toks_done(&tk);
    return MN_ENOMEM;
}

int mn_sublist_remove(mn_sublist *sl, mn_sub *sub)
{
    if (!sl || !sub || !sub->subject || sub->subject_len == 0)
        return MN_ENOTFOUND;
    sl_toks tk;
    int rc = toks_split(&tk, sub->subject, sub->subject_len);
    if (rc != MN_OK) {
        toks_done(&tk);
        return rc == MN_EINVAL ? MN_ENOTFOUND : rc;
    }

    pthread_rwlock_wrlock(&sl->lock);
    sl_level *lv = &sl->root;
    sl_node *n = NULL;
    for (size_t i = 0; i < tk.n; i++) {
        const sl_tok *t = &tk.t[i];
        if (tok_is(t, '*')) {
            n = lv->pwc;
        } else if (tok_is(t, '>')) {
            n = lv->fwc;
        } else {
            int64_t p = level_find(lv, t->p, t->len, t->hash);
            n = p >= 0 ? lv->lits.v[p] : NULL;
        }
        if (!n)
            break;
        lv = &n->next;
    }
    rc = n ? node_del_sub(n, sub) : MN_ENOTFOUND;
    if (rc == MN_OK) {
        atomic_fetch_sub_explicit(&sl->count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&sl->removes, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&sl->genid, 1, memory_order_release);
        sl_prune(sl, n);
    }
    pthread_rwlock_unlock(&sl->lock);
    toks_done(&tk);
    return rc;
}

size_t mn_sublist_count(const mn_sublist *sl)
{
    return atomic_load_explicit(&((mn_sublist *)sl)->count, memory_order_relaxed);
}

uint64_t mn_sublist_genid(const mn_sublist *sl)
{
    return atomic_load_explicit(&((mn_sublist *)sl)->genid, memory_order_acquire);
}

/* ---- matching ------------------------------------------------------------ */

enum { HITS_STACK = 32 };

/* Nodes with subs that matched; assembled into a result afterwards so the
 * result is allocated once, at its exact size. */
typedef struct sl_hits {
    const sl_node **v;
    size_t n, cap;
    bool oom;
    const sl_node *stack[HITS_STACK];
} sl_hits;

static void hits_push(sl_hits *h, const sl_node *n)
{
    if (h->n == h->cap) {
        size_t nc = h->cap * 2;
        const sl_node **nv = malloc(nc * sizeof *nv);
        if (!nv) {
            h->oom = true;
            return;
        }
        memcpy(nv, h->v, h->n * sizeof *nv);
        if (h->v != h->stack)
            free(h->v);
        h->v = nv;
        h->cap = nc;
    }
    h->v[h->n++] = n;
}

/* Collect the nodes matching tokens i.. of a literal subject below lv. */
static void sl_collect(const sl_level *lv, const sl_tok *t, size_t i, size_t nt, sl_hits *h)
{
    if (lv->fwc && node_has_subs(lv->fwc))
        hits_push(h, lv->fwc);
    const sl_node *cand[2];
    int nc = 0;
    if (lv->lits.n) {
        int64_t p = level_find(lv, t[i].p, t[i].len, t[i].hash);
        if (p >= 0)
            cand[nc++] = lv->lits.v[p];
    }
    if (lv->pwc)
        cand[nc++] = lv->pwc;
    for (int k = 0; k < nc; k++) {
        const sl_node *n = cand[k];
        if (i + 1 == nt) {
            if (node_has_subs(n))
                hits_push(h, n);
        } else if (!level_empty(&n->next)) {
            sl_collect(&n->next, t, i + 1, nt, h);
        }
    }
}

static bool sl_any(const sl_level *lv, const sl_tok *t, size_t i, size_t nt)
{
    if (lv->fwc && node_has_subs(lv->fwc))
        return true;
    const sl_node *cand[2];
    int nc = 0;
    if (lv->lits.n) {
        int64_t p = level_find(lv, t[i].p, t[i].len, t[i].hash);
        if (p >= 0)
            cand[nc++] = lv->lits.v[p];
    }
    if (lv->pwc)
        cand[nc++] = lv->pwc;
    for (int k = 0; k < nc; k++) {
        const sl_node *n = cand[k];
        if (i + 1 == nt ? node_has_subs(n) : sl_any(&n->next, t, i + 1, nt))
            return true;
    }
    return false;
}

enum { GROUPS_STACK = 32 };

/* Build one allocation holding the result: header, queue groups, then all
 * sub pointers.  Groups with the same queue name from different nodes are
 * merged through a small hash table, so assembly stays linear. */
static mn_result *sl_build(const sl_hits *h)
{
    size_t np = 0, nq = 0, ng = 0;
    for (size_t k = 0; k < h->n; k++) {
        const sl_node *n = h->v[k];
        np += n->psubs.n;
        ng += n->qgroups.n;
        for (uint32_t j = 0; j < n->qgroups.n; j++)
            nq += ((const sl_qgroup *)n->qgroups.v[j])->members.n;
    }

    /* Per node group: its merged group id; per merged group: a
     * representative and a member count. */
    uint32_t s_gid[GROUPS_STACK], s_cnt[GROUPS_STACK], s_tab[2 * GROUPS_STACK];
    const sl_qgroup *s_rep[GROUPS_STACK];
    uint32_t *gid = s_gid, *cnt = s_cnt, *tab = s_tab;
    const sl_qgroup **rep = s_rep;
    size_t tcap = 2 * GROUPS_STACK;
    void *tmp = NULL;
    if (ng > GROUPS_STACK) {
        tcap = 2 * GROUPS_STACK;
        while (tcap < 2 * ng)
            tcap <<= 1;
        tmp = malloc(ng * (2 * sizeof(uint32_t) + sizeof(*rep)) + tcap * sizeof(uint32_t));
        if (!tmp)
            return NULL;
        rep = tmp;
        gid = (uint32_t *)(rep + ng);
        cnt = gid + ng;
        tab = cnt + ng;
    }
    size_t G = 0;
    if (ng) {
        memset(tab, 0, tcap * sizeof *tab);
        size_t gi = 0;
        for (size_t k = 0; k < h->n; k++) {
            const sl_node *n = h->v[k];
            for (uint32_t j = 0; j < n->qgroups.n; j++, gi++) {
                const sl_qgroup *g = n->qgroups.v[j];
                size_t i = g->hash & (tcap - 1);
                for (; tab[i]; i = (i + 1) & (tcap - 1)) {
                    const sl_qgroup *r = rep[tab[i] - 1];
                    if (r->hash == g->hash && r->len == g->len &&
                        memcmp(r->name, g->name, g->len) == 0)
                        break;
                }
                if (!tab[i]) {
                    rep[G] = g;
                    cnt[G] = 0;
                    tab[i] = (uint32_t)++G;
                }
                gid[gi] = tab[i] - 1;
                cnt[gid[gi]] += g->members.n;
            }
        }
    }

    mn_result *r = malloc(sizeof *r + G * sizeof(mn_qgroup) + (np + nq) * sizeof(mn_sub *));
    if (!r) {
        free(tmp);
        return NULL;
    }
    mn_qgroup *qg = (mn_qgroup *)(r + 1);
    mn_sub **ps = (mn_sub **)(qg + G);
    r->npsubs = np;
    r->psubs = np ? ps : NULL;
    r->nqgroups = G;
    r->qgroups = G ? qg : NULL;

    mn_sub **qs = ps + np;
    for (size_t g = 0; g < G; g++) {
        qg[g].subs = qs;
        qg[g].n = 0;
        qs += cnt[g];
    }
    size_t gi = 0;
    for (size_t k = 0; k < h->n; k++) {
        const sl_node *n = h->v[k];
        if (n->psubs.n) {
            memcpy(ps, n->psubs.v, n->psubs.n * sizeof *ps);
            ps += n->psubs.n;
        }
        for (uint32_t j = 0; j < n->qgroups.n; j++, gi++) {
            const sl_qgroup *g = n->qgroups.v[j];
            mn_qgroup *dst = &qg[gid[gi]];
            memcpy(dst->subs + dst->n, g->members.v, g->members.n * sizeof(mn_sub *));
            dst->n += g->members.n;
        }
    }
    free(tmp);
    return r;
}

static mn_result *empty_result(void)
{
    return calloc(1, sizeof(mn_result));
}

/* Match under the read lock; *genid gets the generation the result reflects. */
static mn_result *sl_match(mn_sublist *sl, const char *subject, size_t len, uint64_t *genid)
{
    atomic_fetch_add_explicit(&sl->matches, 1, memory_order_relaxed);
    sl_toks tk;
    int rc = len ? toks_split(&tk, subject, len) : MN_EINVAL;
    if (rc != MN_OK) {
        if (len)
            toks_done(&tk);
        *genid = atomic_load_explicit(&sl->genid, memory_order_acquire);
        /* A malformed subject matches nothing: not an allocation failure. */
        return rc == MN_EINVAL ? empty_result() : NULL;
    }
    sl_hits h;
    h.v = h.stack;
    h.n = 0;
    h.cap = HITS_STACK;
    h.oom = false;
    pthread_rwlock_rdlock(&sl->lock);
    *genid = atomic_load_explicit(&sl->genid, memory_order_relaxed);
    sl_collect(&sl->root, tk.t, 0, tk.n, &h);
    mn_result *r = h.oom ? NULL : sl_build(&h);
    pthread_rwlock_unlock(&sl->lock);
    if (h.v != h.stack)
        free(h.v);
    toks_done(&tk);
    return r;
}

mn_result *mn_sublist_match(mn_sublist *sl, const char *subject, size_t len)
{
    uint64_t g;
    return sl_match(sl, subject, len, &g);
}

void mn_result_free(mn_result *r)
{
    free(r);
}

bool mn_sublist_has_interest(mn_sublist *sl, const char *subject, size_t len)
{
    if (len == 0)
        return false;
    sl_toks tk;
    if (toks_split(&tk, subject, len) != MN_OK) {
        toks_done(&tk);
        return false;
    }
    pthread_rwlock_rdlock(&sl->lock);
    bool any = sl_any(&sl->root, tk.t, 0, tk.n);
    pthread_rwlock_unlock(&sl->lock);
    toks_done(&tk);
    return any;
}

static void level_foreach(const sl_level *lv, void (*fn)(mn_sub *, void *), void *arg);

static void node_foreach(const sl_node *n, void (*fn)(mn_sub *, void *), void *arg)
{
    for (uint32_t k = 0; k < n->psubs.n; k++)
        fn(n->psubs.v[k], arg);
    for (uint32_t j = 0; j < n->qgroups.n; j++) {
        const sl_qgroup *g = n->qgroups.v[j];
        for (uint32_t k = 0; k < g->members.n; k++)
            fn(g->members.v[k], arg);
    }
    level_foreach(&n->next, fn, arg);
}

static void level_foreach(const sl_level *lv, void (*fn)(mn_sub *, void *), void *arg)
{
    for (uint32_t k = 0; k < lv->lits.n; k++)
        node_foreach(lv->lits.v[k], fn, arg);
    if (lv->pwc)
        node_foreach(lv->pwc, fn, arg);
    if (lv->fwc)
        node_foreach(lv->fwc, fn, arg);
}

void mn_sublist_foreach(mn_sublist *sl, void (*fn)(mn_sub *sub, void *arg), void *arg)
{
    pthread_rwlock_rdlock(&sl->lock);
    level_foreach(&sl->root, fn, arg);
    pthread_rwlock_unlock(&sl->lock);
}

/* ---- per-thread match cache --------------------------------------------- */

typedef struct sl_centry {
    mn_result *r;
    uint32_t   hash, len;
    char       subj[];
} sl_centry;

struct mn_match_cache {
    mn_sublist *sl;
    uint64_t    genid;     /* generation every cached result reflects */
    uint32_t    max;
    uint32_t    rng;       /* victim choice on eviction */
    sl_vec      ents;      /* sl_centry *, always indexed */
    uint64_t    hits;      /* read racily by monitoring */
};

static uint32_t centry_hashof(const void *e) { return ((const sl_centry *)e)->hash; }

static void result_free_fn(void *p)
{
    mn_result_free(p);
}

mn_match_cache *mn_match_cache_new(mn_sublist *sl, size_t max_entries)
{
    if (!sl)
        return NULL;
    mn_match_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->sl = sl;
    c->genid = mn_sublist_genid(sl);
    if (max_entries < 1)
        max_entries = 1;
    c->max = max_entries > (1u << 24) ? (1u << 24) : (uint32_t)max_entries;
    c->rng = (uint32_t)(uintptr_t)c | 1;
    return c;
}

/* Drop every entry; results go through qsbr since the thread may still be
 * using one it got earlier in this turn. */
static void cache_flush(mn_match_cache *c)
{
    for (uint32_t k = 0; k < c->ents.n; k++) {
        sl_centry *e = c->ents.v[k];
        mn_qsbr_retire(e->r, result_free_fn);
        free(e);
    }
    if (c->ents.n)
        memset(c->ents.ix.s, 0, (size_t)(c->ents.ix.mask + 1) * sizeof(sl_slot));
    c->ents.n = 0;
}

void mn_match_cache_free(mn_match_cache *c)
{
    if (!c)
        return;
    cache_flush(c);
    vec_free(&c->ents);
    free(c);
}

static void cache_evict_one(mn_match_cache *c)
{
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 17;
    c->rng ^= c->rng << 5;
    uint32_t p = c->rng % c->ents.n;
    sl_centry *e = c->ents.v[p];
    vec_remove_at(&c->ents, p, CACHE_IX_MIN, centry_hashof);
    mn_qsbr_retire(e->r, result_free_fn);
    free(e);
}

const mn_result *mn_match_cache_get(mn_match_cache *c, const char *subject, size_t len)
{
    uint64_t g = atomic_load_explicit(&c->sl->genid, memory_order_acquire);
    if (g != c->genid) {
        cache_flush(c);
        c->genid = g;
    }
    if (len == 0)
        subject = "";   /* keeps memcmp/memcpy away from a NULL pointer */
    uint32_t h = sl_hash(subject, len);
    const sl_vec *a = &c->ents;
    if (a->ix.s) {
        for (uint32_t i = h & a->ix.mask; a->ix.s[i].pos; i = (i + 1) & a->ix.mask) {
            if (a->ix.s[i].hash != h)
                continue;
            const sl_centry *e = a->v[a->ix.s[i].pos - 1];
            if (e->len == len && memcmp(e->subj, subject, len) == 0) {
                __atomic_store_n(&c->hits, c->hits + 1, __ATOMIC_RELAXED);
                return e->r;
            }
        }
    }

    uint64_t gm;
    mn_result *r = sl_match(c->sl, subject, len, &gm);
    if (!r)
        return NULL;
    if (gm != c->genid) {
        cache_flush(c);
        c->genid = gm;
    }
    sl_centry *e = len <= UINT32_MAX / 2 ? malloc(sizeof *e + len) : NULL;
    if (!e) {
        /* Still hand it out; qsbr keeps it alive for this turn. */
        mn_qsbr_retire(r, result_free_fn);
        return r;
    }
    e->r = r;
    e->hash = h;
    e->len = (uint32_t)len;
    memcpy(e->subj, subject, len);
    if (c->ents.n >= c->max)
        cache_evict_one(c);
    if (vec_push(&c->ents, e, h, CACHE_IX_MIN, centry_hashof) != MN_OK) {
        free(e);
        mn_qsbr_retire(r, result_free_fn);
    }
    return r;
}

void mn_sublist_get_stats(const mn_sublist *sl, mn_sublist_stats *st)
{
    mn_sublist *m = (mn_sublist *)sl;
    st->count = atomic_load_explicit(&m->count, memory_order_relaxed);
    st->inserts = atomic_load_explicit(&m->inserts, memory_order_relaxed);
    st->removes = atomic_load_explicit(&m->removes, memory_order_relaxed);
    st->matches = atomic_load_explicit(&m->matches, memory_order_relaxed);
}

void mn_match_cache_stats(const mn_match_cache *c, uint64_t *hits, size_t *entries)
{
    *hits = __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
    *entries = __atomic_load_n(&c->ents.n, __ATOMIC_RELAXED);
}
