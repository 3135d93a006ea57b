/*
 * ev_interest.c - ABI test module for MODNATS_EV_INTEREST: logs every
 * change of local interest it is told about.  In init it subscribes twice
 * itself (in $G with an origin of its own, and in account ABI_X) so the
 * test also sees events for in-process subscriptions and other accounts.
 */
#include "abi_mod.h"

static const modnats_host_api *api;
static modnats_module *self;
static modnats_sub *g_subs[2];

static modnats_rc on_interest(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    if (h->type != MODNATS_EV_INTEREST || !ABI_EV_HAS(h, modnats_interest_event, origin))
        return MODNATS_ERR;
    modnats_interest_event *ev = (modnats_interest_event *)h;
    api->log(self, MODNATS_LOG_INFO, "interest %c acc=%s subject=%.*s queue=%.*s origin=%u",
             ev->added ? '+' : '-', api->account_name(ev->account), (int)ev->subject_len,
             ev->subject, (int)ev->queue_len, ev->queue ? ev->queue : "", (unsigned)ev->origin);
    return MODNATS_DEFER;
}

static void on_msg(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)msg;
    (void)origin;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    if (api->hook(m, MODNATS_EV_INTEREST, 0, on_interest, NULL) != MODNATS_OK)
        return MODNATS_ERR;
    modnats_origin o = api->new_origin(m);
    g_subs[0] = api->subscribe(m, api->account_global(), "abi.int.module", NULL, 1, o, on_msg, NULL);
    modnats_account *x = api->account_get_or_create("ABI_X");
    g_subs[1] = api->subscribe(m, x, "abi.int.other", "q1", 3, 0, on_msg, NULL);
    if (!g_subs[0] || !g_subs[1])
        return MODNATS_ERR;
    api->log(self, MODNATS_LOG_INFO, "own origin=%u", (unsigned)o);
    return MODNATS_OK;
}

static void fini(modnats_module *m)
{
    (void)m;
    /* Workers are stopped: unsubscribing still tells the chain. */
    for (int i = 0; i < 2; i++)
        if (g_subs[i])
            api->unsubscribe(g_subs[i]);
}

ABI_TEST_DESC(desc, "ev_interest", NULL, init, fini);
MODNATS_MODULE(ev_interest) { return &desc; }
