/*
 * ev_reload.c - ABI test module for MODNATS_EV_RELOAD: keeps its
 * `greeting` setting, answers requests on "abi.reload.get" with it, and
 * takes the new value from the RELOAD event's settings group.  Logs
 * whether the hook ran on the thread that ran init (the main thread).
 */
#include "abi_mod.h"

#include <pthread.h>
#include <stdlib.h>

static const modnats_host_api *api;
static modnats_module *self;
static pthread_t g_main;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char *g_greeting;
static modnats_sub *g_sub;

static const modnats_option opts[] = {
    { "greeting", MODNATS_OPT_STRING, true, "what abi.reload.get answers" },
    { "count", MODNATS_OPT_INT, false, "an integer (for wrong-type reloads)" },
    { NULL, 0, false, NULL },
};

static modnats_rc set_greeting(const modnats_config *cfg)
{
    const char *s = NULL;
    if (api->cfg_string(cfg, "greeting", &s) != MODNATS_OK)
        return MODNATS_ERR;
    char *copy = strdup(s);   /* cfg strings live only during the call */
    if (!copy)
        return MODNATS_ERR;
    pthread_mutex_lock(&g_mu);
    free(g_greeting);
    g_greeting = copy;
    pthread_mutex_unlock(&g_mu);
    return MODNATS_OK;
}

static modnats_rc on_reload(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    if (h->type != MODNATS_EV_RELOAD || !ABI_EV_HAS(h, modnats_reload_event, cfg))
        return MODNATS_ERR;
    modnats_reload_event *ev = (modnats_reload_event *)h;
    modnats_rc rc = set_greeting(ev->cfg);
    pthread_mutex_lock(&g_mu);
    api->log(self, MODNATS_LOG_INFO, "reload greeting=%s rc=%d main_thread=%s", g_greeting,
             (int)rc, pthread_equal(pthread_self(), g_main) ? "yes" : "no");
    pthread_mutex_unlock(&g_mu);
    return MODNATS_DEFER;
}

static void on_get(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    pthread_mutex_lock(&g_mu);
    abi_reply(api, self, msg, "%s", g_greeting);
    pthread_mutex_unlock(&g_mu);
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    g_main = pthread_self();
    if (set_greeting(cfg) != MODNATS_OK)
        return MODNATS_ERR;
    g_sub = api->subscribe(m, api->account_global(), "abi.reload.get", NULL, 1, 0, on_get, NULL);
    if (!g_sub)
        return MODNATS_ERR;
    return api->hook(m, MODNATS_EV_RELOAD, 0, on_reload, NULL);
}

static void fini(modnats_module *m)
{
    (void)m;
    api->unsubscribe(g_sub);
    free(g_greeting);
}

ABI_TEST_DESC(desc, "ev_reload", opts, init, fini);
MODNATS_MODULE(ev_reload) { return &desc; }
