/*
 * aj_login.c - logins with user JWTs: the AUTH hook (decode, find the
 * account, aj_check_user, hand the client its account, permissions,
 * limits and expiry to the core), and the table of JWT logins, kept
 * through CONNECT and DISCONNECT, that lets an account update close the
 * connections of users it revokes.
 *
 * Most logins are decided in the hook: the resolver's account JWTs are in
 * memory, so a login costs two Ed25519 checks.  Only a full resolver's
 * account that is not in memory needs a look at the disk (a JWT another
 * tool wrote into the directory): the hook answers PENDING, the module's
 * thread (aj_sys.c) reads and checks the file, and finishes the login with
 * auth_complete_ex.
 *
 * The table is keyed by connection id.  An entry is made when the module
 * lets a client in and confirmed by its CONNECT event; the core may still
 * refuse the client after that (an account's connection limit), and then
 * no CONNECT comes: unconfirmed entries are dropped after a while.  A
 * connection is valid until its DISCONNECT hook returns, and that hook
 * takes the table's lock, so a confirmed entry's connection can be closed
 * under the lock.  Lock order: the store's lock, then the table's.
 */
#include "aj_mod.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AJ_UNCONFIRMED_TTL_MS 30000

typedef struct aj_login {
    uint64_t cid;
    modnats_conn *conn;
    char     account[MNK_STR_LEN + 1];
    char     user[MNK_STR_LEN + 1];
    int64_t  iat;
    int64_t  expires_ms;          /* 0: never */
    int64_t  since_ms;
    bool     confirmed;           /* its CONNECT came */
    bool     closing;
} aj_login;

static pthread_mutex_t logins_mu = PTHREAD_MUTEX_INITIALIZER;
static aj_login *logins;
static size_t nlogins, caplogins;

static _Thread_local char deny_buf[256];

void aj_logins_init(void)
{
    nlogins = 0;
}

void aj_logins_free(void)
{
    pthread_mutex_lock(&logins_mu);
    free(logins);
    logins = NULL;
    nlogins = caplogins = 0;
    pthread_mutex_unlock(&logins_mu);
}

/* File a login (unconfirmed until its CONNECT). */
static void track(modnats_conn *conn, const aj_jwt *acc, const aj_jwt *user, int64_t expires_ms)
{
    aj_login l = { .cid = g_aj.api->conn_id(conn), .conn = conn, .iat = user->iat,
                   .expires_ms = expires_ms, .since_ms = aj_now_ms() };
    snprintf(l.account, sizeof l.account, "%s", acc->sub);
    snprintf(l.user, sizeof l.user, "%s", user->sub);
    pthread_mutex_lock(&logins_mu);
    for (size_t i = 0; i < nlogins;) {   /* logins the core refused after us */
        if (!logins[i].confirmed && l.since_ms - logins[i].since_ms > AJ_UNCONFIRMED_TTL_MS)
            logins[i] = logins[--nlogins];
        else
            i++;
    }
    if (nlogins == caplogins) {
        size_t cap = caplogins ? caplogins * 2 : 64;
        aj_login *nv = realloc(logins, cap * sizeof *nv);
        if (nv) {
            logins = nv;
            caplogins = cap;
        }
    }
    if (nlogins < caplogins)
        logins[nlogins++] = l;
    else
        g_aj.api->log(g_aj.self, MODNATS_LOG_WARN, "out of memory: user %s will not be "
                      "disconnected by a revocation", l.user);
    pthread_mutex_unlock(&logins_mu);
}

static bool perms_empty(const aj_perms *p)
{
    return !p->pub_allow.n && !p->pub_deny.n && !p->sub_allow.n && !p->sub_deny.n &&
           !p->has_resp;
}

/* Decide a login whose account is in the store (read lock held) and give
 * the client its identity: in the hook (ticket NULL: conn_login or the
 * ABI 1.0 setters) or from the module's thread (auth_complete_ex).  NULL
 * when logged in (the ticket, if any, completed); else the reason, in buf
 * (the ticket then still to be completed by the caller). */
static const char *admit_locked(const aj_jwt *acc, const aj_jwt *user, const aj_login_req *r,
                                modnats_conn *conn, modnats_auth_ticket *ticket,
                                char *buf, size_t len)
{
    const modnats_host_api *api = g_aj.api;
    aj_grant g;
    const char *why = aj_check_user(acc, user, r, &g);
    if (why) {
        snprintf(buf, len, "%s (user %s)", why, user->sub);
        return buf;
    }
    if (perms_empty(g.perms) && acc->u.acc.has_default_perms)
        g.perms = &acc->u.acc.default_perms;
    modnats_permissions perms;
    aj_perms_export(g.perms, &perms);
    modnats_account *a = api->account_get_or_create(acc->sub);
    if (!a) {
        snprintf(buf, len, "account %s: out of memory", acc->sub);
        return buf;
    }
    modnats_login l = MODNATS_LOGIN_INIT;
    l.user = user->sub;
    l.perms = &perms;
    l.account = a;
    l.max_subs = g.subs;
    l.max_payload = g.payload;
    l.expires_unix_ms = g.expires_unix_ms > 0 ? (uint64_t)g.expires_unix_ms : 0;
    /* filed first: after auth_complete_ex the CONNECT may run at once */
    track(conn, acc, user, g.expires_unix_ms);
    modnats_rc rc;
    if (ticket)
        rc = api->auth_complete_ex(ticket, MODNATS_OK, NULL, &l);
    else if (MODNATS_HAS(api, conn_login))
        rc = api->conn_login(conn, &l);
    else if ((rc = api->conn_set_account(conn, a)) == MODNATS_OK &&
             (rc = api->conn_set_permissions(conn, &perms)) == MODNATS_OK)
        rc = api->conn_set_user(conn, user->sub);
    if (rc != MODNATS_OK) {
        snprintf(buf, len, "the core refused the login of %s", user->sub);
        return buf;   /* the unconfirmed entry ages out */
    }
    return NULL;
}

