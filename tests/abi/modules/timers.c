/*
 * timers.c - ABI test module for timers:
 *  - a periodic timer (first after `start`, then every `every`) publishes
 *    "tick <n>" on "timer.tick" and cancels itself from inside its
 *    callback after `ticks` ticks ("timer.done" then says so);
 *  - a one-shot timer publishes "once" on "timer.once" (at start + 100 ms);
 *  - "timer.arm" starts a one-shot timer that publishes "doomed" on
 *    "timer.doomed" after 400 ms; "timer.cancel" cancels it from another
 *    thread than the timer's (a message callback may run on any worker;
 *    the test runs two I/O threads).  Each answers "armed" / "cancelled".
 * Every callback logs whether it ran on an I/O worker thread other than
 * the main thread.
 */
#include "abi_mod.h"

#include <pthread.h>
#include <stdatomic.h>

static const modnats_host_api *api;
static modnats_module *self;
static int64_t g_every_ms = 100, g_ticks = 3, g_start_ms = 100;
static int g_count;
static pthread_t g_main;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static modnats_timer *g_doomed;   /* under g_mu */

static const modnats_option opts[] = {
    { "every", MODNATS_OPT_DURATION, false, "period of the ticking timer" },
    { "ticks", MODNATS_OPT_INT, false, "ticks before it cancels itself" },
    { "start", MODNATS_OPT_DURATION, false, "first tick after this (the one-shot: 100 ms later)" },
    { NULL, 0, false, NULL },
};

static void on_tick(void *ud, modnats_timer *t)
{
    (void)ud;
    g_count++;
    abi_pub(api, self, "timer.tick", "tick %d main_thread=%s", g_count,
            pthread_equal(pthread_self(), g_main) ? "yes" : "no");
    if (g_count >= g_ticks) {
        api->timer_cancel(t);   /* from inside its own callback */
        abi_pub(api, self, "timer.done", "cancelled after %d", g_count);
    }
}

static void on_once(void *ud, modnats_timer *t)
{
    (void)ud;
    (void)t;
    abi_pub(api, self, "timer.once", "once");
}

static void on_doomed(void *ud, modnats_timer *t)
{
    (void)ud;
    pthread_mutex_lock(&g_mu);
    if (g_doomed == t)
        g_doomed = NULL;   /* a fired one-shot handle is dead */
    pthread_mutex_unlock(&g_mu);
    abi_pub(api, self, "timer.doomed", "doomed");
}

static void on_arm(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    pthread_mutex_lock(&g_mu);
    if (!g_doomed)
        g_doomed = api->timer_start(self, 400, 0, on_doomed, NULL);
    bool ok = g_doomed != NULL;
    pthread_mutex_unlock(&g_mu);
    abi_reply(api, self, msg, ok ? "armed" : "arm failed");
}

static void on_cancel(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    /* Cancel under the lock on_doomed takes: either the callback already
     * cleared g_doomed, or it will not run after timer_cancel returns. */
    pthread_mutex_lock(&g_mu);
    modnats_timer *t = g_doomed;
    g_doomed = NULL;
    pthread_mutex_unlock(&g_mu);
    if (t)
        api->timer_cancel(t);
    abi_reply(api, self, msg, t ? "cancelled" : "nothing to cancel");
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    g_main = pthread_self();
    api->cfg_int(cfg, "every", &g_every_ms);
    api->cfg_int(cfg, "ticks", &g_ticks);
    api->cfg_int(cfg, "start", &g_start_ms);
    if (!api->timer_start(m, (uint64_t)g_start_ms, (uint64_t)g_every_ms, on_tick, NULL) ||
        !api->timer_start(m, (uint64_t)g_start_ms + 100, 0, on_once, NULL))
        return MODNATS_ERR;
    modnats_account *g = api->account_global();
    if (!api->subscribe(m, g, "timer.arm", NULL, 1, 0, on_arm, NULL) ||
        !api->subscribe(m, g, "timer.cancel", NULL, 1, 0, on_cancel, NULL))
        return MODNATS_ERR;
    if (api->timer_start(m, 10, 0, NULL, NULL) != NULL)   /* no callback: refused */
        return MODNATS_ERR;
    return MODNATS_OK;
}

ABI_TEST_DESC(desc, "timers", opts, init, NULL);
MODNATS_MODULE(timers) { return &desc; }
