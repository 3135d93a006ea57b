/*
 * submap.h - subject patterns between accounts: does one pattern cover
 * another, and mapping a subject from one pattern to another token by
 * token (imports' `to` and `prefix`).  Pure functions, any thread.
 */
#ifndef MN_SUBMAP_H
#define MN_SUBMAP_H

#include "mn.h"

/* Is every subject matched by `sub` also matched by `pat`?  Both valid
 * subscription subjects (NUL-terminated). */
bool mn_subject_covers(const char *pat, const char *sub);

/* Is there a subject that both patterns match? */
bool mn_subject_overlap(const char *a, const char *b);

/* Can `dst` take the wildcards of `src`?  dst may use at most as many '*'
 * as src has, and '>' only if src ends in '>'. */
bool mn_subject_map_valid(const char *src, const char *dst);

/* Map literal subject subj (subj_len bytes, matching pattern src) to
 * pattern dst: dst's n-th '*' becomes the token src's n-th '*' matched,
 * dst's '>' the tokens src's '>' matched; literal tokens stay.  With
 * prefix (NULL: none) the result is "prefix." + subj instead.  Writes at
 * most outlen bytes (NUL included); returns the length, or -1 when subj
 * does not match src or out is too small. */
int mn_subject_map(const char *src, const char *dst, const char *prefix,
                   const char *subj, size_t subj_len, char *out, size_t outlen);

#endif
