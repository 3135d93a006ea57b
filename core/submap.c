/*
 * submap.c - subject patterns between accounts (see submap.h).
 */
#include "submap.h"

#include <string.h>

/* The next token of s at *p (length in *n); false at the end. */
static bool next_tok(const char *s, size_t len, size_t *p, const char **t, size_t *n)
{
    if (*p > len)
        return false;
    const char *start = s + *p;
    const char *dot = memchr(start, '.', len - *p);
    size_t tl = dot ? (size_t)(dot - start) : len - *p;
    *t = start;
    *n = tl;
    *p += tl + 1;
    return true;
}

static bool is_tok(const char *t, size_t n, char c)
{
    return n == 1 && t[0] == c;
}

bool mn_subject_covers(const char *pat, const char *sub)
{
    size_t pl = strlen(pat), sl = strlen(sub), pp = 0, sp = 0;
    const char *pt, *st;
    size_t pn, sn;
    for (;;) {
        bool hp = next_tok(pat, pl, &pp, &pt, &pn);
        bool hs = next_tok(sub, sl, &sp, &st, &sn);
        if (!hp || !hs)
            return hp == hs;
        if (is_tok(pt, pn, '>'))
            return true;
        if (is_tok(st, sn, '>'))
            return false;
        if (is_tok(pt, pn, '*'))
            continue;
        if (is_tok(st, sn, '*') || pn != sn || memcmp(pt, st, pn) != 0)
            return false;
    }
}

bool mn_subject_overlap(const char *a, const char *b)
{
    size_t al = strlen(a), bl = strlen(b), ap = 0, bp = 0;
    const char *at, *bt;
    size_t an, bn;
    for (;;) {
        bool ha = next_tok(a, al, &ap, &at, &an);
        bool hb = next_tok(b, bl, &bp, &bt, &bn);
        if (!ha || !hb)
            return ha == hb;
        if (is_tok(at, an, '>') || is_tok(bt, bn, '>'))
            return true;
        if (is_tok(at, an, '*') || is_tok(bt, bn, '*'))
            continue;
        if (an != bn || memcmp(at, bt, an) != 0)
            return false;
    }
}

static void count_wild(const char *s, int *stars, bool *gt)
{
    size_t len = strlen(s), p = 0, n;
    const char *t;
    *stars = 0;
    *gt = false;
    while (next_tok(s, len, &p, &t, &n)) {
        if (is_tok(t, n, '*'))
            (*stars)++;
        else if (is_tok(t, n, '>'))
            *gt = true;
    }
}

bool mn_subject_map_valid(const char *src, const char *dst)
{
    int ss, ds;
    bool sg, dg;
    count_wild(src, &ss, &sg);
    count_wild(dst, &ds, &dg);
    return ds <= ss && (!dg || sg);
}

#define MAP_MAX_STARS 32

int mn_subject_map(const char *src, const char *dst, const char *prefix,
                   const char *subj, size_t subj_len, char *out, size_t outlen)
{
    if (prefix) {
        size_t pl = strlen(prefix);
        if (pl + 1 + subj_len + 1 > outlen)
            return -1;
        memcpy(out, prefix, pl);
        out[pl] = '.';
        memcpy(out + pl + 1, subj, subj_len);
        out[pl + 1 + subj_len] = 0;
        return (int)(pl + 1 + subj_len);
    }
    /* What src's wildcards matched. */
    const char *star[MAP_MAX_STARS];
    size_t starn[MAP_MAX_STARS];
    int nstar = 0;
    const char *rest = NULL;
    size_t restn = 0;
    size_t sl = strlen(src), sp = 0, jp = 0, tn, jn;
    const char *tt, *jt;
    for (;;) {
        bool hs = next_tok(src, sl, &sp, &tt, &tn);
        if (hs && is_tok(tt, tn, '>')) {
            if (jp > subj_len)
                return -1;   /* '>' needs at least one token */
            rest = subj + jp;
            restn = subj_len - jp;
            break;
        }
        bool hj = next_tok(subj, subj_len, &jp, &jt, &jn);
        if (!hs || !hj) {
            if (hs != hj)
                return -1;
            break;
        }
        if (is_tok(tt, tn, '*')) {
            if (nstar == MAP_MAX_STARS)
                return -1;
            star[nstar] = jt;
            starn[nstar++] = jn;
        } else if (tn != jn || memcmp(tt, jt, tn) != 0) {
            return -1;
        }
    }
    size_t dl = strlen(dst), dp = 0, o = 0;
    int used = 0;
    const char *dt;
    size_t dn;
    while (next_tok(dst, dl, &dp, &dt, &dn)) {
        const char *piece = dt;
        size_t pn = dn;
        if (is_tok(dt, dn, '*')) {
            if (used >= nstar)
                return -1;
            piece = star[used];
            pn = starn[used++];
        } else if (is_tok(dt, dn, '>')) {
            if (!rest)
                return -1;
            piece = rest;
            pn = restn;
        }
        if (o + (o ? 1 : 0) + pn + 1 > outlen)
            return -1;
        if (o)
            out[o++] = '.';
        memcpy(out + o, piece, pn);
        o += pn;
    }
    if (o + 1 > outlen)
        return -1;
    out[o] = 0;
    return (int)o;
}
