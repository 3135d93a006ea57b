/*
 * svc_user.c - ABI test module using service "store" v1 from svc_store,
 * which must be loaded (and initialised) before it.  In init it looks the
 * service up (refusing to start without it), stores a greeting, and then
 * serves "svc.store.get" (body: key; reply: value or "(none)") and
 * "svc.store.put" (body: key=value) through it.
 */
#include "abi_mod.h"
#include "store_v1.h"

static const modnats_host_api *api;
static modnats_module *self;
static const abi_store_v1 *g_store;
static modnats_sub *g_subs[2];

static void on_get(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    char key[128], val[256];
    snprintf(key, sizeof key, "%.*s", (int)msg->data_len, msg->data);
    if (g_store->get(key, val, sizeof val) != 0)
        snprintf(val, sizeof val, "(none)");
    abi_reply(api, self, msg, "%s", val);
}

static void on_put(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    char kv[384];
    snprintf(kv, sizeof kv, "%.*s", (int)msg->data_len, msg->data);
    char *eq = strchr(kv, '=');
    int rc = -1;
    if (eq) {
        *eq = 0;
        rc = g_store->put(kv, eq + 1);
    }
    abi_reply(api, self, msg, "put rc=%d", rc);
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    g_store = api->service_get("store", 1);
    if (!g_store || g_store->size < sizeof(abi_store_v1)) {
        api->log(self, MODNATS_LOG_ERROR, "service \"store\" v1 not found: load svc_store first");
        return MODNATS_ERR;
    }
    api->log(self, MODNATS_LOG_INFO, "store v2 %s, missing %s",
             api->service_get("store", 2) ? "found" : "absent",
             api->service_get("no-such-service", 1) ? "found" : "absent");
    if (g_store->put("greeting", "hello from svc_user") != 0)
        return MODNATS_ERR;
    g_subs[0] = api->subscribe(m, api->account_global(), "svc.store.get", NULL, 1, 0, on_get, NULL);
    g_subs[1] = api->subscribe(m, api->account_global(), "svc.store.put", NULL, 1, 0, on_put, NULL);
    return g_subs[0] && g_subs[1] ? MODNATS_OK : MODNATS_ERR;
}

ABI_TEST_DESC(desc, "svc_user", NULL, init, NULL);
MODNATS_MODULE(svc_user) { return &desc; }
