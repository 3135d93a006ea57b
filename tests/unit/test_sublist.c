/*
 * test_sublist.c - unit tests for core/sublist.c, the routing engine.
 *
 * Tables of wildcard, queue-group and syntax cases; removal and pruning
 * (heap use must return to where it started); the per-thread match cache
 * (invalidation on insert/remove, eviction); a concurrent test with writers
 * and cached readers under qsbr; and randomized runs checked against a naive
 * reference matcher (a linear scan with mn_subject_matches).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* mallinfo2 */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sublist.h"
#include "qsbr.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HAVE_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HAVE_SANITIZER 1
#endif
#endif
#ifdef HAVE_SANITIZER
/* From <sanitizer/allocator_interface.h>, which gcc does not install. */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* ---- helpers --------------------------------------------------------------- */

static size_t heap_in_use(void)
{
#ifdef HAVE_SANITIZER
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

static mn_sub *mksub(const char *subject, const char *queue)
{
    mn_sub *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->subject = strdup(subject);
    s->subject_len = (uint32_t)strlen(subject);
    if (queue) {
        s->queue = strdup(queue);
        s->queue_len = (uint32_t)strlen(queue);
    }
    s->weight = 1;
    return s;
}

static void freesub(void *p)
{
    mn_sub *s = p;
    free((char *)s->subject);
    free((char *)s->queue);
    free(s);
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

static bool sub_matches(const mn_sub *s, const char *subj)
{
    return mn_subject_matches(s->subject, s->subject_len, subj, strlen(subj));
}

/* Compare r with a linear scan of live[]; returns NULL or what differs. */
static const char *check_result(const mn_result *r, mn_sub **live, size_t nlive, const char *subj)
{
    static char why[256];
    size_t ep = 0, eq = 0;
    mn_sub **expp = malloc((nlive + 1) * sizeof *expp);
    mn_sub **expq = malloc((nlive + 1) * sizeof *expq);
    for (size_t i = 0; i < nlive; i++) {
        if (!sub_matches(live[i], subj))
            continue;
        if (live[i]->queue_len)
            expq[eq++] = live[i];
        else
            expp[ep++] = live[i];
    }
    const char *err = NULL;
    size_t gotq = 0;
    for (size_t g = 0; g < r->nqgroups; g++)
        gotq += r->qgroups[g].n;
    if (r->npsubs != ep || gotq != eq) {
        snprintf(why, sizeof why, "%s: psubs %zu want %zu, qsubs %zu want %zu",
                 subj, r->npsubs, ep, gotq, eq);
        err = why;
        goto out;
    }
    mn_sub **gp = malloc((ep + 1) * sizeof *gp), **gq = malloc((eq + 1) * sizeof *gq);
    if (ep)
        memcpy(gp, r->psubs, ep * sizeof *gp);
    size_t k = 0;
    for (size_t g = 0; g < r->nqgroups && !err; g++) {
        const mn_qgroup *qg = &r->qgroups[g];
        if (qg->n == 0)
            err = "empty queue group";
        for (size_t m = 0; m < qg->n && !err; m++) {
            if (strcmp(qg->subs[m]->queue, qg->subs[0]->queue) != 0)
                err = "mixed queue names in one group";
            gq[k++] = qg->subs[m];
        }
        for (size_t h = 0; h < g && !err; h++)
            if (strcmp(r->qgroups[h].subs[0]->queue, qg->subs[0]->queue) == 0)
                err = "queue name split over two groups";
    }
    if (!err) {
        qsort(gp, ep, sizeof *gp, cmp_ptr);
        qsort(expp, ep, sizeof *expp, cmp_ptr);
        qsort(gq, eq, sizeof *gq, cmp_ptr);
        qsort(expq, eq, sizeof *expq, cmp_ptr);
        if (memcmp(gp, expp, ep * sizeof *gp) != 0 || memcmp(gq, expq, eq * sizeof *gq) != 0) {
            snprintf(why, sizeof why, "%s: different subs", subj);
            err = why;
        }
    }
    free(gp);
    free(gq);
out:
    free(expp);
    free(expq);
    return err;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static size_t npsubs_of(mn_sublist *sl, const char *subj)
{
    mn_result *r = mn_sublist_match(sl, subj, strlen(subj));
    assert_non_null(r);
    size_t n = r->npsubs;
    mn_result_free(r);
    return n;
}

/* ---- wildcard table ----------------------------------------------------- */

static const struct { const char *pat, *subj; bool match; } match_cases[] = {
    { "foo", "foo", true },
    { "foo", "bar", false },
    { "foo", "foo.bar", false },
    { "foo.bar", "foo", false },
    { "foo.bar", "foo.bar", true },
    { "foo.bar", "foo.baz", false },
    { "foo.bar", "foo.barx", false },
    { "foo.bar", "foo.ba", false },
    { "*", "foo", true },
    { "*", "foo.bar", false },
    { "*.bar.baz", "foo.bar.baz", true },
    { "foo.*.baz", "foo.bar.baz", true },
    { "foo.bar.*", "foo.bar.baz", true },
    { "foo.*.baz", "foo.bar.qux", false },
    { "foo.*", "foo", false },
    { "foo.*", "foo.bar.baz", false },
    { "*.*", "a.b", true },
    { "*.*", "a", false },
    { "*.*.*", "a.b.c", true },
    { ">", "foo", true },
    { ">", "foo.bar.baz", true },
    { "foo.>", "foo", false },
    { "foo.>", "foo.bar", true },
    { "foo.>", "foo.bar.baz", true },
    { "foo.>", "bar.baz", false },
    { "foo.bar.>", "foo.bar", false },
    { "*.>", "foo", false },
    { "*.>", "foo.bar", true },
    { "foo.*.>", "foo.bar.baz.qux", true },
    { "foo.*.>", "foo.bar", false },
    { "foo*", "foo*", true },
    { "foo*", "foox", false },
    { "f>", "f>", true },
    { "a.b.c.d.e.f.g", "a.b.c.d.e.f.g", true },
    { "a.b.c.d.e.f.*", "a.b.c.d.e.f.g", true },
};

static void test_wildcard_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
        const char *pat = match_cases[i].pat, *subj = match_cases[i].subj;
        bool want = match_cases[i].match;
        if (mn_subject_matches(pat, strlen(pat), subj, strlen(subj)) != want)
            fail_msg("mn_subject_matches(%s, %s) != %d", pat, subj, want);

        mn_sublist *sl = mn_sublist_new();
        mn_sub *s = mksub(pat, NULL);
        mn_sub *q = mksub(pat, "workers");
        assert_int_equal(mn_sublist_insert(sl, s), MN_OK);
        assert_int_equal(mn_sublist_insert(sl, q), MN_OK);
        mn_result *r = mn_sublist_match(sl, subj, strlen(subj));
        assert_non_null(r);
        if ((r->npsubs == 1) != want || (r->nqgroups == 1) != want)
            fail_msg("trie: %s vs %s: got %zu psubs %zu groups, want %d", pat, subj,
                     r->npsubs, r->nqgroups, want);
        if (want) {
            assert_ptr_equal(r->psubs[0], s);
            assert_int_equal(r->qgroups[0].n, 1);
            assert_ptr_equal(r->qgroups[0].subs[0], q);
        }
        assert_int_equal(mn_sublist_has_interest(sl, subj, strlen(subj)), want);
        mn_result_free(r);
        mn_sublist_free(sl);
        freesub(s);
        freesub(q);
    }
}

/* Several patterns at once, each reported exactly once. */
static void test_mixed_patterns(void **state)
{
    (void)state;
    const char *pats[] = { "foo.bar", "foo.*", "*.bar", "*.*", ">", "foo.>", "foo.bar.>",
                           "foo", "bar.*", "foo.baz" };
    enum { N = sizeof pats / sizeof pats[0] };
    mn_sublist *sl = mn_sublist_new();
    mn_sub *subs[N];
    for (size_t i = 0; i < N; i++) {
        subs[i] = mksub(pats[i], NULL);
        assert_int_equal(mn_sublist_insert(sl, subs[i]), MN_OK);
    }
    assert_int_equal(mn_sublist_count(sl), N);
    const char *subjects[] = { "foo.bar", "foo", "foo.bar.baz", "bar.bar", "x.y.z", "foo.baz" };
    for (size_t k = 0; k < sizeof subjects / sizeof subjects[0]; k++) {
        mn_result *r = mn_sublist_match(sl, subjects[k], strlen(subjects[k]));
        const char *err = check_result(r, subs, N, subjects[k]);
        if (err)
            fail_msg("%s", err);
        mn_result_free(r);
    }
    assert_int_equal(npsubs_of(sl, "foo.bar"), 6); /* foo.bar foo.* *.bar *.* > foo.> */
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(mn_sublist_remove(sl, subs[i]), MN_OK);
        freesub(subs[i]);
    }
    mn_sublist_free(sl);
}

