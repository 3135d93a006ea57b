/*
 * ev_disconnect.c - ABI test module for MODNATS_EV_DISCONNECT: publishes
 * every logged-in client's departure, with its name and the reason, on
 * "abi.ev.disconnect".
 */
#include "abi_mod.h"

static const modnats_host_api *api;
static modnats_module *self;

static modnats_rc on_disconnect(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    if (h->type != MODNATS_EV_DISCONNECT || !ABI_EV_HAS(h, modnats_conn_event, reason))
        return MODNATS_ERR;
    modnats_conn_event *ev = (modnats_conn_event *)h;
    const char *name = api->conn_name(ev->conn);
    abi_pub(api, self, "abi.ev.disconnect", "disconnect name=%s reason=%s",
            name ? name : "(null)", ev->reason ? ev->reason : "(null)");
    return MODNATS_DEFER;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    return api->hook(m, MODNATS_EV_DISCONNECT, 0, on_disconnect, NULL);
}

ABI_TEST_DESC(desc, "ev_disconnect", NULL, init, NULL);
MODNATS_MODULE(ev_disconnect) { return &desc; }
