/*
 * ev_connect.c - ABI test module for MODNATS_EV_CONNECT: publishes every
 * login on "abi.ev.connect" and refuses (DENY) a client named "reject-me".
 * Notification hooks answer DEFER so other modules' hooks still run.
 */
#include "abi_mod.h"

static const modnats_host_api *api;
static modnats_module *self;

static modnats_rc on_connect(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    if (h->type != MODNATS_EV_CONNECT || !ABI_EV_HAS(h, modnats_conn_event, reason))
        return MODNATS_ERR;
    modnats_conn_event *ev = (modnats_conn_event *)h;
    const char *name = api->conn_name(ev->conn);
    if (name && strcmp(name, "reject-me") == 0)
        return MODNATS_DENY;
    abi_pub(api, self, "abi.ev.connect", "connect cid=%llu name=%s ip=%s account=%s",
            (unsigned long long)api->conn_id(ev->conn), name ? name : "(null)",
            api->conn_remote_ip(ev->conn), api->account_name(api->conn_account(ev->conn)));
    return MODNATS_DEFER;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    return api->hook(m, MODNATS_EV_CONNECT, 0, on_connect, NULL);
}

ABI_TEST_DESC(desc, "ev_connect", NULL, init, NULL);
MODNATS_MODULE(ev_connect) { return &desc; }