static void test_queue_groups(void **state)
{
    (void)state;
    mn_sublist *sl = mn_sublist_new();
    mn_sub *p1 = mksub("foo.bar", NULL);
    mn_sub *a1 = mksub("foo.bar", "A");
    mn_sub *a2 = mksub("foo.bar", "A");
    mn_sub *a3 = mksub("foo.*", "A");
    mn_sub *a4 = mksub(">", "A");
    mn_sub *b1 = mksub("foo.>", "B");
    mn_sub *c1 = mksub("baz", "C");
    mn_sub *all[] = { p1, a1, a2, a3, a4, b1, c1 };
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(mn_sublist_insert(sl, all[i]), MN_OK);

    mn_result *r = mn_sublist_match(sl, "foo.bar", 7);
    assert_int_equal(r->npsubs, 1);
    assert_ptr_equal(r->psubs[0], p1);
    assert_int_equal(r->nqgroups, 2);
    for (size_t g = 0; g < 2; g++) {
        const mn_qgroup *qg = &r->qgroups[g];
        if (strcmp(qg->subs[0]->queue, "A") == 0)
            assert_int_equal(qg->n, 4);
        else if (strcmp(qg->subs[0]->queue, "B") == 0)
            assert_int_equal(qg->n, 1);
        else
            fail_msg("unexpected group %s", qg->subs[0]->queue);
    }
    assert_null(check_result(r, all, 7, "foo.bar"));
    mn_result_free(r);

    /* Only queue subs: psubs empty, group present. */
    r = mn_sublist_match(sl, "baz", 3);
    assert_int_equal(r->npsubs, 0);
    assert_int_equal(r->nqgroups, 2); /* C, and A through '>' */
    mn_result_free(r);

    /* Removing the last member of a group drops the group. */
    assert_int_equal(mn_sublist_remove(sl, b1), MN_OK);
    r = mn_sublist_match(sl, "foo.bar", 7);
    assert_int_equal(r->nqgroups, 1);
    assert_int_equal(r->qgroups[0].n, 4);
    mn_result_free(r);

    /* Same subject, same pointer twice is refused; a queue sub is not found
     * by a lookup as a plain one. */
    assert_int_equal(mn_sublist_insert(sl, a1), MN_EINVAL);
    assert_int_equal(mn_sublist_remove(sl, b1), MN_ENOTFOUND);
    for (size_t i = 0; i < 7; i++) {
        if (all[i] != b1)
            assert_int_equal(mn_sublist_remove(sl, all[i]), MN_OK);
        freesub(all[i]);
    }
    assert_int_equal(mn_sublist_count(sl), 0);
    mn_sublist_free(sl);
}

