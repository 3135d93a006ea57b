/*
 * sublist.h - the routing engine: which subscriptions match a subject.
 *
 * One mn_sublist per account.  Subjects are dot-separated tokens; a
 * subscription subject may use '*' (one token) and '>' (one or more trailing
 * tokens).  Subscriptions with a queue name form queue groups: a match
 * returns plain subscriptions and, separately, the members of each queue
 * group, so the caller can deliver to exactly one member per group.
 *
 * Concurrency: insert/remove take the sublist's write lock; matching takes
 * its read lock.  Every change bumps a generation id.  A mn_match_cache is
 * owned by exactly one thread and holds results keyed by subject; a cached
 * result is used only while the sublist generation is unchanged, so the
 * cache stays correct under concurrent subscribe/unsubscribe with no lock on
 * a hit.
 *
 * Lifetimes (see qsbr.h): the sublist never frees a mn_sub; the owner of a
 * sub removes it and then retires it through mn_qsbr_retire().  A result
 * returned by mn_match_cache_get() stays valid, with every sub it points to,
 * until the calling thread's next quiescent point.
 */
#ifndef MN_SUBLIST_H
#define MN_SUBLIST_H

#include "mn.h"

/* A subscription as the routing engine sees it.  Allocated and owned by the
 * caller (a client, or later a route/leaf/gateway or a module); the sublist
 * stores the pointer only.  subject/queue must stay unchanged while the sub
 * is inserted. */
typedef struct mn_sub {
    const char *subject;       /* NUL-terminated */
    uint32_t    subject_len;
    uint32_t    queue_len;     /* 0 when no queue group */
    const char *queue;         /* NUL-terminated, or NULL */
    int32_t     weight;        /* queue weight (remote queue subs); 1 locally */
    void       *owner;         /* opaque to the sublist: who receives */
    void       *ctx;           /* opaque to the sublist: owner's extra data */
    int         kind;          /* opaque to the sublist: which owner type */
} mn_sub;

/* One queue group in a result: n members, each eligible for a message. */
typedef struct mn_qgroup {
    size_t   n;
    mn_sub **subs;
} mn_qgroup;

/* The subscriptions matching one subject.  Immutable once returned. */
typedef struct mn_result {
    size_t     npsubs;
    mn_sub   **psubs;          /* plain (non-queue) subscriptions */
    size_t     nqgroups;
    mn_qgroup *qgroups;        /* one entry per distinct queue name */
} mn_result;

typedef struct mn_sublist mn_sublist;
typedef struct mn_match_cache mn_match_cache;

mn_sublist *mn_sublist_new(void);
/* Frees the sublist's own nodes, not the subs still inserted. */
void        mn_sublist_free(mn_sublist *sl);

/* Insert a sub: MN_OK, or MN_EINVAL for an invalid subject/queue. */
int      mn_sublist_insert(mn_sublist *sl, mn_sub *sub);
/* Remove a previously inserted sub (by pointer): MN_OK or MN_ENOTFOUND. */
int      mn_sublist_remove(mn_sublist *sl, mn_sub *sub);
size_t   mn_sublist_count(const mn_sublist *sl);
uint64_t mn_sublist_genid(const mn_sublist *sl);

/* Uncached match.  Returns a freshly allocated result owned by the caller
 * (free with mn_result_free), or NULL when out of memory.  The subs pointed
 * to follow the qsbr rule. */
mn_result *mn_sublist_match(mn_sublist *sl, const char *subject, size_t len);
void       mn_result_free(mn_result *r);

/* Does any subscription match this subject?  (No allocation.) */
bool mn_sublist_has_interest(mn_sublist *sl, const char *subject, size_t len);

/* Visit every inserted sub under the read lock (for monitoring, and for
 * sending interest to a new route).  The callback must not call back into
 * this sublist. */
void mn_sublist_foreach(mn_sublist *sl, void (*fn)(mn_sub *sub, void *arg), void *arg);

/* A per-thread result cache bound to one sublist, holding at most
 * max_entries results.  Not thread-safe: one thread uses it. */
mn_match_cache  *mn_match_cache_new(mn_sublist *sl, size_t max_entries);
void             mn_match_cache_free(mn_match_cache *c);
/* Match through the cache.  The result is valid until the calling thread's
 * next quiescent point; NULL only when out of memory. */
const mn_result *mn_match_cache_get(mn_match_cache *c, const char *subject, size_t len);

/* Counters for monitoring (read without locks; approximate). matches
 * counts the lookups that walked the trie (cache misses and uncached). */
typedef struct mn_sublist_stats {
    size_t   count;
    uint64_t inserts, removes, matches;
} mn_sublist_stats;
void mn_sublist_get_stats(const mn_sublist *sl, mn_sublist_stats *st);
/* Hits and current entries of one cache; racy reads from another thread. */
void mn_match_cache_stats(const mn_match_cache *c, uint64_t *hits, size_t *entries);

/* Subject syntax. */
/* A valid publish subject: non-empty tokens, no wildcards, no whitespace. */
bool mn_subject_valid_literal(const char *s, size_t len);
/* A valid subscription subject: '*' and '>' allowed as whole tokens, '>' last. */
bool mn_subject_valid_sub(const char *s, size_t len);
bool mn_subject_is_literal(const char *s, size_t len);
/* Does literal subject `subj` match pattern `pat`? */
bool mn_subject_matches(const char *pat, size_t plen, const char *subj, size_t slen);

#endif
