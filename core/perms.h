/*
 * perms.h - compiled publish/subscribe permissions of one user.
 *
 * Built from a modnats_permissions (handed over by an auth module) and
 * checked by the core on every publish and subscribe of a client that has
 * them; a client without permissions pays one NULL test.  Publish checks
 * go through a small per-client cache, so a steady publisher matches its
 * subject against the lists once.
 *
 * Ownership: mn_perms_compile returns a heap object, freed with
 * mn_perms_free; it copies every string it needs.
 */
#ifndef MN_PERMS_H
#define MN_PERMS_H

#include "mn.h"
#include <modnats/modnats.h>

typedef struct mn_perms mn_perms;

mn_perms *mn_perms_compile(const modnats_permissions *p);
void      mn_perms_free(mn_perms *p);

/* May the holder publish to this literal subject (lists only)? */
bool mn_perms_pub_allowed(mn_perms *p, const char *subj, size_t len);
/* May it subscribe to this subject pattern (queue may be NULL)? */
bool mn_perms_sub_allowed(const mn_perms *p, const char *subj, size_t len,
                          const char *queue, size_t qlen);
/* A wildcard subscription may overlap a denied subject (sub "foo.*", deny
 * "foo.bar"): it is allowed, and messages on denied subjects are not
 * delivered to it, as nats-server does.  Read-only: any thread. */
bool mn_perms_has_sub_deny(const mn_perms *p);
bool mn_perms_deliver_denied(const mn_perms *p, const char *subj, size_t len,
                             const char *queue, size_t qlen);
bool mn_perms_allow_responses(const mn_perms *p, uint32_t *max_msgs, uint64_t *expires_ms);

/* Is every subject matching pattern pat also matched by pattern of? */
bool mn_subject_is_subset(const char *pat, size_t plen, const char *of, size_t olen);

#endif
