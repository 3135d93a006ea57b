/*
 * auth_basic.c - the auth_basic module: nats-server's classic
 * authentication (token, user/password, users list, no_auth_user, plain or
 * bcrypt secrets, nkey users), accounts from the settings, and per-user
 * permissions, as a modnats module.
 *
 * init reads the `authorization` settings into an immutable ab_conf
 * (ab_config.c) and registers an AUTH hook at priority 100.  The hook
 * decides with ab_authenticate (ab_auth.c); plain secrets are compared on
 * the spot, bcrypt ones (tens of milliseconds each) on the module's own
 * threads, the hook answering PENDING and the thread finishing the login
 * with auth_complete.  A successful login gets its user name and
 * permissions through conn_set_user / conn_set_permissions, and its
 * account through conn_set_account; the core enforces the permissions and
 * keeps accounts apart itself.  With nkey users configured, init asks the
 * core for a nonce in INFO (require_nonce); clients sign it.  On reload the new settings replace the
 * model atomically; old models are kept until fini, since a pending check
 * may still point into them.
 */
#include "ab.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AB_PRIORITY       100
#define AB_MAX_THREADS    8
#define AB_MAX_QUEUED     1024   /* bcrypt checks waiting: beyond, refuse */

/* A bcrypt check waiting for a thread. */
typedef struct ab_job {
    struct ab_job       *next;
    modnats_auth_ticket *ticket;
    modnats_conn        *conn;
    const ab_user       *user;
    const char          *stored;
    char                *given;   /* owned copy, wiped before free */
} ab_job;

/* A replaced model, kept until fini. */
typedef struct ab_retired {
    struct ab_retired *next;
    ab_conf           *conf;
} ab_retired;

static struct {
    const modnats_host_api *api;
    modnats_module         *self;
    _Atomic(ab_conf *)      conf;
    ab_retired             *retired;    /* main thread only */
    bool                    nonce;      /* INFO carries a nonce (asked at init) */

    pthread_mutex_t mu;
    pthread_cond_t  cv;
    ab_job         *head, *tail;
    size_t          queued;
    bool            stop;
    pthread_t       threads[AB_MAX_THREADS];
    int             nthreads;
} g;

/* ------------------------------------------ jetstream.accounts.config */

/* Bumped on every reload that took; read by the jetstream module. */
static _Atomic uint64_t js_gen;

/* Any thread: the models stay valid until fini (old ones are retired). */
static js_account_state js_lookup(const char *name, js_account_limits *out)
{
    const ab_conf *c = atomic_load_explicit(&g.conf, memory_order_acquire);
    return c ? ab_js_lookup(c, name, out) : JS_ACCOUNT_UNKNOWN;
}

static uint64_t js_generation(void)
{
    return atomic_load_explicit(&js_gen, memory_order_acquire);
}

static const js_accounts_v1 js_accounts = {
    .size = sizeof(js_accounts_v1), .lookup = js_lookup, .generation = js_generation,
};

/* ------------------------------------------------------------ logins */

/* Give the logged-in client its user name and permissions.  Fails closed:
 * if the core cannot take the permissions, the login is refused. */
static bool grant(modnats_conn *conn, const ab_user *u)
{
    if (!u)
        return true;
    if (g.api->conn_set_user(conn, u->name) != MODNATS_OK)
        return false;
    if (u->acct && g.api->conn_set_account(conn, u->acct) != MODNATS_OK) {
        g.api->log(g.self, MODNATS_LOG_ERROR,
                   "user \"%s\": the core refused account \"%s\"; login refused", u->name,
                   u->account);
        return false;
    }
    if (u->perms) {
        modnats_permissions p;
        ab_perms_export(u->perms, &p);
        if (g.api->conn_set_permissions(conn, &p) != MODNATS_OK) {
            g.api->log(g.self, MODNATS_LOG_ERROR,
                       "user \"%s\": the core refused the permissions; login refused", u->name);
            return false;
        }
    }
    return true;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void *check_thread(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&g.mu);
        while (!g.head && !g.stop)
            pthread_cond_wait(&g.cv, &g.mu);
        if (g.stop) {
            pthread_mutex_unlock(&g.mu);
            return NULL;
        }
        ab_job *j = g.head;
        g.head = j->next;
        if (!g.head)
            g.tail = NULL;
        g.queued--;
        pthread_mutex_unlock(&g.mu);

        bool ok = ab_bcrypt_check(j->stored, j->given);
        const char *why = ok ? NULL : (j->user ? "wrong password" : "wrong token");
        /* Off the worker thread, the identity travels with the answer:
         * the core applies it on the connection's worker. */
        modnats_permissions p, *pp = NULL;
        if (ok && j->user && j->user->perms) {
            ab_perms_export(j->user->perms, &p);
            pp = &p;
        }
        if (g.api->auth_complete_login(j->ticket, ok ? MODNATS_OK : MODNATS_DENY, why,
                                       ok && j->user ? j->user->name : NULL, pp,
                                       ok && j->user ? j->user->acct : NULL)
            != MODNATS_OK) {
            g.api->log(g.self, MODNATS_LOG_ERROR, "%s: the core refused the permissions; login refused",
                       j->user ? j->user->name : "token");
            g.api->auth_complete(j->ticket, MODNATS_DENY, "permissions not accepted by the core");
        }
        wipe_free(j->given);
        free(j);
    }
}