/* More than the on-stack capacities: many matching nodes, many groups
 * with the same names spread over nodes, a subject with many tokens. */
static void test_wide_results(void **state)
{
    (void)state;
    mn_sublist *sl = mn_sublist_new();
    enum { NT = 40 };
    /* Subject t0.t1...t39; patterns with '*' in each position, plus '>'
     * after each prefix: 80 matching nodes, each with plain and queue subs. */
    char subj[NT * 4], pat[NT * 4];
    size_t len = 0;
    for (int i = 0; i < NT; i++)
        len += (size_t)sprintf(subj + len, "%st%d", i ? "." : "", i);
    mn_sub *subs[NT * 6];
    size_t ns = 0;
    char qname[16];
    for (int w = 0; w < NT; w++) {
        size_t pl = 0;
        for (int i = 0; i < NT; i++)
            pl += (size_t)(i == w ? sprintf(pat + pl, "%s*", i ? "." : "")
                                  : sprintf(pat + pl, "%st%d", i ? "." : "", i));
        subs[ns++] = mksub(pat, NULL);
        snprintf(qname, sizeof qname, "q%d", w % 50);
        subs[ns++] = mksub(pat, qname);
        pl = 0;
        for (int i = 0; i < w; i++)
            pl += (size_t)sprintf(pat + pl, "t%d.", i);
        sprintf(pat + pl, ">");
        subs[ns++] = mksub(pat, NULL);
        snprintf(qname, sizeof qname, "q%d", (w * 7) % 45);
        subs[ns++] = mksub(pat, qname);
    }
    for (size_t i = 0; i < ns; i++)
        assert_int_equal(mn_sublist_insert(sl, subs[i]), MN_OK);
    mn_result *r = mn_sublist_match(sl, subj, len);
    const char *err = check_result(r, subs, ns, subj);
    if (err)
        fail_msg("%s", err);
    assert_int_equal(r->npsubs, 2 * NT);
    mn_result_free(r);
    for (size_t i = 0; i < ns; i++) {
        assert_int_equal(mn_sublist_remove(sl, subs[i]), MN_OK);
        freesub(subs[i]);
    }
    assert_int_equal(mn_sublist_count(sl), 0);
    mn_sublist_free(sl);
}

/* Many queue groups and members on one node (the indexed paths). */
static void test_many_groups_one_node(void **state)
{
    (void)state;
    enum { NG = 40, PER = 12 };
    mn_sublist *sl = mn_sublist_new();
    mn_sub *subs[NG * PER + PER];
    size_t ns = 0;
    char q[24];
    for (int g = 0; g < NG; g++) {
        snprintf(q, sizeof q, "group%d", g);
        for (int k = 0; k < PER; k++)
            subs[ns++] = mksub(g % 2 ? "x.y" : "x.*", q);
    }
    for (int k = 0; k < PER; k++)
        subs[ns++] = mksub("x.y", NULL);
    for (size_t i = 0; i < ns; i++)
        assert_int_equal(mn_sublist_insert(sl, subs[i]), MN_OK);
    mn_result *r = mn_sublist_match(sl, "x.y", 3);
    assert_null(check_result(r, subs, ns, "x.y"));
    assert_int_equal(r->nqgroups, NG);
    assert_int_equal(r->npsubs, PER);
    mn_result_free(r);
    /* Drop every other member, then whole groups, checking as we go. */
    size_t live = ns;
    for (size_t i = 0; i < live; i += 2) {
        assert_int_equal(mn_sublist_remove(sl, subs[i]), MN_OK);
        freesub(subs[i]);
        subs[i] = subs[--live];
        subs[live] = NULL;
        r = mn_sublist_match(sl, "x.y", 3);
        const char *err = check_result(r, subs, live, "x.y");
        if (err)
            fail_msg("%s", err);
        mn_result_free(r);
    }
    for (size_t i = 0; i < ns; i++) {
        if (subs[i]) {
            assert_int_equal(mn_sublist_remove(sl, subs[i]), MN_OK);
            freesub(subs[i]);
        }
    }
    assert_int_equal(mn_sublist_count(sl), 0);
    mn_sublist_free(sl);
}

