/*
 * ab.h - internals of the auth_basic module, shared by its files and its
 * unit tests (never installed, never included by the core).
 *
 * The module reads its settings group once, at init, into an ab_conf: the
 * accepted credentials (a token, one user, or a users list whose entries
 * are user/password or nkey users, from `authorization` and from the
 * `accounts` groups), each user's permissions and account, all validated.
 * Logins are then decided by ab_authenticate() against that immutable
 * model, so hooks on any worker read it without locks.  Password checks
 * are in ab_password.c (constant time for plain text, libxcrypt's crypt_rn
 * for bcrypt hashes), NKey decoding and signature checks in
 * modules/common/mn_nkey.c (OpenSSL's Ed25519), shared with auth_jwt.
 */
#ifndef AB_H
#define AB_H

#include <modnats/modnats.h>

#include "mn_nkey.h"   /* modules/common: NKey strings and signatures */
#include "../jetstream/js_accounts.h"   /* the jetstream.accounts contract */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* nats-server's defaults for allow_responses = true. */
#define AB_RESP_DEFAULT_MAX        1u
#define AB_RESP_DEFAULT_EXPIRES_MS (2u * 60u * 1000u)

/* A growable list of owned strings. */
typedef struct ab_strv {
    char  **v;
    size_t  n, cap;
} ab_strv;

/* One user's permissions as configured, before the core compiles them. */
typedef struct ab_perms {
    ab_strv  pub_allow, pub_deny, sub_allow, sub_deny;
    bool     allow_responses;
    uint32_t resp_max;          /* 0: the core's default (1) */
    uint64_t resp_expires_ms;   /* 0: unlimited */
} ab_perms;

typedef struct ab_user {
    char     *name;             /* user name; for an nkey user its public key */
    char     *password;         /* plain text or a bcrypt hash; NULL for nkey users */
    bool      bcrypt;
    bool      is_nkey;          /* logs in with a signature, not a password */
    uint8_t   nkey_raw[MNK_RAW_LEN];
    char     *account;          /* account name, or NULL for the global account */
    modnats_account *acct;      /* resolved by the module at init (NULL in unit tests) */
    ab_perms *perms;            /* own, or the defaults, or NULL */
    bool      own_perms;        /* perms belongs to this user */
} ab_user;

typedef enum ab_mode {
    AB_MODE_NONE = 0,   /* nothing configured: every login is deferred */
    AB_MODE_TOKEN,
    AB_MODE_USER,       /* a single user/password */
    AB_MODE_USERS,      /* the users list */
} ab_mode;

/* One export or import of an account, as configured (ab_io.c). */
typedef struct ab_io {
    bool      import;
    bool      limits;           /* an account's limits { } (lim), not a share */
    modnats_account_limits lim;
    modnats_export_kind kind;
    char     *account;          /* the account declaring it */
    char     *subject;          /* exports: what; imports: the exporter's subject */
    char     *from;             /* imports: the exporting account */
    char     *to, *prefix;      /* imports: local subject / stream prefix */
    ab_strv   accts;            /* exports: who may import (empty: public) */
    modnats_response_type rtype;
    uint64_t  threshold_ms;
    char      where[160];       /* "file:line" of the entry */
} ab_io;

typedef struct ab_conf {
    ab_mode   mode;
    char     *token;    bool token_bcrypt;
    ab_user   single;   /* AB_MODE_USER */
    ab_user  *users;    size_t nusers;
    ab_user  *no_auth;  /* points into users, or NULL */
    ab_perms *defaults; /* default_permissions, or NULL */
    size_t    nnkeys;   /* nkey users among users: the INFO needs a nonce */
    ab_strv   accounts; /* every account the settings declare */
    ab_perms **acct_defaults;   /* accounts' default_permissions (owned) */
    size_t    nacct_defaults;
    ab_io    *io;       /* exports and imports of the accounts */
    size_t    nio;
    char     *system_account;   /* or NULL */
    struct ab_js *js;   /* accounts' jetstream settings (ab_js.c) */
    size_t    njs;
} ab_conf;

/* An account's `jetstream` setting (ab_js.c). */
typedef struct ab_js {
    char             *account;
    bool              enabled;
    js_account_limits lim;
} ab_js;

/* ---- ab_config.c: settings -> ab_conf */

/* Logs every problem through api->log and returns MODNATS_ERR if there
 * was any; on success *out holds the model (free with ab_conf_free). */
