/*
 * acct_mod.c - ABI test module for the ABI 1.1 logins and limits:
 * conn_login (inside AUTH), auth_complete_ex (from a thread),
 * account_set_limits (lowering max_conns closes the newest), and
 * conns_close_where.  Users, by CONNECT "user":
 *
 *   lim  -> account L, user "lim-u", max_subs 1, max_payload 10 (conn_login)
 *   exp  -> account L, user "exp-u", expires 1.5 s after login (conn_login)
 *   pend -> PENDING, then auth_complete_ex: account L, user "pend-u",
 *           max_subs 2, from a thread of the module's
 *   l    -> account L, user "l-u", no limits of its own (conn_login)
 *   other-> allowed, $G
 *
 * Control in $G: "ctl.maxconns.<n>" sets L's max_conns to n (-1:
 * unlimited); "ctl.close.<user>" closes L's connections of that user
 * with -ERR 'closed by ctl'.
 */
#include "abi_mod.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/time.h>

static const modnats_host_api *api;
static modnats_module *self;
static modnats_account *acc_l;
static modnats_sub *ctl;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static modnats_auth_ticket *g_tickets[64];
static size_t g_n;
static bool g_stop;
static pthread_t g_thread;
static bool g_started;

static uint64_t unix_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

static void *completer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        while (!g_n && !g_stop)
            pthread_cond_wait(&g_cv, &g_mu);
        if (!g_n)
            break;
        modnats_auth_ticket *t = g_tickets[--g_n];
        pthread_mutex_unlock(&g_mu);
        modnats_login l = MODNATS_LOGIN_INIT;
        l.user = "pend-u";
        l.account = acc_l;
        l.max_subs = 2;
        modnats_rc rc = api->auth_complete_ex(t, MODNATS_OK, NULL, &l);
        api->log(self, MODNATS_LOG_INFO, "auth_complete_ex rc=%d", (int)rc);
        pthread_mutex_lock(&g_mu);
    }
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

static modnats_rc on_auth(void *ud, modnats_event_hdr *hdr)
{
    (void)ud;
    modnats_auth_event *ev = (modnats_auth_event *)hdr;
    const char *u = ev->user ? ev->user : "";
    modnats_login l = MODNATS_LOGIN_INIT;
    l.account = acc_l;
    if (strcmp(u, "lim") == 0) {
        l.user = "lim-u";
        l.max_subs = 1;
        l.max_payload = 10;
    } else if (strcmp(u, "exp") == 0) {
        l.user = "exp-u";
        l.expires_unix_ms = unix_ms() + 1500;
    } else if (strcmp(u, "l") == 0) {
        l.user = "l-u";
    } else if (strcmp(u, "x") == 0 || strcmp(u, "y") == 0) {
        l.user = u;
        l.account = api->account_get(strcmp(u, "x") == 0 ? "X" : "Y");
    } else if (strcmp(u, "pend") == 0) {
        pthread_mutex_lock(&g_mu);
        bool ok = g_n < 64;
        if (ok)
            g_tickets[g_n++] = ev->ticket;
        pthread_cond_signal(&g_cv);
        pthread_mutex_unlock(&g_mu);
        return ok ? MODNATS_PENDING : MODNATS_DENY;
    } else {
        return MODNATS_OK;
    }
    modnats_rc rc = api->conn_login(ev->conn, &l);
    api->log(self, MODNATS_LOG_INFO, "conn_login user=%s rc=%d", u, (int)rc);
    return rc == MODNATS_OK ? MODNATS_OK : MODNATS_DENY;
}