/* ---- syntax ------------------------------------------------------------ */

static const struct { const char *s; bool literal, sub, is_literal; } syntax_cases[] = {
    { "foo", true, true, true },
    { "foo.bar.baz", true, true, true },
    { "", false, false, true },
    { ".", false, false, true },
    { "foo.", false, false, true },
    { ".foo", false, false, true },
    { "foo..bar", false, false, true },
    { "foo bar", false, false, true },
    { "foo\tbar", false, false, true },
    { "foo\r", false, false, true },
    { "foo\n.bar", false, false, true },
    { "*", false, true, false },
    { ">", false, true, false },
    { "foo.*", false, true, false },
    { "*.foo", false, true, false },
    { "foo.*.bar", false, true, false },
    { "foo.>", false, true, false },
    { "foo.>.bar", false, false, false },
    { ">.foo", false, false, false },
    { "*.>", false, true, false },
    { "foo*", true, true, true },
    { "*foo", true, true, true },
    { "foo.>bar", true, true, true },
    { "foo.b*r", true, true, true },
    { "**", true, true, true },
    { ">>", true, true, true },
    { "foo.**.bar", true, true, true },
    { "foo.*.", false, false, false },
    { "$SYS.REQ.SERVER.PING", true, true, true },
    { "_INBOX.abc-DEF_123", true, true, true },
};

static void test_syntax_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof syntax_cases / sizeof syntax_cases[0]; i++) {
        const char *s = syntax_cases[i].s;
        size_t n = strlen(s);
        if (mn_subject_valid_literal(s, n) != syntax_cases[i].literal)
            fail_msg("valid_literal(\"%s\")", s);
        if (mn_subject_valid_sub(s, n) != syntax_cases[i].sub)
            fail_msg("valid_sub(\"%s\")", s);
        if (mn_subject_is_literal(s, n) != syntax_cases[i].is_literal)
            fail_msg("is_literal(\"%s\")", s);
    }
    /* Length is honoured, not the NUL; an embedded NUL is invalid. */
    assert_true(mn_subject_valid_literal("foo.bar", 3));
    assert_false(mn_subject_valid_literal("foo.bar", 4));
    assert_false(mn_subject_valid_literal("fo\0o", 4));
    assert_false(mn_subject_valid_literal(NULL, 0));
}

static void test_insert_invalid(void **state)
{
    (void)state;
    mn_sublist *sl = mn_sublist_new();
    const char *bad[] = { "", "foo..bar", "foo.", "foo bar", ">.foo", "foo.>.bar", "a\tb" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mn_sub *s = mksub(bad[i], NULL);
        assert_int_equal(mn_sublist_insert(sl, s), MN_EINVAL);
        assert_int_equal(mn_sublist_remove(sl, s), MN_ENOTFOUND);
        freesub(s);
    }
    mn_sub *q = mksub("foo", "bad queue");
    assert_int_equal(mn_sublist_insert(sl, q), MN_EINVAL);
    freesub(q);
    assert_int_equal(mn_sublist_count(sl), 0);
    assert_int_equal(mn_sublist_genid(sl), 0);

    /* Matching a malformed subject finds nothing rather than failing. */
    mn_sub *all = mksub(">", NULL);
    assert_int_equal(mn_sublist_insert(sl, all), MN_OK);
    assert_int_equal(npsubs_of(sl, "foo..bar"), 0);
    assert_int_equal(npsubs_of(sl, "foo."), 0);
    assert_int_equal(npsubs_of(sl, ""), 0);
    assert_int_equal(npsubs_of(sl, "foo"), 1);
    assert_false(mn_sublist_has_interest(sl, "", 0));
    assert_int_equal(mn_sublist_remove(sl, all), MN_OK);
    freesub(all);
    mn_sublist_free(sl);
}

/* ---- remove, prune, genid, foreach -------------------------------------- */

static void count_cb(mn_sub *s, void *arg)
{
    (void)s;
    ++*(size_t *)arg;
}