modnats_rc ab_conf_load(const modnats_host_api *api, modnats_module *self,
                        const modnats_config *cfg, ab_conf *out);
void       ab_conf_free(ab_conf *c);

/* Is s a valid subject for a permission (wildcards allowed)?  When
 * allow_queue, "subject queue" is accepted too (subscribe permissions). */
bool ab_subject_valid(const char *s, bool allow_queue);

/* Parse a Go-style duration ("2m", "1h30m", "500ms", "-1s") into ms.
 * Returns false on a syntax error. */
bool ab_duration_ms(const char *s, int64_t *out_ms);

/* Fill a modnats_permissions from p (pointers into p; valid while p is). */
void ab_perms_export(const ab_perms *p, modnats_permissions *out);

/* ---- ab_io.c: accounts' exports and imports */

/* Read account `name`'s exports and imports (group g) into c; returns the
 * number of problems (logged as "file:line: problem"). */
size_t ab_io_read(const modnats_host_api *api, modnats_module *self, const modnats_config *g,
                  const char *name, ab_conf *c);
void   ab_io_free(ab_conf *c);
/* Apply them through the core (accounts exist): every export, then every
 * import; with replace, each declared account's old ones are cleared
 * first (reload).  false after logging the first refusal. */
bool   ab_io_apply(const modnats_host_api *api, modnats_module *self, const ab_conf *c,
                   bool replace);

/* ---- ab_js.c: accounts' jetstream settings */

/* Read account `name`'s jetstream key (group a) into c; returns the number
 * of problems (logged as "file:line: problem"). */
size_t ab_js_read(const modnats_host_api *api, modnats_module *self, const modnats_config *a,
                  const char *name, ab_conf *c);
void   ab_js_free(ab_conf *c);
/* nats-server's answer for account `name` under the settings c. */
js_account_state ab_js_lookup(const ab_conf *c, const char *name, js_account_limits *out);

/* ---- ab_password.c */

/* Does s look like a bcrypt hash ("$2a$", "$2b$", "$2x$", "$2y$" + cost)?
 * This is nats-server's test: such a password is always checked as bcrypt. */
bool ab_is_bcrypt(const char *s);
/* Is a bcrypt-looking string a well-formed hash (cost 04-31, 22 + 31
 * characters of bcrypt's base64)?  Checked at init. */
bool ab_bcrypt_well_formed(const char *s);
/* Constant-time (in the stored secret) comparison of two strings. */
bool ab_ct_equal(const char *stored, const char *given);
/* Check a password against a bcrypt hash with crypt_rn (slow, by design). */
bool ab_bcrypt_check(const char *hash, const char *given);
/* stored is plain or bcrypt (bcrypt: as ab_is_bcrypt says). */
bool ab_password_check(const char *stored, bool bcrypt, const char *given);

/* ---- ab_auth.c: the login decision */

typedef enum ab_verdict {
    AB_DEFER = 0,   /* not ours: let the next auth hook decide */
    AB_ALLOW,       /* logged in as d->user (NULL for none) without a check */
    AB_DENY,        /* refused; d->reason says why (static text) */
    AB_CHECK,       /* compare d->given against d->stored, then allow as d->user */
} ab_verdict;

typedef struct ab_login {
    const char *user, *pass, *token, *nkey, *jwt, *sig;   /* from CONNECT, may be NULL */
    const char *nonce;                                    /* what INFO sent, or NULL */
    /* TLS with verify_and_map: the client's verified certificate, which
     * names the user (e-mail SAN, DNS SAN, URI SAN, then subject DN). */
    const modnats_tls_info *cert;
} ab_login;

typedef struct ab_decision {
    ab_verdict     verdict;
    const ab_user *user;      /* whom the client logs in as (NULL: token login) */
    const char    *stored;    /* AB_CHECK: the configured secret */
    bool           bcrypt;    /* AB_CHECK: stored is a bcrypt hash (slow) */
    const char    *given;     /* AB_CHECK: what the client sent ("" if nothing) */
    const char    *reason;    /* AB_DENY: why, for the log (static text) */
} ab_decision;

/* Decide a login as nats-server does, short of running the password
 * comparison (which for bcrypt is slow and belongs off the I/O thread).
 * A plain-text comparison a caller runs with ab_password_check.  NKey
 * signatures (tens of microseconds) are checked here: an nkey login ends
 * in AB_ALLOW or AB_DENY. */
ab_decision ab_authenticate(const ab_conf *c, const ab_login *login);

#endif