/* A PENDING login, handed to the module's thread. */
struct aj_pending_login {
    modnats_auth_ticket *ticket;
    modnats_conn *conn;
    char *jwt, *nonce, *sig, *ip;
    char  account[MNK_STR_LEN + 1];
};

void aj_pending_free(aj_pending_login *p)
{
    if (!p)
        return;
    free(p->jwt);
    free(p->nonce);
    free(p->sig);
    free(p->ip);
    free(p);
}

void aj_pending_deny(aj_pending_login *p, const char *why)
{
    g_aj.api->auth_complete(p->ticket, MODNATS_DENY, why);
}

static char *dup_or_null(const char *s, bool *ok)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *ok = false;
    return d;
}

/* May the full resolver's directory hold the account?  Then go PENDING. */
static bool try_pending(modnats_auth_event *e, const char *acc_pub)
{
    const modnats_host_api *api = g_aj.api;
    if (g_aj.resolver != AJ_RES_FULL || !MODNATS_HAS(api, auth_complete_ex) || !e->ticket)
        return false;
    aj_pending_login *p = calloc(1, sizeof *p);
    if (!p)
        return false;
    bool ok = true;
    p->ticket = e->ticket;
    p->conn = e->conn;
    p->jwt = dup_or_null(e->jwt, &ok);
    p->nonce = dup_or_null(e->nonce, &ok);
    p->sig = dup_or_null(e->sig, &ok);
    p->ip = dup_or_null(e->remote_ip, &ok);
    snprintf(p->account, sizeof p->account, "%s", acc_pub);
    if (!ok || aj_sys_post_login(p) != MODNATS_OK) {
        aj_pending_free(p);
        return false;
    }
    return true;
}

modnats_rc aj_on_auth(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    modnats_auth_event *e = (modnats_auth_event *)ev;
    if (!e->jwt)
        return MODNATS_DEFER;   /* not a JWT login: maybe another module's */
    aj_jwt *user = NULL;
    char err[200];
    if (!aj_jwt_decode(e->jwt, AJ_USER, &user, err, sizeof err)) {
        snprintf(deny_buf, sizeof deny_buf, "user JWT: %s", err);
        e->deny_reason = deny_buf;
        return MODNATS_DENY;
    }
    const char *acc_pub = user->issuer_account ? user->issuer_account : user->iss;
    int64_t now_ms = aj_now_ms();
    aj_login_req req = {
        .nonce = e->nonce, .sig = e->sig, .remote_ip = e->remote_ip,
        .conn_type = "STANDARD", .now = now_ms / 1000, .now_ms = now_ms,
    };
    modnats_rc rc = MODNATS_OK;
    pthread_rwlock_rdlock(&g_aj.store.lock);
    const aj_jwt *acc = aj_store_get_locked(&g_aj.store, acc_pub);
    if (acc) {
        if ((e->deny_reason = admit_locked(acc, user, &req, e->conn, NULL, deny_buf,
                                           sizeof deny_buf)))
            rc = MODNATS_DENY;
    } else {
        rc = MODNATS_DENY;
        snprintf(deny_buf, sizeof deny_buf, "account %s of user %s is not known to the resolver",
                 acc_pub, user->sub);
        e->deny_reason = deny_buf;
    }
    pthread_rwlock_unlock(&g_aj.store.lock);
    if (!acc && try_pending(e, acc_pub)) {
        e->deny_reason = NULL;
        rc = MODNATS_PENDING;
    }
    aj_jwt_free(user);
    return rc;
}

/* The module's thread: read the account from the directory, then decide.
 * Completes p's ticket exactly once; frees p. */
