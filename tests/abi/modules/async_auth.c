/*
 * async_auth.c - ABI test module for deferred logins: the AUTH hook
 * answers MODNATS_PENDING and a thread of the module's finishes the login
 * with auth_complete after `delay`.  User "slow-ok" is let in, any other
 * deferred login is denied; user "sync-ok" is let in at once (so the test
 * can show the I/O worker keeps serving others while logins are pending).
 * fini stops and joins the thread, finishing what is still queued.
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
    bool                 ok;
    struct timespec      due;
} job;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv;
static job *g_head, *g_tail;
static bool g_stop;
static pthread_t g_thread;
static bool g_started;
static int64_t g_delay_ms = 300;

static const modnats_option opts[] = {
    { "delay", MODNATS_OPT_DURATION, false, "how long each deferred login takes" },
    { NULL, 0, false, NULL },
};

static void *completer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        while (!g_head && !g_stop)
            pthread_cond_wait(&g_cv, &g_mu);
        if (!g_head)
            break;
        job *j = g_head;
        if (!g_stop && pthread_cond_timedwait(&g_cv, &g_mu, &j->due) == 0)
            continue;   /* woken early: look again */
        g_head = j->next;
        if (!g_head)
            g_tail = NULL;
        pthread_mutex_unlock(&g_mu);
        modnats_rc rc = api->auth_complete(j->ticket, j->ok ? MODNATS_OK : MODNATS_DENY,
                                           j->ok ? NULL : "async_auth: denied after delay");
        if (rc != MODNATS_OK)
            api->log(self, MODNATS_LOG_ERROR, "auth_complete: rc=%d", (int)rc);
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
    if (ev->user && strcmp(ev->user, "sync-ok") == 0)
        return MODNATS_OK;
    if (!ev->ticket)
        return MODNATS_ERR;
    job *j = calloc(1, sizeof *j);
    if (!j)
        return MODNATS_ERR;
    j->ticket = ev->ticket;
    j->ok = ev->user && strcmp(ev->user, "slow-ok") == 0;
    clock_gettime(CLOCK_MONOTONIC, &j->due);
    j->due.tv_sec += g_delay_ms / 1000;
    j->due.tv_nsec += (long)(g_delay_ms % 1000) * 1000000L;
    if (j->due.tv_nsec >= 1000000000L) {
        j->due.tv_sec++;
        j->due.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g_mu);
    if (g_tail)
        g_tail->next = j;
    else
        g_head = j;
    g_tail = j;
    pthread_cond_signal(&g_cv);
    pthread_mutex_unlock(&g_mu);
    api->log(self, MODNATS_LOG_INFO, "pending user=%s", ev->user ? ev->user : "(null)");
    return MODNATS_PENDING;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    api->cfg_int(cfg, "delay", &g_delay_ms);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g_thread, NULL, completer, NULL) != 0)
        return MODNATS_ERR;
    g_started = true;
    return api->hook(m, MODNATS_EV_AUTH, 0, on_auth, NULL);
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
    api->log(self, MODNATS_LOG_INFO, "fini joined");
}

ABI_TEST_DESC(desc, "async_auth", opts, init, fini);
MODNATS_MODULE(async_auth) { return &desc; }
