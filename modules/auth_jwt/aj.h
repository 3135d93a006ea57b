/*
 * aj.h - internals of the auth_jwt module, shared by its files and its unit
 * tests (never installed, never included by the core).
 *
 * auth_jwt is nats-server's decentralized ("operator mode") authentication:
 * trusted operators sign accounts, accounts sign users, a client logs in
 * with its user JWT and a signature of the server's nonce.  The files:
 *
 *   aj_jwt.c       decoding and verifying one JWT (header, claims, Ed25519
 *                  signature by its issuer) into the typed claims below;
 *                  pure, the clock passed in, so unit tests drive it.
 *   aj_trust.c     the trust decisions: is an account JWT signed by a
 *                  trusted operator, may this user log in to this account
 *                  (signing keys, revocations, times, sources, activation
 *                  tokens).  Pure as well.
 *   aj_store.c     the resolver: account JWTs by public key, in memory and,
 *                  for the directory resolver, one file per account.
 *   aj_sys.c       the full resolver's $SYS.REQ.* requests, answered on a
 *                  thread of the module's.
 *   auth_jwt.c     the module: settings, hooks, applying account claims to
 *                  the core (limits, exports, imports), live updates.
 *
 * Ownership: every aj_* object is created by one function and freed by its
 * _free counterpart; strings inside are owned by the object.
 */
#ifndef AJ_H
#define AJ_H

#include <modnats/modnats.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mn_nkey.h"   /* modules/common: NKey strings and signatures */

/* A list of owned strings. */
typedef struct aj_strv {
    char  **v;
    size_t  n;
} aj_strv;

void aj_strv_free(aj_strv *s);
bool aj_strv_has(const aj_strv *s, const char *x);

typedef enum aj_kind {
    AJ_OPERATOR = 1,
    AJ_ACCOUNT,
    AJ_USER,
    AJ_ACTIVATION,
    AJ_GENERIC,     /* e.g. the operator-signed request of CLAIMS.DELETE */
    AJ_AUTH_RESPONSE,   /* an auth callout service's answer (ADR-26) */
} aj_kind;

/* Permissions as a JWT carries them (nats.pub/sub/resp). */
typedef struct aj_perms {
    aj_strv  pub_allow, pub_deny, sub_allow, sub_deny;
    bool     has_resp;
    int64_t  resp_max;          /* resp.max */
    int64_t  resp_ttl_ms;       /* resp.ttl (nanoseconds in the JWT) */
} aj_perms;

typedef struct aj_time_range {
    int start_s, end_s;         /* seconds since midnight */
} aj_time_range;

typedef struct aj_user {
    aj_perms perms;
    aj_strv  src;               /* CIDRs; empty: anywhere */
    aj_time_range *times;  size_t ntimes;
    char    *times_location;    /* NULL: local time */
    aj_strv  conn_types;        /* allowed_connection_types; empty: all */
    int64_t  subs, data, payload;   /* -1: unlimited */
    bool     bearer;            /* bearer_token: no nonce signature */
} aj_user;

/* A scoped signing key: users it signs get the template's permissions and
 * limits, whatever their own JWT says. */
typedef struct aj_scope {
    char   *key;
    char   *role;
    aj_user tmpl;
} aj_scope;

typedef struct aj_export {
    modnats_export_kind kind;
    char   *subject;
    bool    token_req;
    modnats_response_type response_type;
    uint64_t response_threshold_ms;
    /* revocations of activation tokens: importer public key -> time */
    aj_strv rev_keys;  int64_t *rev_at;
} aj_export;

typedef struct aj_import {
    modnats_export_kind kind;
    char   *account;            /* the exporter's public key */
    char   *subject;            /* in the exporter's space */
    char   *local;              /* local_subject (or services' `to`), or NULL */
    char   *prefix;             /* streams' deprecated `to`, or NULL */
    char   *token;              /* activation JWT, or NULL */
} aj_import;