void aj_pending_run(aj_pending_login *p)
{
    const modnats_host_api *api = g_aj.api;
    char why[256] = "";
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.jwt", g_aj.store.dir, p->account);
    char *text = aj_read_file(path);
    aj_jwt *acc = NULL, *user = NULL;
    char err[200];
    if (!text) {
        snprintf(why, sizeof why, "account %s is not known to the resolver", p->account);
    } else if (!aj_jwt_decode(text, AJ_ACCOUNT, &acc, err, sizeof err) ||
               strcmp(acc->sub, p->account) != 0) {
        snprintf(why, sizeof why, "%s: %s", path, acc ? "holds another account" : err);
    } else if (!aj_trust_account(&g_aj.trust, acc, err, sizeof err)) {
        snprintf(why, sizeof why, "%s: %s", path, err);
    } else {
        aj_put put = aj_store_put(&g_aj.store, acc, err, sizeof err);   /* takes acc */
        acc = NULL;
        if (put == AJ_PUT_ERR)
            snprintf(why, sizeof why, "%s: %s", path, err);
        else if (put != AJ_PUT_SAME)
            aj_apply_changed(p->account);
    }
    free(text);
    aj_jwt_free(acc);
    if (!why[0] && !aj_jwt_decode(p->jwt, AJ_USER, &user, err, sizeof err))
        snprintf(why, sizeof why, "user JWT: %s", err);
    if (!why[0]) {
        int64_t now_ms = aj_now_ms();
        aj_login_req req = { .nonce = p->nonce, .sig = p->sig, .remote_ip = p->ip,
                             .conn_type = "STANDARD", .now = now_ms / 1000, .now_ms = now_ms };
        pthread_rwlock_rdlock(&g_aj.store.lock);
        const aj_jwt *a = aj_store_get_locked(&g_aj.store, p->account);
        const char *r = a ? admit_locked(a, user, &req, p->conn, p->ticket, why, sizeof why)
                          : "account deleted meanwhile";
        if (r && r != why)
            snprintf(why, sizeof why, "%s", r);
        pthread_rwlock_unlock(&g_aj.store.lock);
    }
    aj_jwt_free(user);
    if (why[0])
        api->auth_complete(p->ticket, MODNATS_DENY, why);
    else
        api->log(g_aj.self, MODNATS_LOG_INFO, "Account %s loaded from %s for a login",
                 p->account, g_aj.store.dir);
    aj_pending_free(p);
}

/* The table entry of the event's connection, or NULL; logins_mu held. */
static aj_login *find_locked(const modnats_event_hdr *ev)
{
    uint64_t cid = g_aj.api->conn_id(((const modnats_conn_event *)ev)->conn);
    for (size_t i = 0; i < nlogins; i++)
        if (logins[i].cid == cid)
            return &logins[i];
    return NULL;
}

modnats_rc aj_on_connect(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    pthread_mutex_lock(&logins_mu);
    aj_login *l = find_locked(ev);
    if (l) {
        l->confirmed = true;
        l->conn = ((modnats_conn_event *)ev)->conn;
    }
    pthread_mutex_unlock(&logins_mu);
    return MODNATS_DEFER;
}

modnats_rc aj_on_disconnect(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    pthread_mutex_lock(&logins_mu);
    aj_login *l = find_locked(ev);
    if (l)
        *l = logins[--nlogins];
    pthread_mutex_unlock(&logins_mu);
    return MODNATS_DEFER;
}

size_t aj_logins_revoke(const char *pub, bool all)
{
    size_t closed = 0;
    /* lock order: the store, then the table (as track() under a login) */
    pthread_rwlock_rdlock(&g_aj.store.lock);
    pthread_mutex_lock(&logins_mu);
    const aj_jwt *acc = aj_store_get_locked(&g_aj.store, pub);
    for (size_t i = 0; i < nlogins; i++) {
        aj_login *l = &logins[i];
        if (!l->confirmed || l->closing || strcmp(l->account, pub) != 0)
            continue;
        if (all || !acc || aj_user_revoked(acc, l->user, l->iat)) {
            l->closing = true;
            g_aj.api->conn_close(l->conn, "User Authentication Revoked");
            closed++;
        }
    }
    pthread_mutex_unlock(&logins_mu);
    pthread_rwlock_unlock(&g_aj.store.lock);
    return closed;
}

/* Once a second, on the module's thread (never an I/O worker, so that
 * conn_close only posts and no DISCONNECT hook runs under our locks):
 * close the users of accounts whose JWT expired, with nats-server's text,
 * and, on cores without conn_login (ABI 1.0), users whose own JWT did. */
void aj_logins_sweep(void)
{
    int64_t now = aj_now_ms();
    bool core_expires = MODNATS_HAS(g_aj.api, conn_login);
    pthread_rwlock_rdlock(&g_aj.store.lock);
    pthread_mutex_lock(&logins_mu);
    for (size_t i = 0; i < nlogins; i++) {
        aj_login *l = &logins[i];
        if (!l->confirmed || l->closing)
            continue;
        const aj_jwt *acc = aj_store_get_locked(&g_aj.store, l->account);
        const char *why = NULL;
        if (acc && acc->exp > 0 && now / 1000 > acc->exp)
            why = "Account Authentication Expired";
        else if (!core_expires && l->expires_ms > 0 && now >= l->expires_ms)
            why = "User Authentication Expired";
        if (why) {
            l->closing = true;
            g_aj.api->conn_close(l->conn, why);
        }
    }
    pthread_mutex_unlock(&logins_mu);
    pthread_rwlock_unlock(&g_aj.store.lock);
}
