/*
 * chain_a.c / chain_b.c - ABI test modules for hook chain order.  chain_a
 * registers AUTH hooks at priorities 50 and 10, chain_b (loaded after it)
 * at 30 and 10, so the chain must run a10, b10, b30, a50.  Each hook logs
 * "chain <tag> user=<user>" and answers by the user name:
 *   "deny-at-<tag>" -> DENY, "ok-at-<tag>" -> OK, "err-at-<tag>" -> ERR,
 *   anything else -> DEFER.
 */
#include "abi_mod.h"

#ifndef CHAIN_NAME
#define CHAIN_NAME "chain_a"
#define CHAIN_TAG_HI "a50"
#define CHAIN_PRIO_HI 50
#define CHAIN_TAG_LO "a10"
#endif

static const modnats_host_api *api;
static modnats_module *self;

static modnats_rc answer(const char *tag, modnats_event_hdr *h)
{
    modnats_auth_event *ev = (modnats_auth_event *)h;
    const char *u = ev->user ? ev->user : "";
    api->log(self, MODNATS_LOG_INFO, "chain %s user=%s", tag, u);
    const char *dash = strrchr(u, '-');
    if (!dash || strcmp(dash + 1, tag) != 0)
        return MODNATS_DEFER;
    if (strncmp(u, "deny-at-", 8) == 0) {
        ev->deny_reason = "denied by the chain test";
        return MODNATS_DENY;
    }
    if (strncmp(u, "ok-at-", 6) == 0)
        return MODNATS_OK;
    if (strncmp(u, "err-at-", 7) == 0)
        return MODNATS_ERR;
    return MODNATS_DEFER;
}

static modnats_rc hook_hi(void *ud, modnats_event_hdr *h) { (void)ud; return answer(CHAIN_TAG_HI, h); }
static modnats_rc hook_lo(void *ud, modnats_event_hdr *h) { (void)ud; return answer(CHAIN_TAG_LO, h); }

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    /* The higher number first: registration order must not matter. */
    if (api->hook(m, MODNATS_EV_AUTH, CHAIN_PRIO_HI, hook_hi, NULL) != MODNATS_OK)
        return MODNATS_ERR;
    return api->hook(m, MODNATS_EV_AUTH, 10, hook_lo, NULL);
}

ABI_TEST_DESC(desc, CHAIN_NAME, NULL, init, NULL);
#ifdef CHAIN_B
MODNATS_MODULE(chain_b) { return &desc; }
#else
MODNATS_MODULE(chain_a) { return &desc; }
#endif