typedef struct aj_account {
    aj_strv  signing_keys;      /* plain keys and scoped keys' keys */
    aj_scope *scopes;  size_t nscopes;
    aj_export *exports;  size_t nexports;
    aj_import *imports;  size_t nimports;
    aj_strv  rev_keys;  int64_t *rev_at;   /* user revocations ("*": all) */
    int64_t  conn, leaf, subs, payload, data, n_imports, n_exports;   /* -1: unlimited */
    bool     disallow_bearer;   /* limits.disallow_bearer */
    /* limits' JetStream part (mem_storage, disk_storage, streams, consumer,
     * max_ack_pending, mem/disk_max_stream_bytes; absent: 0).  As
     * nats-server: JetStream only when mem_storage or disk_storage != 0. */
    bool     js_enabled;
    int64_t  js_mem, js_disk, js_streams, js_consumer, js_max_ack_pending;
    int64_t  js_mem_max_stream_bytes, js_disk_max_stream_bytes;
    bool     js_max_bytes_required;
    aj_perms default_perms;
    bool     has_default_perms;
} aj_account;

typedef struct aj_operator {
    aj_strv  signing_keys;
    char    *system_account;
    bool     strict_signing;
} aj_operator;

typedef struct aj_activation {
    char   *subject;
    modnats_export_kind kind;
} aj_activation;

typedef struct aj_auth_response {
    char   *jwt;                 /* the user JWT, or NULL */
    char   *error;               /* why the service refused, or NULL */
} aj_auth_response;

/* One decoded, signature-checked JWT. */
typedef struct aj_jwt {
    aj_kind  kind;
    char    *raw;                /* the token as given */
    char    *jti, *iss, *sub, *name, *aud;
    char    *issuer_account;     /* nats.issuer_account, or NULL */
    int64_t  iat, exp, nbf;      /* Unix seconds; 0: absent */
    union {
        aj_operator   op;
        aj_account    acc;
        aj_user       user;
        aj_activation act;
        aj_auth_response resp;
    } u;
    aj_strv  accounts;           /* AJ_GENERIC: nats.accounts (CLAIMS.DELETE) */
} aj_jwt;

/* ---- aj_jwt.c */

/* Decode token (whitespace around it ignored), check its header, that its
 * signature is by its issuer, and that its type is `want` (0: any).  On
 * success *out is the JWT (free with aj_jwt_free) and true; otherwise false
 * with a one-line reason in err. */
bool aj_jwt_decode(const char *token, aj_kind want, aj_jwt **out, char *err, size_t errlen);
void aj_jwt_free(aj_jwt *j);
/* A JWT's permissions as the core takes them (pointers into p: valid while
 * p is; the core copies them).  resp without values gets nats-server's
 * defaults: 1 response within 2 minutes. */
void aj_perms_export(const aj_perms *p, modnats_permissions *out);
/* exp/nbf against now (Unix seconds): NULL when valid, else why. */
const char *aj_jwt_time_error(const aj_jwt *j, int64_t now);
/* Find the JWT in a file's text or a .creds file: the first token after a
 * "-----BEGIN ... JWT-----" line, else the first line that looks like a
 * JWT.  Returns a malloc'd string or NULL. */
char *aj_jwt_extract(const char *text);
const char *aj_kind_name(aj_kind k);

/* ---- aj_trust.c */

typedef struct aj_trust {
    aj_jwt **operators;  size_t noperators;   /* owned */
    aj_strv  keys;       /* trusted_keys, plus each operator's sub and signing keys */
} aj_trust;

/* Is acc (an AJ_ACCOUNT) signed by a trusted operator or its signing key? */
bool aj_trust_account(const aj_trust *t, const aj_jwt *acc, char *err, size_t errlen);

/* Everything the CONNECT carried that a login decision needs. */
typedef struct aj_login_req {
    const char *nonce, *sig;
    const char *remote_ip;
    const char *conn_type;       /* "STANDARD" for clients */
    int64_t     now;             /* Unix seconds */
    int64_t     now_ms;
} aj_login_req;