/* Queue a bcrypt check; false if it cannot be queued. */
static bool enqueue(modnats_auth_event *ev, const ab_decision *d)
{
    ab_job *j = calloc(1, sizeof *j);
    if (!j)
        return false;
    j->ticket = ev->ticket;
    j->conn = ev->conn;
    j->user = d->user;
    j->stored = d->stored;
    j->given = strdup(d->given);
    if (!j->given) {
        free(j);
        return false;
    }
    pthread_mutex_lock(&g.mu);
    bool room = g.queued < AB_MAX_QUEUED && !g.stop;
    if (room) {
        if (g.tail)
            g.tail->next = j;
        else
            g.head = j;
        g.tail = j;
        g.queued++;
        pthread_cond_signal(&g.cv);
    }
    pthread_mutex_unlock(&g.mu);
    if (!room) {
        wipe_free(j->given);
        free(j);
    }
    return room;
}

static modnats_rc on_auth(void *ud, modnats_event_hdr *hdr)
{
    (void)ud;
    modnats_auth_event *ev = (modnats_auth_event *)hdr;
    if (hdr->size < offsetof(modnats_auth_event, deny_reason) + sizeof ev->deny_reason)
        return MODNATS_DEFER;   /* a core whose event lacks what we need */
    const ab_conf *c = atomic_load_explicit(&g.conf, memory_order_acquire);
    ab_login l = { .user = ev->user, .pass = ev->pass, .token = ev->token,
                   .nkey = ev->nkey, .jwt = ev->jwt, .sig = ev->sig, .nonce = ev->nonce };
    modnats_tls_info cert = { .size = sizeof(cert) };
    if (ev->tls && MODNATS_HAS(g.api, conn_tls_info) &&
        g.api->conn_tls_info(ev->conn, &cert) == MODNATS_OK && cert.map)
        l.cert = &cert;   /* verify_and_map: the certificate names the user */
    ab_decision d = ab_authenticate(c, &l);
    switch (d.verdict) {
    case AB_DEFER:
        return MODNATS_DEFER;
    case AB_DENY:
        ev->deny_reason = d.reason;
        if (ev->nkey && ev->nkey[0])
            g.api->log(g.self, MODNATS_LOG_DEBUG, "nkey %s refused: %s", ev->nkey, d.reason);
        return MODNATS_DENY;
    case AB_ALLOW:
        if (!grant(ev->conn, d.user)) {
            ev->deny_reason = "permissions not accepted by the core";
            return MODNATS_DENY;
        }
        return MODNATS_OK;
    case AB_CHECK:
        break;
    }
    if (d.bcrypt && g.nthreads > 0 && ev->ticket) {
        if (enqueue(ev, &d))
            return MODNATS_PENDING;
        ev->deny_reason = "too many logins waiting for a bcrypt check";
        return MODNATS_DENY;
    }
    if (!ab_password_check(d.stored, d.bcrypt, d.given)) {
        ev->deny_reason = d.user ? "wrong password" : "wrong token";
        return MODNATS_DENY;
    }
    if (!grant(ev->conn, d.user)) {
        ev->deny_reason = "permissions not accepted by the core";
        return MODNATS_DENY;
    }
    return MODNATS_OK;
}

/* ------------------------------------------------------------ settings */