static void test_remove_prune(void **state)
{
    (void)state;
    enum { N = 3000 };
    mn_sublist *sl = mn_sublist_new();
    mn_sub **subs = calloc(N, sizeof *subs);
    char buf[128];
    uint64_t rs = 42;
    for (size_t i = 0; i < N; i++) {
        unsigned a = (unsigned)(rng_next(&rs) % 100), b = (unsigned)(rng_next(&rs) % 50);
        switch (i % 5) {
        case 0: snprintf(buf, sizeof buf, "svc.%u.req.%u.x%zu", a, b, i); break;
        case 1: snprintf(buf, sizeof buf, "svc.*.req.%u", b); break;
        case 2: snprintf(buf, sizeof buf, "svc.%u.>", a); break;
        case 3: snprintf(buf, sizeof buf, "*.%u.*.%u", a, b); break;
        default: snprintf(buf, sizeof buf, "deep.%u.%u.%zu.a.b.c", a, b, i); break;
        }
        subs[i] = mksub(buf, i % 3 == 0 ? (i % 2 ? "q1" : "q2") : NULL);
    }
    /* Warm up anything lazily allocated outside the sublist. */
    mn_sublist_free(mn_sublist_new());
    size_t before = heap_in_use();
    uint64_t g0 = mn_sublist_genid(sl);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(mn_sublist_insert(sl, subs[i]), MN_OK);
    assert_int_equal(mn_sublist_count(sl), N);
    assert_int_equal(mn_sublist_genid(sl), g0 + N);
    size_t seen = 0;
    mn_sublist_foreach(sl, count_cb, &seen);
    assert_int_equal(seen, N);
    size_t full = heap_in_use();
    assert_true(full > before + N * 32);

    /* Remove in a different order than inserted. */
    for (size_t k = 0; k < N; k++) {
        size_t i = (k * 7919) % N;
        assert_int_equal(mn_sublist_remove(sl, subs[i]), MN_OK);
        assert_int_equal(mn_sublist_remove(sl, subs[i]), MN_ENOTFOUND);
    }
    assert_int_equal(mn_sublist_count(sl), 0);
    assert_int_equal(mn_sublist_genid(sl), g0 + 2 * N);
    seen = 0;
    mn_sublist_foreach(sl, count_cb, &seen);
    assert_int_equal(seen, 0);
    size_t after = heap_in_use();
    /* Exact under the sanitizers; malloc's thread cache blurs mallinfo by a
     * few KB, far less than the 5% an unpruned trie would keep. */
    if (after > before + (full - before) / 20)
        fail_msg("trie not pruned: %zu bytes before, %zu full, %zu after removing all",
                 before, full, after);
    assert_false(mn_sublist_has_interest(sl, "svc.1.req.1", 11));

    /* Free with subs still inserted frees the nodes only. */
    for (size_t i = 0; i < N; i++)
        assert_int_equal(mn_sublist_insert(sl, subs[i]), MN_OK);
    mn_sublist_free(sl);
    for (size_t i = 0; i < N; i++)
        freesub(subs[i]);
    free(subs);
}

/* ---- cache ---------------------------------------------------------------- */

static void test_cache_invalidation(void **state)
{
    (void)state;
    mn_sublist *sl = mn_sublist_new();
    mn_match_cache *c = mn_match_cache_new(sl, 64);
    const mn_result *r = mn_match_cache_get(c, "foo.bar", 7);
    assert_non_null(r);
    assert_int_equal(r->npsubs, 0);
    assert_ptr_equal(mn_match_cache_get(c, "foo.bar", 7), r); /* a hit */

    mn_sub *lit = mksub("foo.bar", NULL);
    mn_sub *wc = mksub("foo.*", NULL);
    mn_sub *fw = mksub(">", "q");
    mn_sub *other = mksub("zzz", NULL);

    assert_int_equal(mn_sublist_insert(sl, lit), MN_OK);
    r = mn_match_cache_get(c, "foo.bar", 7);
    assert_int_equal(r->npsubs, 1);
    assert_ptr_equal(r->psubs[0], lit);

    assert_int_equal(mn_sublist_insert(sl, wc), MN_OK);
    r = mn_match_cache_get(c, "foo.bar", 7);
    assert_int_equal(r->npsubs, 2);

    assert_int_equal(mn_sublist_insert(sl, fw), MN_OK);
    r = mn_match_cache_get(c, "foo.bar", 7);
    assert_int_equal(r->npsubs, 2);
    assert_int_equal(r->nqgroups, 1);

    /* A change elsewhere in the trie still invalidates (by design). */
    assert_int_equal(mn_sublist_insert(sl, other), MN_OK);
    const mn_result *r2 = mn_match_cache_get(c, "foo.bar", 7);
    assert_int_equal(r2->npsubs, 2);
    assert_ptr_equal(mn_match_cache_get(c, "foo.bar", 7), r2);

    assert_int_equal(mn_sublist_remove(sl, lit), MN_OK);
    r = mn_match_cache_get(c, "foo.bar", 7);
    assert_int_equal(r->npsubs, 1);
    assert_ptr_equal(r->psubs[0], wc);
    /* r2 stays readable until the next quiescent point. */
    assert_int_equal(r2->npsubs, 2);

    assert_int_equal(mn_sublist_remove(sl, wc), MN_OK);
    r = mn_match_cache_get(c, "foo.bar", 7);
    assert_int_equal(r->npsubs, 0);
    assert_int_equal(r->nqgroups, 1);
    assert_int_equal(mn_sublist_remove(sl, fw), MN_OK);
    r = mn_match_cache_get(c, "foo.bar", 7);
    assert_int_equal(r->nqgroups, 0);
    r = mn_match_cache_get(c, "zzz", 3);
    assert_int_equal(r->npsubs, 1);

    mn_match_cache_free(c);
    mn_sublist_remove(sl, other);
    mn_sublist_free(sl);
    freesub(lit);
    freesub(wc);
    freesub(fw);
    freesub(other);
    mn_qsbr_quiescent();
}

