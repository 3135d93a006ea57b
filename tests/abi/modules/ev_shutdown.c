/*
 * ev_shutdown.c - ABI test module for MODNATS_EV_SHUTDOWN and fini: logs
 * both, and whether each ran on the thread that ran init.
 */
#include "abi_mod.h"

#include <pthread.h>

static const modnats_host_api *api;
static modnats_module *self;
static pthread_t g_main;

static modnats_rc on_shutdown(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    api->log(self, MODNATS_LOG_INFO, "shutdown hook type=%d size_ok=%s main_thread=%s",
             (int)h->type, h->size >= sizeof(modnats_event_hdr) ? "yes" : "no",
             pthread_equal(pthread_self(), g_main) ? "yes" : "no");
    return MODNATS_DEFER;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    g_main = pthread_self();
    return api->hook(m, MODNATS_EV_SHUTDOWN, 0, on_shutdown, NULL);
}

static void fini(modnats_module *m)
{
    (void)m;
    api->log(self, MODNATS_LOG_INFO, "fini main_thread=%s",
             pthread_equal(pthread_self(), g_main) ? "yes" : "no");
}

ABI_TEST_DESC(desc, "ev_shutdown", NULL, init, fini);
MODNATS_MODULE(ev_shutdown) { return &desc; }