static void log_summary(const ab_conf *c)
{
    switch (c->mode) {
    case AB_MODE_NONE:
        g.api->log(g.self, MODNATS_LOG_DEBUG, "no credentials configured: logins deferred");
        break;
    case AB_MODE_TOKEN:
        g.api->log(g.self, MODNATS_LOG_DEBUG, "token authorization%s",
                   c->token_bcrypt ? " (bcrypt)" : "");
        break;
    case AB_MODE_USER:
        g.api->log(g.self, MODNATS_LOG_DEBUG, "single user \"%s\"", c->single.name);
        break;
    case AB_MODE_USERS:
        g.api->log(g.self, MODNATS_LOG_DEBUG, "%zu users (%zu nkey), %zu accounts%s%s%s",
                   c->nusers, c->nnkeys, c->accounts.n,
                   c->no_auth ? ", no_auth_user \"" : "", c->no_auth ? c->no_auth->name : "",
                   c->no_auth ? "\"" : "");
        break;
    }
}

/* Create the accounts the settings declare and point their users at them
 * (main thread: init and RELOAD).  Accounts live as long as the server,
 * so the pointers stay valid across reloads. */
static bool bind_accounts(ab_conf *c)
{
    for (size_t i = 0; i < c->accounts.n; i++) {
        if (!g.api->account_get_or_create(c->accounts.v[i])) {
            g.api->log(g.self, MODNATS_LOG_ERROR, "cannot create account \"%s\"", c->accounts.v[i]);
            return false;
        }
    }
    for (size_t i = 0; i < c->nusers; i++) {
        ab_user *u = &c->users[i];
        if (u->account && !(u->acct = g.api->account_get(u->account))) {
            g.api->log(g.self, MODNATS_LOG_ERROR, "account \"%s\" missing", u->account);
            return false;
        }
    }
    return true;
}

static modnats_rc on_reload(void *ud, modnats_event_hdr *hdr)
{
    (void)ud;
    modnats_reload_event *ev = (modnats_reload_event *)hdr;
    ab_conf *nc = calloc(1, sizeof *nc);
    ab_retired *r = calloc(1, sizeof *r);
    if (!nc || !r || ab_conf_load(g.api, g.self, ev->cfg, nc) != MODNATS_OK) {
        g.api->log(g.self, MODNATS_LOG_ERROR, "reload: settings refused, keeping the old ones");
        free(nc);
        free(r);
        return MODNATS_ERR;
    }
    /* The nonce is asked for at init only: nkey users that appear on
     * reload need a restart. */
    bool nonce_missing = nc->nnkeys > 0 && !g.nonce;
    if (nonce_missing || !bind_accounts(nc)) {
        if (nonce_missing)
            g.api->log(g.self, MODNATS_LOG_ERROR,
                       "reload: nkey users need a nonce in INFO, which is set up at start: restart "
                       "the server; keeping the old settings");
        ab_conf_free(nc);
        free(nc);
        free(r);
        return MODNATS_ERR;
    }
    if (!ab_io_apply(g.api, g.self, nc, true))
        g.api->log(g.self, MODNATS_LOG_ERROR,
                   "reload: exports/imports partly applied; fix the file and reload again");
    r->conf = atomic_exchange_explicit(&g.conf, nc, memory_order_acq_rel);
    atomic_fetch_add_explicit(&js_gen, 1, memory_order_acq_rel);
    r->next = g.retired;
    g.retired = r;
    log_summary(nc);
    return MODNATS_OK;
}

static void ab_fini(modnats_module *self);