static void test_cache_eviction(void **state)
{
    (void)state;
    mn_sublist *sl = mn_sublist_new();
    mn_sub *s = mksub("a.*", NULL);
    assert_int_equal(mn_sublist_insert(sl, s), MN_OK);
    enum { MAX = 4, NSUBJ = 5 };
    mn_match_cache *c = mn_match_cache_new(sl, MAX);
    const mn_result *first[NSUBJ];
    char subj[32];
    for (int i = 0; i < NSUBJ; i++) {
        int n = snprintf(subj, sizeof subj, "a.%d", i);
        first[i] = mn_match_cache_get(c, subj, (size_t)n);
        assert_int_equal(first[i]->npsubs, 1);
        assert_ptr_equal(mn_match_cache_get(c, subj, (size_t)n), first[i]);
    }
    /* Five subjects in four slots: at least one must have been evicted and
     * recomputed (retired results are not freed before quiescence, so a
     * new result cannot reuse an old address). */
    int same = 0;
    for (int i = 0; i < NSUBJ; i++) {
        int n = snprintf(subj, sizeof subj, "a.%d", i);
        const mn_result *r = mn_match_cache_get(c, subj, (size_t)n);
        assert_int_equal(r->npsubs, 1);
        same += r == first[i];
    }
    assert_true(same < NSUBJ);

    /* Heavy churn through a tiny cache stays correct. */
    for (int i = 0; i < 20000; i++) {
        int k = i % 97;
        int n = snprintf(subj, sizeof subj, k % 2 ? "a.%d" : "b.%d", k);
        const mn_result *r = mn_match_cache_get(c, subj, (size_t)n);
        assert_int_equal(r->npsubs, (size_t)(k % 2));
        if (i % 1000 == 0)
            mn_qsbr_quiescent();
    }
    mn_match_cache_free(c);

    /* A cache of one. */
    c = mn_match_cache_new(sl, 0);
    for (int i = 0; i < 100; i++) {
        const mn_result *r = mn_match_cache_get(c, i % 2 ? "a.x" : "b.x", 3);
        assert_int_equal(r->npsubs, (size_t)(i % 2));
    }
    mn_match_cache_free(c);
    assert_int_equal(mn_sublist_remove(sl, s), MN_OK);
    freesub(s);
    mn_sublist_free(sl);
    mn_qsbr_quiescent();
}

/* ---- randomized against the reference ----------------------------------- */

static void random_pattern(uint64_t *rs, char *buf, size_t cap, bool wild)
{
    static const char *toks[] = { "a", "b", "c", "dd", "*", ">" };
    int nt = 1 + (int)(rng_next(rs) % 4);
    size_t len = 0;
    for (int i = 0; i < nt; i++) {
        int k = (int)(rng_next(rs) % (wild ? 6 : 4));
        if (k == 5 && i != nt - 1)
            k = 4;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? "." : "", toks[k]);
    }
}

static void test_random_vs_reference(void **state)
{
    (void)state;
    enum { OPS = 30000, MAXLIVE = 400 };
    uint64_t rs = 0x9e3779b97f4a7c15ull;
    mn_sublist *sl = mn_sublist_new();
    mn_match_cache *c = mn_match_cache_new(sl, 32);
    mn_sub *live[MAXLIVE];
    size_t nlive = 0, nmatch = 0;
    char buf[64];
    static const char *queues[] = { NULL, NULL, NULL, "q1", "q2", "q3" };
    for (int op = 0; op < OPS; op++) {
        unsigned r = (unsigned)(rng_next(&rs) % 100);
        if (r < 35 && nlive < MAXLIVE) {
            random_pattern(&rs, buf, sizeof buf, true);
            mn_sub *s = mksub(buf, queues[rng_next(&rs) % 6]);
            assert_int_equal(mn_sublist_insert(sl, s), MN_OK);
            live[nlive++] = s;
        } else if (r < 60 && nlive) {
            size_t i = rng_next(&rs) % nlive;
            assert_int_equal(mn_sublist_remove(sl, live[i]), MN_OK);
            mn_qsbr_retire(live[i], freesub);
            live[i] = live[--nlive];
        } else {
            random_pattern(&rs, buf, sizeof buf, false);
            size_t len = strlen(buf);
            mn_result *m = mn_sublist_match(sl, buf, len);
            const char *err = check_result(m, live, nlive, buf);
            if (err)
                fail_msg("op %d uncached: %s", op, err);
            bool any = m->npsubs || m->nqgroups;
            assert_int_equal(mn_sublist_has_interest(sl, buf, len), any);
            mn_result_free(m);
            err = check_result(mn_match_cache_get(c, buf, len), live, nlive, buf);
            if (err)
                fail_msg("op %d cached: %s", op, err);
            nmatch++;
        }
        assert_int_equal(mn_sublist_count(sl), nlive);
    }
    assert_true(nmatch > OPS / 4);
    mn_match_cache_free(c);
    for (size_t i = 0; i < nlive; i++) {
        assert_int_equal(mn_sublist_remove(sl, live[i]), MN_OK);
        freesub(live[i]);
    }
    mn_sublist_free(sl);
    mn_qsbr_quiescent();
}

