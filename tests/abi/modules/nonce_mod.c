/*
 * nonce_mod.c - ABI test module for require_nonce: with require = true
 * (the default) init asks for a nonce in every INFO.  The AUTH hook logs
 * the nonce the event carries ("auth name=<name> nonce=<nonce|(null)>")
 * and lets everyone in.
 */
#include "abi_mod.h"

static const modnats_host_api *api;
static modnats_module *self;

static const modnats_option opts[] = {
    { "require", MODNATS_OPT_BOOL, false, "call require_nonce in init (default true)" },
    { NULL, 0, false, NULL },
};

static modnats_rc on_auth(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    modnats_auth_event *ev = (modnats_auth_event *)h;
    api->log(self, MODNATS_LOG_INFO, "auth name=%s nonce=%s", ev->name ? ev->name : "",
             ev->nonce ? ev->nonce : "(null)");
    return MODNATS_OK;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    bool require = true;
    api->cfg_bool(cfg, "require", &require);
    if (require && (!MODNATS_HAS(api, require_nonce) || api->require_nonce(m) != MODNATS_OK))
        return MODNATS_ERR;
    return api->hook(m, MODNATS_EV_AUTH, 0, on_auth, NULL);
}

ABI_TEST_DESC(desc, "nonce_mod", opts, init, NULL);
MODNATS_MODULE(nonce_mod) { return &desc; }