static void on_ctl(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    char subj[128];
    snprintf(subj, sizeof subj, "%.*s", (int)msg->subject_len, msg->subject);
    if (strncmp(subj, "ctl.maxconns.", 13) == 0) {
        modnats_account_limits lim = MODNATS_ACCOUNT_LIMITS_NONE;
        lim.max_conns = strcmp(subj + 13, "none") == 0 ? -1 : atoi(subj + 13);
        modnats_rc rc = api->account_set_limits(acc_l, &lim);
        api->log(self, MODNATS_LOG_INFO, "set_limits max_conns=%lld rc=%d",
                 (long long)lim.max_conns, (int)rc);
    } else if (strcmp(subj, "ctl.clear.x") == 0) {
        modnats_rc rc = api->account_clear_io(api->account_get("X"));
        api->log(self, MODNATS_LOG_INFO, "clear_io rc=%d", (int)rc);
    } else if (strncmp(subj, "ctl.close.", 10) == 0) {
        modnats_rc rc = api->conns_close_where(acc_l, subj + 10, "closed by ctl");
        api->log(self, MODNATS_LOG_INFO, "close_where user=%s rc=%d", subj + 10, (int)rc);
    }
}

static void acct_fini(modnats_module *m)
{
    (void)m;
    if (ctl)
        api->unsubscribe(ctl);
    ctl = NULL;
    if (g_started) {
        pthread_mutex_lock(&g_mu);
        g_stop = true;
        pthread_cond_broadcast(&g_cv);
        pthread_mutex_unlock(&g_mu);
        pthread_join(g_thread, NULL);
        g_started = false;
    }
}

static modnats_rc acct_init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    if (!MODNATS_HAS(api, conn_login) || !MODNATS_HAS(api, conns_close_where))
        return MODNATS_ERR;
    acc_l = api->account_get_or_create("L");
    /* Exports and imports: X exports stream "xs.>" to account "Z" only
     * and nothing else; Y imports it: refused, then allowed with
     * authorized (as a JWT activation would), ENOTFOUND for a subject X
     * does not export, ELOOP for the way back. */
    modnats_account *x = api->account_get_or_create("X"), *y = api->account_get_or_create("Y");
    static const char *const only_z[] = { "Z" };
    modnats_export ex = { .size = sizeof ex, .kind = MODNATS_EXPORT_STREAM, .subject = "xs.>",
                          .accounts = only_z, .n_accounts = 1 };
    modnats_rc erc = api->account_export(x, &ex);
    modnats_import im = { .size = sizeof im, .kind = MODNATS_EXPORT_STREAM, .from = x,
                          .subject = "xs.>", .to = "ys.>" };
    modnats_rc r1 = api->account_import(y, &im);
    im.authorized = true;
    modnats_rc r2 = api->account_import(y, &im);
    modnats_import none = { .size = sizeof none, .kind = MODNATS_EXPORT_SERVICE, .from = x,
                            .subject = "xs.a" };
    modnats_rc r3 = api->account_import(y, &none);
    modnats_export back = { .size = sizeof back, .kind = MODNATS_EXPORT_STREAM, .subject = ">" };
    api->account_export(y, &back);
    modnats_import loop = { .size = sizeof loop, .kind = MODNATS_EXPORT_STREAM, .from = y,
                            .subject = "ys.>", .to = "xs.>" };
    modnats_rc r4 = api->account_import(x, &loop);
    api->log(self, MODNATS_LOG_INFO, "io export=%d import=%d authorized=%d notfound=%d loop=%d",
             (int)erc, (int)r1, (int)r2, (int)r3, (int)r4);
    if (!acc_l || pthread_create(&g_thread, NULL, completer, NULL) != 0)
        return MODNATS_ERR;
    g_started = true;
    ctl = api->subscribe(m, api->account_global(), "ctl.>", NULL, 1, 0, on_ctl, NULL);
    if (!ctl || api->hook(m, MODNATS_EV_AUTH, 0, on_auth, NULL) != MODNATS_OK) {
        acct_fini(m);
        return MODNATS_ERR;
    }
    return MODNATS_OK;
}

ABI_TEST_DESC(acct_desc, "acct_mod", NULL, acct_init, acct_fini);
MODNATS_MODULE(acct_mod) { return &acct_desc; }