/* 50,000 mixed subscriptions: sampled matches checked against the scan. */
static void test_big_trie(void **state)
{
    (void)state;
    enum { N = 50000, SAMPLES = 300 };
    mn_sublist *sl = mn_sublist_new();
    mn_sub **subs = calloc(N, sizeof *subs);
    uint64_t rs = 7;
    char buf[128];
    for (size_t i = 0; i < N; i++) {
        unsigned a = (unsigned)(rng_next(&rs) % 200), b = (unsigned)(rng_next(&rs) % 200);
        switch (i % 10) {
        case 0: snprintf(buf, sizeof buf, "orders.%u.*", a); break;
        case 1: snprintf(buf, sizeof buf, "orders.*.%u", b); break;
        case 2: snprintf(buf, sizeof buf, "orders.%u.>", a); break;
        case 3: snprintf(buf, sizeof buf, "*.%u.%u", a, b); break;
        default: snprintf(buf, sizeof buf, "orders.%u.%u", a, b); break;
        }
        subs[i] = mksub(buf, i % 7 == 0 ? (i % 2 ? "w1" : "w2") : NULL);
        assert_int_equal(mn_sublist_insert(sl, subs[i]), MN_OK);
    }
    mn_match_cache *c = mn_match_cache_new(sl, 128);
    for (int k = 0; k < SAMPLES; k++) {
        unsigned a = (unsigned)(rng_next(&rs) % 220), b = (unsigned)(rng_next(&rs) % 220);
        snprintf(buf, sizeof buf, k % 5 ? "orders.%u.%u" : "x.%u.%u", a, b);
        const char *err = check_result(mn_match_cache_get(c, buf, strlen(buf)), subs, N, buf);
        if (err)
            fail_msg("%s", err);
    }
    mn_match_cache_free(c);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(mn_sublist_remove(sl, subs[i]), MN_OK);
        freesub(subs[i]);
    }
    assert_int_equal(mn_sublist_count(sl), 0);
    free(subs);
    mn_sublist_free(sl);
    mn_qsbr_quiescent();
}

/* ---- concurrency ------------------------------------------------------------ */

enum { NMARKERS = 200, NREADERS = 3, NWRITERS = 2 };

typedef struct conc {
    mn_sublist   *sl;
    mn_sub       *fixed;          /* "stable.a", present throughout */
    mn_sub       *fixed_q;        /* "stable.*" queue "qs", present throughout */
    mn_sub       *markers[NMARKERS];
    atomic_int    removed_upto;   /* markers below this index are gone */
    atomic_int    writers_done;
    atomic_long   failures;
    atomic_long   reads;
    int           iters;
} conc;

/* Markers carry their index + 1 in ctx. */
static long check_conc(conc *t, const mn_result *r, const char *subj, int upto)
{
    long bad = 0;
    bool fixed = false, fixed_q = false;
    for (size_t i = 0; i < r->npsubs; i++) {
        mn_sub *s = r->psubs[i];
        bad += !sub_matches(s, subj);
        fixed |= s == t->fixed;
        intptr_t m = (intptr_t)s->ctx;
        bad += m && m - 1 < upto;
    }
    for (size_t g = 0; g < r->nqgroups; g++) {
        for (size_t k = 0; k < r->qgroups[g].n; k++) {
            mn_sub *s = r->qgroups[g].subs[k];
            bad += !sub_matches(s, subj);
            bad += strcmp(s->queue, r->qgroups[g].subs[0]->queue) != 0;
            fixed_q |= s == t->fixed_q;
        }
    }
    if (strcmp(subj, "stable.a") == 0)
        bad += !fixed;
    if (strncmp(subj, "stable.", 7) == 0 && strchr(subj + 7, '.') == NULL)
        bad += !fixed_q;
    return bad;
}

static void *conc_reader(void *arg)
{
    conc *t = arg;
    static const char *subjects[] = { "stable.a", "stable.b", "churn.x", "churn.y.z",
                                      "stable.a.b", "other" };
    mn_qsbr_register();
    mn_match_cache *c = mn_match_cache_new(t->sl, 8);
    long bad = 0;
    for (int i = 0; !atomic_load(&t->writers_done) || i < t->iters; i++) {
        const char *subj = subjects[i % 6];
        int upto = atomic_load_explicit(&t->removed_upto, memory_order_acquire);
        const mn_result *r = (i % 10 == 9)
                                 ? mn_sublist_match(t->sl, subj, strlen(subj))
                                 : mn_match_cache_get(c, subj, strlen(subj));
        if (!r) {
            bad++;
        } else {
            bad += check_conc(t, r, subj, upto);
            if (i % 10 == 9)
                mn_result_free((mn_result *)r);
        }
        mn_qsbr_quiescent();
    }
    mn_match_cache_free(c);
    atomic_fetch_add(&t->failures, bad);
    mn_qsbr_unregister();
    return NULL;
}

