/*
 * perms.c - compiled permissions and their checks (see perms.h).
 *
 * Lists are short (a handful of patterns per user), so a linear scan with
 * the sublist's matcher is the right tool; the publish cache removes even
 * that from the steady state.  The cache belongs to the client's owner
 * worker, which is the only thread that publishes for that client.
 */
#include "perms.h"
#include "sublist.h"

#include <stdlib.h>
#include <string.h>

#define PUB_CACHE 32

/* Subject patterns; for subscribe lists an entry may name a queue too
 * ("subject queue"), which then limits it to queue subscriptions whose
 * queue name matches. */
typedef struct plist {
    char  **pats;
    size_t *lens;
    char  **queues;    /* per entry, NULL: any (or no) queue */
    size_t *qlens;
    size_t  n;
} plist;

typedef struct pcache_entry {
    uint32_t hash;
    uint32_t len;
    char    *subj;
    bool     ok;
} pcache_entry;

struct mn_perms {
    plist pub_allow, pub_deny, sub_allow, sub_deny;
    bool  has_pub_allow, has_sub_allow;
    bool  allow_responses;
    uint32_t resp_max;
    uint64_t resp_expires_ms;
    pcache_entry cache[PUB_CACHE];
};

static int plist_fill(plist *l, const char *const *src, size_t n, bool queues)
{
    if (n == 0)
        return MN_OK;
    l->pats = calloc(n, sizeof(*l->pats));
    l->lens = calloc(n, sizeof(*l->lens));
    l->queues = calloc(n, sizeof(*l->queues));
    l->qlens = calloc(n, sizeof(*l->qlens));
    if (!l->pats || !l->lens || !l->queues || !l->qlens)
        return MN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!src[i] || !(l->pats[i] = strdup(src[i])))
            return MN_ENOMEM;
        l->n++;
        char *sp = queues ? strchr(l->pats[i], ' ') : NULL;
        if (sp) {
            *sp = 0;
            char *q = sp + 1;
            while (*q == ' ')
                q++;
            if (*q && !(l->queues[i] = strdup(q)))
                return MN_ENOMEM;
            if (l->queues[i])
                l->qlens[i] = strlen(l->queues[i]);
        }
        l->lens[i] = strlen(l->pats[i]);
    }
    return MN_OK;
}

static void plist_free(plist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->pats[i]);
        if (l->queues)
            free(l->queues[i]);
    }
    free(l->pats);
    free(l->lens);
    free(l->queues);
    free(l->qlens);
}

void mn_perms_free(mn_perms *p)
{
    if (!p)
        return;
    plist_free(&p->pub_allow);
    plist_free(&p->pub_deny);
    plist_free(&p->sub_allow);
    plist_free(&p->sub_deny);
    for (int i = 0; i < PUB_CACHE; i++)
        free(p->cache[i].subj);
    free(p);
}

mn_perms *mn_perms_compile(const modnats_permissions *src)
{
    if (!src || src->size < offsetof(modnats_permissions, reserved))
        return NULL;
    mn_perms *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    if (plist_fill(&p->pub_allow, src->pub_allow, src->n_pub_allow, false) != MN_OK ||
        plist_fill(&p->pub_deny, src->pub_deny, src->n_pub_deny, false) != MN_OK ||
        plist_fill(&p->sub_allow, src->sub_allow, src->n_sub_allow, true) != MN_OK ||
        plist_fill(&p->sub_deny, src->sub_deny, src->n_sub_deny, true) != MN_OK) {
        mn_perms_free(p);
        return NULL;
    }
    p->has_pub_allow = src->n_pub_allow > 0;
    p->has_sub_allow = src->n_sub_allow > 0;
    p->allow_responses = src->allow_responses;
    p->resp_max = src->responses_max_msgs ? src->responses_max_msgs : 1;
    p->resp_expires_ms = src->responses_expires_ms;
    return p;
}