/* The outcome of a successful login check: the permissions and limits to
 * apply (pointers into the user JWT or the scope; valid while they are). */
typedef struct aj_grant {
    const aj_perms *perms;       /* NULL: none */
    int64_t subs, payload, data;
    int64_t expires_unix_ms;     /* 0: never */
} aj_grant;

/* May `user` (an AJ_USER) log in to `acc` (the AJ_ACCOUNT it names)?
 * Checks the issuer and signing keys, times, revocation, the nonce
 * signature (unless bearer), connection type, source address and time of
 * day.  NULL: yes, *g filled; else a static reason for the log. */
const char *aj_check_user(const aj_jwt *acc, const aj_jwt *user, const aj_login_req *r,
                          aj_grant *g);
/* Is the user JWT revoked by acc's revocations? */
bool aj_user_revoked(const aj_jwt *acc, const char *user_pub, int64_t iat);
/* Is token (an activation JWT) valid for importer to import `subject` (the
 * import's, in the exporter's space) through export e of exporter (the
 * AJ_ACCOUNT)?  NULL: yes; else why. */
const char *aj_check_activation(const aj_jwt *exporter, const char *importer,
                                const aj_export *e, const char *subject, const char *token,
                                int64_t now);
/* Does subject pattern `sub` fall inside pattern `within` (token wise,
 * wildcards in `within` cover those of `sub`)? */
bool aj_subject_within(const char *sub, const char *within);
/* Is ip (text) inside cidr ("10.0.0.0/8", "::1/128", or a bare address)? */
bool aj_cidr_match(const char *cidr, const char *ip);

/* ---- aj_store.c: the resolver's account JWTs */

#include <pthread.h>

typedef struct aj_entry {
    char   *pub;               /* the account's public key */
    aj_jwt *jwt;               /* owned */
} aj_entry;

typedef struct aj_store {
    pthread_rwlock_t lock;     /* readers: logins; writers: updates */
    aj_entry *v;  size_t n, cap;
    char    *dir;              /* directory resolver: one <pub>.jwt per account; NULL: memory */
    bool     allow_delete;
    int64_t  limit;            /* most accounts kept; 0: no limit */
} aj_store;

typedef enum aj_put {
    AJ_PUT_ERR = -1,           /* could not store (err says why) */
    AJ_PUT_NEW = 0,
    AJ_PUT_UPDATED,
    AJ_PUT_SAME,               /* the same JWT again */
} aj_put;

void   aj_store_init(aj_store *s);
void   aj_store_free(aj_store *s);
/* Store jwt (an AJ_ACCOUNT whose trust the caller checked; taken over in
 * every case).  A JWT issued before the stored one is refused.  Writes the
 * file first when the store has a directory.  Takes the write lock. */
aj_put aj_store_put(aj_store *s, aj_jwt *jwt, char *err, size_t errlen);
/* The account's JWT, or NULL.  Caller holds s->lock (read or write). */
const aj_jwt *aj_store_get_locked(const aj_store *s, const char *pub);
/* Remove an account (and rename its file to <pub>.jwt.deleted).  false
 * when it is not there. */
bool   aj_store_delete(aj_store *s, const char *pub);
/* The public keys stored, as a fresh list (free with aj_strv_free). */
bool   aj_store_keys(aj_store *s, aj_strv *out);
/* A small file's text (at most 1 MiB), malloc'd and NUL-terminated, or
 * NULL (errno says why). */
char  *aj_read_file(const char *path);
/* Read every <pub>.jwt of s->dir; each one goes through check (which
 * decides trust and may log) and is stored when check says true. */
size_t aj_store_load_dir(aj_store *s, bool (*check)(void *ud, const char *file, aj_jwt *j),
                         void *ud, char *err, size_t errlen);

#endif