typedef struct writer_arg {
    conc *t;
    int   id;
} writer_arg;

static void *conc_writer(void *arg)
{
    writer_arg *w = arg;
    conc *t = w->t;
    static const char *pats[] = { "stable.a", "stable.*", "stable.>", "*.a", ">", "churn.*",
                                  "churn.>", "churn.y.z", "*.*" };
    static const char *queues[] = { NULL, "qs", "q2" };
    uint64_t rs = 1234567 + (uint64_t)w->id;
    mn_sub *mine[16] = { 0 };
    long bad = 0;
    for (int i = 0; i < t->iters; i++) {
        int k = (int)(rng_next(&rs) % 16);
        if (mine[k]) {
            bad += mn_sublist_remove(t->sl, mine[k]) != MN_OK;
            mn_qsbr_retire(mine[k], freesub);
            mine[k] = NULL;
        } else {
            mine[k] = mksub(pats[rng_next(&rs) % 9], queues[rng_next(&rs) % 3]);
            bad += mn_sublist_insert(t->sl, mine[k]) != MN_OK;
        }
        /* Writer 0 also removes the markers, announcing each one. */
        if (w->id == 0 && i % (t->iters / NMARKERS) == 0) {
            int m = atomic_load(&t->removed_upto);
            if (m < NMARKERS) {
                bad += mn_sublist_remove(t->sl, t->markers[m]) != MN_OK;
                mn_qsbr_retire(t->markers[m], freesub);
                atomic_store_explicit(&t->removed_upto, m + 1, memory_order_release);
            }
        }
    }
    for (int k = 0; k < 16; k++) {
        if (mine[k]) {
            bad += mn_sublist_remove(t->sl, mine[k]) != MN_OK;
            mn_qsbr_retire(mine[k], freesub);
        }
    }
    atomic_fetch_add(&t->failures, bad);
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    conc *t = calloc(1, sizeof *t);
    t->sl = mn_sublist_new();
    t->iters = 20000;
    t->fixed = mksub("stable.a", NULL);
    t->fixed_q = mksub("stable.*", "qs");
    assert_int_equal(mn_sublist_insert(t->sl, t->fixed), MN_OK);
    assert_int_equal(mn_sublist_insert(t->sl, t->fixed_q), MN_OK);
    for (int i = 0; i < NMARKERS; i++) {
        t->markers[i] = mksub(i % 2 ? "stable.a" : "stable.*", NULL);
        t->markers[i]->ctx = (void *)(intptr_t)(i + 1);
        assert_int_equal(mn_sublist_insert(t->sl, t->markers[i]), MN_OK);
    }
    pthread_t rd[NREADERS], wr[NWRITERS];
    writer_arg wa[NWRITERS];
    for (int i = 0; i < NREADERS; i++)
        assert_int_equal(pthread_create(&rd[i], NULL, conc_reader, t), 0);
    for (int i = 0; i < NWRITERS; i++) {
        wa[i].t = t;
        wa[i].id = i;
        assert_int_equal(pthread_create(&wr[i], NULL, conc_writer, &wa[i]), 0);
    }
    mn_qsbr_offline();
    for (int i = 0; i < NWRITERS; i++)
        pthread_join(wr[i], NULL);
    atomic_store(&t->writers_done, 1);
    for (int i = 0; i < NREADERS; i++)
        pthread_join(rd[i], NULL);
    mn_qsbr_online();
    assert_int_equal(atomic_load(&t->failures), 0);
    assert_int_equal(atomic_load(&t->removed_upto), NMARKERS);
    assert_int_equal(mn_sublist_count(t->sl), 2);
    assert_int_equal(mn_sublist_remove(t->sl, t->fixed), MN_OK);
    assert_int_equal(mn_sublist_remove(t->sl, t->fixed_q), MN_OK);
    mn_sublist_free(t->sl);
    freesub(t->fixed);
    freesub(t->fixed_q);
    free(t);
    mn_qsbr_quiescent();
}

/* ---- runner --------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    return mn_qsbr_register() == MN_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    mn_qsbr_unregister();
    mn_qsbr_drain_all();
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wildcard_table),
        cmocka_unit_test(test_mixed_patterns),
        cmocka_unit_test(test_queue_groups),
        cmocka_unit_test(test_wide_results),
        cmocka_unit_test(test_many_groups_one_node),
        cmocka_unit_test(test_syntax_table),
        cmocka_unit_test(test_insert_invalid),
        cmocka_unit_test(test_remove_prune),
        cmocka_unit_test(test_cache_invalidation),
        cmocka_unit_test(test_cache_eviction),
        cmocka_unit_test(test_random_vs_reference),
        cmocka_unit_test(test_big_trie),
        cmocka_unit_test(test_concurrent),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("sublist", tests, group_setup, group_teardown);
}
