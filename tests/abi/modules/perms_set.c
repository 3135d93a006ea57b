/*
 * perms_set.c - ABI test module for conn_set_permissions: every login is
 * allowed and gets fixed permissions, which the core enforces by itself.
 * A CONNECT hook checks that permissions can no longer change once the
 * client is logged in.
 *
 *   publish:   allow "allowed.>" and "_INBOX.>", deny "allowed.secret"
 *   subscribe: allow everything but "hidden.>"
 */
#include "abi_mod.h"

static const modnats_host_api *api;
static modnats_module *self;

static const char *const pub_allow[] = { "allowed.>", "_INBOX.>" };
static const char *const pub_deny[] = { "allowed.secret" };
static const char *const sub_deny[] = { "hidden.>" };

static const modnats_permissions perms = {
    .size = sizeof(modnats_permissions),
    .pub_allow = pub_allow, .n_pub_allow = 2,
    .pub_deny = pub_deny, .n_pub_deny = 1,
    .sub_deny = sub_deny, .n_sub_deny = 1,
};

static modnats_rc on_auth(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    modnats_auth_event *ev = (modnats_auth_event *)h;
    if (api->conn_set_permissions(ev->conn, &perms) != MODNATS_OK)
        return MODNATS_ERR;
    return MODNATS_OK;
}

static modnats_rc on_connect(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    modnats_conn_event *ev = (modnats_conn_event *)h;
    modnats_rc rc = api->conn_set_permissions(ev->conn, NULL);
    api->log(self, MODNATS_LOG_INFO, "set_permissions after login: rc=%d", (int)rc);
    return MODNATS_DEFER;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    if (api->hook(m, MODNATS_EV_AUTH, 0, on_auth, NULL) != MODNATS_OK)
        return MODNATS_ERR;
    return api->hook(m, MODNATS_EV_CONNECT, 0, on_connect, NULL);
}

ABI_TEST_DESC(desc, "perms_set", NULL, init, NULL);
MODNATS_MODULE(perms_set) { return &desc; }