static modnats_rc ab_init(modnats_module *self, const modnats_host_api *api,
                          const modnats_config *cfg)
{
    g.api = api;
    g.self = self;
    ab_conf *c = calloc(1, sizeof *c);
    if (!c) {
        api->log(self, MODNATS_LOG_ERROR, "out of memory");
        return MODNATS_ERR;
    }
    if (ab_conf_load(api, self, cfg, c) != MODNATS_OK) {
        free(c);
        return MODNATS_ERR;
    }
    if (c->nnkeys > 0) {
        if (!MODNATS_HAS(api, require_nonce) || api->require_nonce(self) != MODNATS_OK) {
            api->log(self, MODNATS_LOG_ERROR,
                     "nkey users need a nonce in INFO, which this server does not offer");
            ab_conf_free(c);
            free(c);
            return MODNATS_ERR;
        }
        g.nonce = true;
    }
    if (!bind_accounts(c) || !ab_io_apply(api, self, c, false)) {
        ab_conf_free(c);
        free(c);
        return MODNATS_ERR;
    }
    atomic_store(&g.conf, c);
    log_summary(c);
    if (MODNATS_HAS(api, service_register) &&
        api->service_register(self, JS_ACCOUNTS_SERVICE_CONFIG, 1, &js_accounts) != MODNATS_OK)
        api->log(self, MODNATS_LOG_WARN, "cannot offer the accounts' jetstream settings");

    if (api->hook(self, MODNATS_EV_AUTH, AB_PRIORITY, on_auth, NULL) != MODNATS_OK ||
        api->hook(self, MODNATS_EV_RELOAD, AB_PRIORITY, on_reload, NULL) != MODNATS_OK) {
        api->log(self, MODNATS_LOG_ERROR, "cannot register the AUTH and RELOAD hooks");
        ab_fini(self);
        return MODNATS_ERR;
    }

    /* bcrypt checks run off the I/O workers when the core can finish a
     * login later; otherwise inline (slow, but correct). */
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    if (MODNATS_HAS(api, auth_complete)) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        int want = cpus > 2 ? (int)(cpus / 2) : 1;
        if (want > AB_MAX_THREADS)
            want = AB_MAX_THREADS;
        for (int i = 0; i < want; i++) {
            if (pthread_create(&g.threads[g.nthreads], NULL, check_thread, NULL) != 0)
                break;
            g.nthreads++;
        }
    }
    if (g.nthreads == 0)
        api->log(self, MODNATS_LOG_WARN, "bcrypt checks run on the I/O threads");
    return MODNATS_OK;
}

static void ab_fini(modnats_module *self)
{
    (void)self;
    if (g.nthreads) {
        pthread_mutex_lock(&g.mu);
        g.stop = true;
        pthread_cond_broadcast(&g.cv);
        pthread_mutex_unlock(&g.mu);
        for (int i = 0; i < g.nthreads; i++)
            pthread_join(g.threads[i], NULL);
        g.nthreads = 0;
        /* the workers are stopped: logins still queued die with them */
        while (g.head) {
            ab_job *j = g.head;
            g.head = j->next;
            wipe_free(j->given);
            free(j);
        }
        g.tail = NULL;
    }
    ab_conf *c = atomic_exchange(&g.conf, NULL);
    if (c) {
        ab_conf_free(c);
        free(c);
    }
    while (g.retired) {
        ab_retired *r = g.retired;
        g.retired = r->next;
        ab_conf_free(r->conf);
        free(r->conf);
        free(r);
    }
}

/* ------------------------------------------------------------ descriptor */

static const modnats_option ab_options[] = {
    { "user",                MODNATS_OPT_STRING,   false, "single user name (or use users)" },
    { "username",            MODNATS_OPT_STRING,   false, "alias of user" },
    { "password",            MODNATS_OPT_STRING,   false, "password of the single user, plain or bcrypt" },
    { "pass",                MODNATS_OPT_STRING,   false, "alias of password" },
    { "token",               MODNATS_OPT_STRING,   false, "token clients send as auth_token, plain or bcrypt" },
    { "timeout",             MODNATS_OPT_DURATION, false, "authentication timeout (read by the core)" },
    { "users",               MODNATS_OPT_GROUP,    false, "list of { user; password; permissions; } or { nkey; permissions; }" },
    { "accounts",            MODNATS_OPT_GROUP,    false, "accounts { NAME = { users = (...); default_permissions; }; }" },
    { "no_auth_user",        MODNATS_OPT_STRING,   false, "user of the list that clients without credentials log in as" },
    { "system_account",      MODNATS_OPT_STRING,   false, "the account of $SYS events and requests (default \"$SYS\")" },
    { "default_permissions", MODNATS_OPT_GROUP,    false, "permissions of list users without their own" },
    { "permissions",         MODNATS_OPT_GROUP,    false, "alias of default_permissions" },
    { NULL, 0, false, NULL },
};

static const modnats_module_desc ab_desc = {
    .magic = MODNATS_MODULE_MAGIC,
    .size = sizeof(modnats_module_desc),
    .abi_major = MODNATS_ABI_MAJOR,
    .abi_minor = MODNATS_ABI_MINOR,
    .name = "auth_basic",
    .version = "1.0.0",
    .description = "token, user/password, users-list and nkey authentication, accounts, permissions",
    .options = ab_options,
    .init = ab_init,
    .fini = ab_fini,
};

MODNATS_MODULE(auth_basic) { return &ab_desc; }
