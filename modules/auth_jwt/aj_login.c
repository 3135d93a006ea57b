/*
 * aj_login.c - logins with user JWTs: the AUTH hook (decode, find the
 * account, aj_check_user, hand the client its account, permissions,
 * limits and expiry to the core), and the table of logged-in JWT users,
 * kept through CONNECT and DISCONNECT, that lets an account update close
 * the connections of users it revokes.
 *
 * The AUTH hook answers at once: every account JWT is already in memory
 * (MEMORY preload, or the full resolver's directory read at start), so a
 * login costs two Ed25519 checks and never waits for I/O.
 *
 * The hook and the CONNECT that follows a successful login run on the same
 * worker, one after the other: the hook leaves what it learnt in a
 * thread-local slot, and CONNECT files it under the connection.  A
 * connection is valid until its DISCONNECT hook returns, and that hook
 * takes the table's lock, so a connection found in the table under the
 * lock can be closed safely.
 */
#include "aj_mod.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct aj_login {
    modnats_conn *conn;
    char     account[MNK_STR_LEN + 1];
    char     user[MNK_STR_LEN + 1];
    int64_t  iat;
    int64_t  expires_ms;          /* 0: never */
    bool     closing;
} aj_login;

static pthread_mutex_t logins_mu = PTHREAD_MUTEX_INITIALIZER;
static aj_login *logins;
static size_t nlogins, caplogins;

static _Thread_local aj_login pending;     /* AUTH -> CONNECT on one worker */
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

static modnats_rc deny(modnats_auth_event *e, const char *fmt, const char *a, const char *b)
{
    snprintf(deny_buf, sizeof deny_buf, fmt, a ? a : "", b ? b : "");
    e->deny_reason = deny_buf;
    return MODNATS_DENY;
}

static void export_perms(const aj_perms *p, modnats_permissions *out)
{
    memset(out, 0, sizeof *out);
    out->size = sizeof *out;
    out->pub_allow = (const char *const *)p->pub_allow.v;
    out->n_pub_allow = p->pub_allow.n;
    out->pub_deny = (const char *const *)p->pub_deny.v;
    out->n_pub_deny = p->pub_deny.n;
    out->sub_allow = (const char *const *)p->sub_allow.v;
    out->n_sub_allow = p->sub_allow.n;
    out->sub_deny = (const char *const *)p->sub_deny.v;
    out->n_sub_deny = p->sub_deny.n;
    if (p->has_resp) {
        /* nats-server's defaults for a resp block without values */
        out->allow_responses = true;
        out->responses_max_msgs = p->resp_max > 0 ? (uint32_t)p->resp_max : 1;
        out->responses_expires_ms = p->resp_ttl_ms > 0 ? (uint64_t)p->resp_ttl_ms : 2 * 60 * 1000;
    }
}

static bool perms_empty(const aj_perms *p)
{
    return !p->pub_allow.n && !p->pub_deny.n && !p->sub_allow.n && !p->sub_deny.n &&
           !p->has_resp;
}

