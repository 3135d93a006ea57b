/*
 * ev_auth.c - ABI test module for MODNATS_EV_AUTH: allows exactly one
 * user/password pair from its settings and denies everything else with a
 * deny_reason.  Logs what the event carried so the test can compare it with
 * what the client sent and where it came from.
 */
#include "abi_mod.h"

#include <stdlib.h>

static const modnats_host_api *api;
static modnats_module *self;
static char *g_user, *g_pass;

static const modnats_option opts[] = {
    { "user", MODNATS_OPT_STRING, true, "the one user allowed in" },
    { "pass", MODNATS_OPT_STRING, true, "its password" },
    { NULL, 0, false, NULL },
};

static modnats_rc on_auth(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    if (h->type != MODNATS_EV_AUTH ||
        !ABI_EV_HAS(h, modnats_auth_event, deny_reason))
        return MODNATS_ERR;
    modnats_auth_event *ev = (modnats_auth_event *)h;
    /* The event and the connection handle must agree. */
    api->log(self, MODNATS_LOG_INFO,
             "auth user=%s pass=%s name=%s ip=%s port=%d conn_ip=%s conn_port=%d ticket=%s",
             ev->user ? ev->user : "(null)", ev->pass ? ev->pass : "(null)",
             ev->name ? ev->name : "(null)", ev->remote_ip ? ev->remote_ip : "(null)",
             ev->remote_port, api->conn_remote_ip(ev->conn), api->conn_remote_port(ev->conn),
             ev->ticket ? "yes" : "no");
    if (ev->user && ev->pass && strcmp(ev->user, g_user) == 0 && strcmp(ev->pass, g_pass) == 0) {
        if (api->conn_set_user(ev->conn, ev->user) != MODNATS_OK)
            return MODNATS_ERR;
        return MODNATS_OK;
    }
    ev->deny_reason = "ev_auth: bad credentials";
    return MODNATS_DENY;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    const char *u = NULL, *p = NULL;
    if (api->cfg_string(cfg, "user", &u) != MODNATS_OK || api->cfg_string(cfg, "pass", &p) != MODNATS_OK)
        return MODNATS_ERR;
    g_user = strdup(u);
    g_pass = strdup(p);
    if (!g_user || !g_pass)
        return MODNATS_ERR;
    return api->hook(m, MODNATS_EV_AUTH, 0, on_auth, NULL);
}

static void fini(modnats_module *m)
{
    (void)m;
    free(g_user);
    free(g_pass);
}

ABI_TEST_DESC(desc, "ev_auth", opts, init, fini);
MODNATS_MODULE(ev_auth) { return &desc; }
