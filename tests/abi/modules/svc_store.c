/*
 * svc_store.c - ABI test module offering service "store" v1 (store_v1.h):
 * a tiny thread-safe key/value table.  Registering the same name and
 * version a second time must fail; the module logs the answer.
 */
#include "abi_mod.h"
#include "store_v1.h"

#include <pthread.h>
#include <stdlib.h>

static const modnats_host_api *api;
static modnats_module *self;

#define MAX_KEYS 32
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char *g_keys[MAX_KEYS], *g_vals[MAX_KEYS];

static int put(const char *key, const char *value)
{
    int rc = -1;
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < MAX_KEYS; i++) {
        if (!g_keys[i] || strcmp(g_keys[i], key) == 0) {
            char *v = strdup(value);
            if (!v)
                break;
            if (!g_keys[i] && !(g_keys[i] = strdup(key))) {
                free(v);
                break;
            }
            free(g_vals[i]);
            g_vals[i] = v;
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&g_mu);
    return rc;
}

static int get(const char *key, char *out, size_t cap)
{
    int rc = -1;
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < MAX_KEYS && g_keys[i]; i++) {
        if (strcmp(g_keys[i], key) == 0) {
            snprintf(out, cap, "%s", g_vals[i]);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&g_mu);
    return rc;
}

static const abi_store_v1 store = { sizeof(abi_store_v1), put, get };

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    if (api->service_register(m, "store", 1, &store) != MODNATS_OK)
        return MODNATS_ERR;
    modnats_rc again = api->service_register(m, "store", 1, &store);
    api->log(self, MODNATS_LOG_INFO, "second register of store v1: rc=%d", (int)again);
    return MODNATS_OK;
}

static void fini(modnats_module *m)
{
    (void)m;
    for (int i = 0; i < MAX_KEYS; i++) {
        free(g_keys[i]);
        free(g_vals[i]);
    }
}

ABI_TEST_DESC(desc, "svc_store", NULL, init, fini);
MODNATS_MODULE(svc_store) { return &desc; }
