/*
 * fuzz_sublist.c - libFuzzer target for core/sublist.c.
 *
 * The input is a program over a small token alphabet: subscribe a pattern
 * (valid or not) into one of 32 slots, unsubscribe a slot, or match a
 * subject.  Every insert result is checked against the syntax rules, and
 * every match (uncached, through a tiny cache that keeps evicting, and
 * has_interest) against a linear scan with mn_subject_matches.  Any
 * disagreement aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sublist.h"
#include "qsbr.h"

enum { SLOTS = 32, MAXTOK = 6, SUBJ_MAX = 64 };

/* Includes tokens that are invalid in a subscription or that only look
 * like wildcards, so syntax checking is exercised too. */
static const char *const alphabet[] = { "a", "b", "c", "*", ">", "", "a b", "a*", "foo" };
enum { NALPHA = sizeof alphabet / sizeof alphabet[0] };

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static unsigned next(reader *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "fuzz_sublist: %s:%d: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* Build a subject from the input; *valid tells whether it is a valid
 * subscription subject by construction. */
static size_t make_subject(reader *r, char *buf, bool *valid)
{
    unsigned nt = 1 + next(r) % MAXTOK;
    size_t len = 0;
    *valid = true;
    for (unsigned i = 0; i < nt; i++) {
        const char *t = alphabet[next(r) % NALPHA];
        if (*t == '\0' || strchr(t, ' ') || (strcmp(t, ">") == 0 && i + 1 != nt))
            *valid = false;
        len += (size_t)snprintf(buf + len, SUBJ_MAX - len, "%s%s", i ? "." : "", t);
    }
    return len;
}

static void sub_free(void *p)
{
    mn_sub *s = p;
    free((char *)s->subject);
    free(s);
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

/* r must hold exactly the live subs matching subj, queue subs grouped by
 * name with one group per name. */
static void check(const mn_result *r, mn_sub *const *live, const char *subj, size_t slen)
{
    mn_sub *want[SLOTS], *got[SLOTS];
    size_t nw = 0, ng = 0;
    CHECK(r != NULL);
    for (int i = 0; i < SLOTS; i++)
        if (live[i] && mn_subject_matches(live[i]->subject, live[i]->subject_len, subj, slen))
            want[nw++] = live[i];
    size_t total = r->npsubs;
    for (size_t g = 0; g < r->nqgroups; g++)
        total += r->qgroups[g].n;
    CHECK(total == nw);
    for (size_t i = 0; i < r->npsubs; i++) {
        CHECK(r->psubs[i]->queue_len == 0);
        got[ng++] = r->psubs[i];
    }
    for (size_t g = 0; g < r->nqgroups; g++) {
        const mn_qgroup *q = &r->qgroups[g];
        CHECK(q->n > 0);
        for (size_t k = 0; k < q->n; k++) {
            CHECK(q->subs[k]->queue_len > 0);
            CHECK(strcmp(q->subs[k]->queue, q->subs[0]->queue) == 0);
            got[ng++] = q->subs[k];
        }
        for (size_t h = 0; h < g; h++)
            CHECK(strcmp(r->qgroups[h].subs[0]->queue, q->subs[0]->queue) != 0);
    }
    qsort(want, nw, sizeof *want, cmp_ptr);
    qsort(got, ng, sizeof *got, cmp_ptr);
    CHECK(nw == 0 || memcmp(want, got, nw * sizeof *want) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const queues[] = { NULL, NULL, "q1", "q2" };
    reader rd = { data, size };
    mn_sublist *sl = mn_sublist_new();
    mn_match_cache *c = mn_match_cache_new(sl, 1 + (size % 4));
    mn_sub *live[SLOTS] = { 0 };
    size_t nlive = 0;
    char buf[SUBJ_MAX];
    CHECK(sl && c);

    while (rd.n) {
        unsigned op = next(&rd);
        unsigned slot = (op >> 2) % SLOTS;
        bool valid;
        switch (op & 3) {
        case 0: { /* subscribe */
            size_t len = make_subject(&rd, buf, &valid);
            const char *q = queues[next(&rd) % 4];
            CHECK(mn_subject_valid_sub(buf, len) == valid);
            mn_sub *s = calloc(1, sizeof *s);
            CHECK(s);
            s->subject = strndup(buf, len);
            s->subject_len = (uint32_t)len;
            s->queue = q;
            s->queue_len = q ? (uint32_t)strlen(q) : 0;
            s->weight = 1;
            int rc = mn_sublist_insert(sl, s);
            if (!valid || live[slot]) {
                /* Invalid, or re-use a slot: re-inserting the same pointer
                 * must be refused, not duplicated. */
                CHECK(valid ? rc == MN_OK : rc == MN_EINVAL);
                if (rc == MN_OK) {
                    CHECK(mn_sublist_insert(sl, s) == MN_EINVAL);
                    CHECK(mn_sublist_remove(sl, s) == MN_OK);
                }
                sub_free(s);
                break;
            }
            CHECK(rc == MN_OK);
            live[slot] = s;
            nlive++;
            break;
        }
        case 1: /* unsubscribe */
            if (live[slot]) {
                CHECK(mn_sublist_remove(sl, live[slot]) == MN_OK);
                CHECK(mn_sublist_remove(sl, live[slot]) == MN_ENOTFOUND);
                mn_qsbr_retire(live[slot], sub_free);
                live[slot] = NULL;
                nlive--;
            }
            break;
        default: { /* match */
            size_t len = make_subject(&rd, buf, &valid);
            mn_result *m = mn_sublist_match(sl, buf, len);
            check(m, live, buf, len);
            CHECK(mn_sublist_has_interest(sl, buf, len) == (m->npsubs || m->nqgroups));
            mn_result_free(m);
            check(mn_match_cache_get(c, buf, len), live, buf, len);
            /* Twice: the second may be a hit. */
            check(mn_match_cache_get(c, buf, len), live, buf, len);
            break;
        }
        }
        CHECK(mn_sublist_count(sl) == nlive);
    }

    mn_match_cache_free(c);
    for (int i = 0; i < SLOTS; i++) {
        if (live[i]) {
            CHECK(mn_sublist_remove(sl, live[i]) == MN_OK);
            sub_free(live[i]);
        }
    }
    CHECK(mn_sublist_count(sl) == 0);
    mn_sublist_free(sl);
    /* Single-threaded: no reader can hold anything now. */
    mn_qsbr_drain_all();
    return 0;
}
