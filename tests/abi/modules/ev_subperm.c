/*
 * ev_subperm.c - ABI test module for MODNATS_EV_SUB_PERMISSION: logs every
 * subscription it is asked about and refuses subjects under "hooksub.deny.".
 */
#include "abi_mod.h"

static const modnats_host_api *api;
static modnats_module *self;

static modnats_rc on_sub(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    if (h->type != MODNATS_EV_SUB_PERMISSION || !ABI_EV_HAS(h, modnats_perm_event, queue_len))
        return MODNATS_ERR;
    modnats_perm_event *ev = (modnats_perm_event *)h;
    api->log(self, MODNATS_LOG_INFO, "subperm subject=%.*s queue=%.*s", (int)ev->subject_len,
             ev->subject, (int)ev->queue_len, ev->queue ? ev->queue : "");
    if (ev->subject_len >= 13 && memcmp(ev->subject, "hooksub.deny.", 13) == 0)
        return MODNATS_DENY;
    return MODNATS_DEFER;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    return api->hook(m, MODNATS_EV_SUB_PERMISSION, 0, on_sub, NULL);
}

ABI_TEST_DESC(desc, "ev_subperm", NULL, init, NULL);
MODNATS_MODULE(ev_subperm) { return &desc; }
