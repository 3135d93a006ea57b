/*
 * login_async.c - ABI test module for auth_complete_login: the AUTH hook
 * answers PENDING and a thread of the module's finishes each login with
 * auth_complete_login, giving the client a user name, permissions
 * (publish: deny "secret") and an account chosen by the CONNECT user:
 *
 *   alice -> account ACC_A, user "alice-u"
 *   bob   -> account ACC_B, user "bob-u"
 *   admin -> account unchanged ($G), user "admin-u", no permissions
 *   other -> denied ("login_async: unknown user")
 *
 * Before completing, the thread tries conn_set_permissions,
 * conn_set_account and conn_set_user on the connection (refused off the
 * AUTH hook) and logs their results.  The CONNECT hook logs the account
 * each client landed in.  fini joins the thread.
 */
#include "abi_mod.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

static const modnats_host_api *api;
static modnats_module *self;

typedef struct job {
    struct job          *next;
    modnats_auth_ticket *ticket;
    modnats_conn        *conn;
    char                 user[64];
} job;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static job *g_head, *g_tail;
static bool g_stop, g_started;
static pthread_t g_thread;

static const char *const pub_deny[] = { "secret" };
static const modnats_permissions perms = {
    .size = sizeof(modnats_permissions),
    .pub_deny = pub_deny, .n_pub_deny = 1,
};

static void finish(job *j)
{
    modnats_rc prc = api->conn_set_permissions(j->conn, &perms);
    modnats_rc arc = api->conn_set_account(j->conn, api->account_global());
    modnats_rc urc = api->conn_set_user(j->conn, "from-thread");
    api->log(self, MODNATS_LOG_INFO,
             "off-hook user=%s set_permissions=%d set_account=%d set_user=%d", j->user, (int)prc,
             (int)arc, (int)urc);
    modnats_rc rc;
    if (strcmp(j->user, "alice") == 0)
        rc = api->auth_complete_login(j->ticket, MODNATS_OK, NULL, "alice-u", &perms,
                                      api->account_get_or_create("ACC_A"));
    else if (strcmp(j->user, "bob") == 0)
        rc = api->auth_complete_login(j->ticket, MODNATS_OK, NULL, "bob-u", &perms,
                                      api->account_get_or_create("ACC_B"));
    else if (strcmp(j->user, "admin") == 0)
        rc = api->auth_complete_login(j->ticket, MODNATS_OK, NULL, "admin-u", NULL, NULL);
    else
        rc = api->auth_complete_login(j->ticket, MODNATS_DENY, "login_async: unknown user", NULL,
                                      NULL, NULL);
    api->log(self, MODNATS_LOG_INFO, "completed user=%s rc=%d", j->user, (int)rc);
}

static void *completer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        while (!g_head && !g_stop)
            pthread_cond_wait(&g_cv, &g_mu);
        job *j = g_head;
        if (!j)
            break;
        g_head = j->next;
        if (!g_head)
            g_tail = NULL;
        pthread_mutex_unlock(&g_mu);
        struct timespec ts = { 0, 30 * 1000000L };
        nanosleep(&ts, NULL);
        finish(j);
        free(j);
        pthread_mutex_lock(&g_mu);
    }
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

static modnats_rc on_auth(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    modnats_auth_event *ev = (modnats_auth_event *)h;
    if (!ev->ticket)
        return MODNATS_ERR;
    job *j = calloc(1, sizeof *j);
    if (!j)
        return MODNATS_ERR;
    j->ticket = ev->ticket;
    j->conn = ev->conn;
    snprintf(j->user, sizeof j->user, "%s", ev->user ? ev->user : "");
    pthread_mutex_lock(&g_mu);
    if (g_tail)
        g_tail->next = j;
    else
        g_head = j;
    g_tail = j;
    pthread_cond_signal(&g_cv);
    pthread_mutex_unlock(&g_mu);
    return MODNATS_PENDING;
}

static modnats_rc on_connect(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    modnats_conn_event *ev = (modnats_conn_event *)h;
    const char *name = api->conn_name(ev->conn);
    api->log(self, MODNATS_LOG_INFO, "connect name=%s account=%s", name ? name : "",
             api->account_name(api->conn_account(ev->conn)));
    return MODNATS_DEFER;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    if (!MODNATS_HAS(api, auth_complete_login))
        return MODNATS_ERR;
    if (api->hook(m, MODNATS_EV_AUTH, 0, on_auth, NULL) != MODNATS_OK ||
        api->hook(m, MODNATS_EV_CONNECT, 0, on_connect, NULL) != MODNATS_OK)
        return MODNATS_ERR;
    if (pthread_create(&g_thread, NULL, completer, NULL) != 0)
        return MODNATS_ERR;
    g_started = true;
    return MODNATS_OK;
}

static void fini(modnats_module *m)
{
    (void)m;
    if (!g_started)
        return;
    pthread_mutex_lock(&g_mu);
    g_stop = true;
    pthread_cond_signal(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pthread_join(g_thread, NULL);
}

ABI_TEST_DESC(desc, "login_async", NULL, init, fini);
MODNATS_MODULE(login_async) { return &desc; }