static bool any_match(const plist *l, const char *subj, size_t len)
{
    for (size_t i = 0; i < l->n; i++)
        if (mn_subject_matches(l->pats[i], l->lens[i], subj, len))
            return true;
    return false;
}

static bool pub_check(const mn_perms *p, const char *subj, size_t len)
{
    if (p->has_pub_allow && !any_match(&p->pub_allow, subj, len))
        return false;
    return !any_match(&p->pub_deny, subj, len);
}

bool mn_perms_pub_allowed(mn_perms *p, const char *subj, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)subj[i]) * 16777619u;
    pcache_entry *e = &p->cache[h % PUB_CACHE];
    if (e->subj && e->hash == h && e->len == len && memcmp(e->subj, subj, len) == 0)
        return e->ok;
    bool ok = pub_check(p, subj, len);
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, subj, len);
        copy[len] = 0;
        free(e->subj);
        e->subj = copy;
        e->hash = h;
        e->len = (uint32_t)len;
        e->ok = ok;
    }
    return ok;
}

/* Next token of s[0..len) starting at *pos; false at the end. */
static bool next_tok(const char *s, size_t len, size_t *pos, const char **tok, size_t *tlen)
{
    if (*pos > len)
        return false;
    const char *start = s + *pos;
    const char *dot = memchr(start, '.', len - *pos);
    size_t n = dot ? (size_t)(dot - start) : len - *pos;
    *tok = start;
    *tlen = n;
    *pos += n + 1;
    return true;
}

bool mn_subject_is_subset(const char *pat, size_t plen, const char *of, size_t olen)
{
    size_t pi = 0, oi = 0;
    const char *pt, *ot;
    size_t pn, on;
    for (;;) {
        bool hp = next_tok(pat, plen, &pi, &pt, &pn);
        bool ho = next_tok(of, olen, &oi, &ot, &on);
        if (!hp || !ho)
            return !hp && !ho;
        if (on == 1 && ot[0] == '>')
            return true;
        if (pn == 1 && pt[0] == '>')
            return false;
        if (on == 1 && ot[0] == '*')
            continue;
        if (pn != on || memcmp(pt, ot, pn) != 0)
            return false;
    }
}

/* Does entry i of l cover a subscription to subj (with queue)? */
static bool entry_covers(const plist *l, size_t i, const char *subj, size_t len,
                         const char *queue, size_t qlen)
{
    if (!mn_subject_is_subset(subj, len, l->pats[i], l->lens[i]))
        return false;
    if (!l->queues[i])
        return true;
    return qlen > 0 && mn_subject_matches(l->queues[i], l->qlens[i], queue, qlen);
}

bool mn_perms_sub_allowed(const mn_perms *p, const char *subj, size_t len,
                          const char *queue, size_t qlen)
{
    if (p->has_sub_allow) {
        bool ok = false;
        for (size_t i = 0; i < p->sub_allow.n && !ok; i++)
            ok = entry_covers(&p->sub_allow, i, subj, len, queue, qlen);
        if (!ok)
            return false;
    }
    for (size_t i = 0; i < p->sub_deny.n; i++)
        if (entry_covers(&p->sub_deny, i, subj, len, queue, qlen))
            return false;
    return true;
}

bool mn_perms_deliver_denied(const mn_perms *p, const char *subj, size_t len,
                             const char *queue, size_t qlen)
{
    for (size_t i = 0; i < p->sub_deny.n; i++) {
        const plist *l = &p->sub_deny;
        if (mn_subject_matches(l->pats[i], l->lens[i], subj, len) &&
            (!l->queues[i] || (qlen && mn_subject_matches(l->queues[i], l->qlens[i], queue, qlen))))
            return true;
    }
    return false;
}

bool mn_perms_has_sub_deny(const mn_perms *p)
{
    return p->sub_deny.n > 0;
}

bool mn_perms_allow_responses(const mn_perms *p, uint32_t *max_msgs, uint64_t *expires_ms)
{
    if (!p->allow_responses)
        return false;
    *max_msgs = p->resp_max;
    *expires_ms = p->resp_expires_ms;
    return true;
}
