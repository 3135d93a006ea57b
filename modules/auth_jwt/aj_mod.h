/*
 * aj_mod.h - the auth_jwt module's running state and the functions its
 * files share (the pure JWT code is in aj.h; this is the part that talks
 * to the core).  One instance, g_aj, filled by init, read by the hooks,
 * torn down by fini.
 */
#ifndef AJ_MOD_H
#define AJ_MOD_H

#include "aj.h"

typedef enum aj_resolver {
    AJ_RES_NONE = 0,
    AJ_RES_MEMORY,
    AJ_RES_FULL,
} aj_resolver;

typedef struct aj_mod {
    const modnats_host_api *api;
    modnats_module *self;
    aj_trust     trust;          /* immutable after init */
    aj_store     store;
    aj_resolver  resolver;
    char        *system_account; /* public key, or NULL */
    char        *restart_settings;   /* operators, keys, resolver: a reload may not change them */
} aj_mod;

extern aj_mod g_aj;

int64_t aj_now_ms(void);

/* ---- aj_login.c: the AUTH/CONNECT/DISCONNECT hooks and the logins they
 * track (for revocations pushed later, and expiry on older cores) */
void       aj_logins_init(void);
void       aj_logins_free(void);
modnats_rc aj_on_auth(void *ud, modnats_event_hdr *ev);
modnats_rc aj_on_connect(void *ud, modnats_event_hdr *ev);
modnats_rc aj_on_disconnect(void *ud, modnats_event_hdr *ev);
/* Close logins whose account JWT (or, on ABI 1.0 cores, own JWT) expired;
 * the module's thread, once a second. */
void       aj_logins_sweep(void);
/* A login waiting for the full resolver's directory (PENDING): run on the
 * module's thread by aj_sys.c, which completes its ticket and frees it. */
typedef struct aj_pending_login aj_pending_login;
void       aj_pending_run(aj_pending_login *p);
void       aj_pending_free(aj_pending_login *p);
/* Refuse it (completes its ticket; p still to be freed). */
void       aj_pending_deny(aj_pending_login *p, const char *why);
/* Close the connections of account `pub` whose users its JWT now revokes
 * (or all of them when the account is gone).  Returns how many. */
size_t     aj_logins_revoke(const char *pub, bool all);

/* ---- aj_apply.c: account claims -> the core */
/* Every stored account: limits and exports first, then imports.  Caller
 * holds no store lock. */
void aj_apply_all(void);
/* One account changed (or appeared): its limits, exports and imports
 * afresh, then the imports of the accounts that import from it. */
void aj_apply_changed(const char *pub);

/* ---- aj_js.c: the accounts' JetStream limits for the jetstream module */
void aj_js_register(void);     /* init, operator mode */
void aj_js_changed(void);      /* an account JWT came, changed or went */

/* ---- aj_sys.c: the module's thread: the full resolver's $SYS.REQ
 * requests, PENDING logins, the expiry sweep */
modnats_rc aj_sys_start(void);
void       aj_sys_stop(void);
/* Queue a PENDING login for the thread (taken over on OK). */
modnats_rc aj_sys_post_login(aj_pending_login *p);

#endif