modnats_rc aj_on_auth(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    modnats_auth_event *e = (modnats_auth_event *)ev;
    const modnats_host_api *api = g_aj.api;
    pending.conn = NULL;
    if (!e->jwt)
        return MODNATS_DEFER;   /* not a JWT login: maybe another module's */
    aj_jwt *user = NULL;
    char err[200];
    if (!aj_jwt_decode(e->jwt, AJ_USER, &user, err, sizeof err))
        return deny(e, "user JWT: %s%s", err, NULL);
    const char *acc_pub = user->issuer_account ? user->issuer_account : user->iss;
    int64_t now_ms = aj_now_ms();
    aj_login_req req = {
        .nonce = e->nonce, .sig = e->sig, .remote_ip = e->remote_ip,
        .conn_type = "STANDARD", .now = now_ms / 1000, .now_ms = now_ms,
    };
    modnats_rc rc;
    pthread_rwlock_rdlock(&g_aj.store.lock);
    const aj_jwt *acc = aj_store_get_locked(&g_aj.store, acc_pub);
    aj_grant g;
    const char *why = NULL;
    if (!acc) {
        rc = deny(e, "account %s of user %s is not known to the resolver", acc_pub, user->sub);
        goto out;
    }
    if ((why = aj_check_user(acc, user, &req, &g))) {
        rc = deny(e, "%s (user %s)", why, user->sub);
        goto out;
    }
    if (perms_empty(g.perms) && acc->u.acc.has_default_perms)
        g.perms = &acc->u.acc.default_perms;
    modnats_permissions perms;
    export_perms(g.perms, &perms);
    modnats_account *a = api->account_get_or_create(acc->sub);
    if (!a) {
        rc = deny(e, "account %s: out of memory%s", acc->sub, NULL);
        goto out;
    }
    if (MODNATS_HAS(api, conn_login)) {
        modnats_login l = MODNATS_LOGIN_INIT;
        l.user = user->sub;
        l.perms = &perms;
        l.account = a;
        l.max_subs = g.subs;
        l.max_payload = g.payload;
        l.expires_unix_ms = g.expires_unix_ms > 0 ? (uint64_t)g.expires_unix_ms : 0;
        if (api->conn_login(e->conn, &l) != MODNATS_OK) {
            rc = deny(e, "the core refused the login of %s%s", user->sub, NULL);
            goto out;
        }
    } else if (api->conn_set_account(e->conn, a) != MODNATS_OK ||
               api->conn_set_permissions(e->conn, &perms) != MODNATS_OK ||
               api->conn_set_user(e->conn, user->sub) != MODNATS_OK) {
        rc = deny(e, "the core refused the login of %s%s", user->sub, NULL);
        goto out;
    }
    pending.conn = e->conn;
    snprintf(pending.account, sizeof pending.account, "%s", acc->sub);
    snprintf(pending.user, sizeof pending.user, "%s", user->sub);
    pending.iat = user->iat;
    pending.expires_ms = g.expires_unix_ms;
    pending.closing = false;
    rc = MODNATS_OK;
out:
    pthread_rwlock_unlock(&g_aj.store.lock);
    aj_jwt_free(user);
    return rc;
}

modnats_rc aj_on_connect(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    modnats_conn_event *e = (modnats_conn_event *)ev;
    if (!pending.conn || pending.conn != e->conn)
        return MODNATS_DEFER;   /* not a login of ours */
    pthread_mutex_lock(&logins_mu);
    if (nlogins == caplogins) {
        size_t cap = caplogins ? caplogins * 2 : 64;
        aj_login *nv = realloc(logins, cap * sizeof *nv);
        if (nv) {
            logins = nv;
            caplogins = cap;
        }
    }
    if (nlogins < caplogins)
        logins[nlogins++] = pending;
    else
        g_aj.api->log(g_aj.self, MODNATS_LOG_WARN, "out of memory: user %s will not be "
                      "disconnected by a revocation", pending.user);
    pthread_mutex_unlock(&logins_mu);
    pending.conn = NULL;
    return MODNATS_DEFER;
}

modnats_rc aj_on_disconnect(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    modnats_conn_event *e = (modnats_conn_event *)ev;
    pthread_mutex_lock(&logins_mu);
    for (size_t i = 0; i < nlogins; i++) {
        if (logins[i].conn == e->conn) {
            logins[i] = logins[--nlogins];
            break;
        }
    }
    pthread_mutex_unlock(&logins_mu);
    return MODNATS_DEFER;
}

size_t aj_logins_revoke(const char *pub, bool all)
{
    size_t closed = 0;
    pthread_mutex_lock(&logins_mu);
    pthread_rwlock_rdlock(&g_aj.store.lock);
    const aj_jwt *acc = aj_store_get_locked(&g_aj.store, pub);
    for (size_t i = 0; i < nlogins; i++) {
        aj_login *l = &logins[i];
        if (l->closing || strcmp(l->account, pub) != 0)
            continue;
        if (all || !acc || aj_user_revoked(acc, l->user, l->iat)) {
            l->closing = true;
            g_aj.api->conn_close(l->conn, "User Authentication Revoked");
            closed++;
        }
    }
    pthread_rwlock_unlock(&g_aj.store.lock);
    pthread_mutex_unlock(&logins_mu);
    return closed;
}

/* Cores without conn_login (ABI 1.0) do not expire logins: a timer does. */
void aj_expiry_sweep(void *ud, modnats_timer *t)
{
    (void)ud;
    (void)t;
    int64_t now = aj_now_ms();
    pthread_mutex_lock(&logins_mu);
    for (size_t i = 0; i < nlogins; i++) {
        aj_login *l = &logins[i];
        if (!l->closing && l->expires_ms > 0 && now >= l->expires_ms) {
            l->closing = true;
            g_aj.api->conn_close(l->conn, "User Authentication Expired");
        }
    }
    pthread_mutex_unlock(&logins_mu);
}
