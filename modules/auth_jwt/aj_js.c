/*
 * aj_js.c - the "jetstream.accounts.jwt" service: the JetStream limits of
 * each account JWT (limits.mem_storage, disk_storage, streams, consumer,
 * max_ack_pending, mem/disk_max_stream_bytes, max_bytes_required), for the
 * jetstream module (modules/jetstream/js_accounts.h).  As nats-server: an
 * account has JetStream only when its JWT gives it memory or disk storage
 * (0 disables, -1 is unlimited); an account without a JWT has none.
 * Tiered limits (limits.tiered_limits) are not read yet.
 */
#include "aj_mod.h"
#include "../jetstream/js_accounts.h"

#include <stdatomic.h>
#include <string.h>

static _Atomic uint64_t gen;

void aj_js_changed(void)
{
    atomic_fetch_add_explicit(&gen, 1, memory_order_acq_rel);
}

/* Any thread: the store's read lock is held while the claims are read. */
static js_account_state lookup(const char *name, js_account_limits *out)
{
    js_account_state st = JS_ACCOUNT_DISABLED;
    pthread_rwlock_rdlock(&g_aj.store.lock);
    const aj_jwt *j = aj_store_get_locked(&g_aj.store, name);
    if (j && j->kind == AJ_ACCOUNT && j->u.acc.js_enabled) {
        const aj_account *a = &j->u.acc;
        js_account_limits l = JS_ACCOUNT_LIMITS_UNLIMITED;
        l.max_memory = a->js_mem;
        l.max_storage = a->js_disk;
        l.max_streams = a->js_streams;
        l.max_consumers = a->js_consumer;
        l.max_ack_pending = a->js_max_ack_pending;
        l.memory_max_stream_bytes = a->js_mem_max_stream_bytes;
        l.storage_max_stream_bytes = a->js_disk_max_stream_bytes;
        l.max_bytes_required = a->js_max_bytes_required;
        size_t n = out->size < sizeof l ? out->size : sizeof l;
        l.size = n;
        memcpy(out, &l, n);
        st = JS_ACCOUNT_ENABLED;
    }
    pthread_rwlock_unlock(&g_aj.store.lock);
    return st;
}

static uint64_t generation(void)
{
    return atomic_load_explicit(&gen, memory_order_acquire);
}

static const js_accounts_v1 service = {
    .size = sizeof(js_accounts_v1), .lookup = lookup, .generation = generation,
};

void aj_js_register(void)
{
    const modnats_host_api *api = g_aj.api;
    if (MODNATS_HAS(api, service_register) &&
        api->service_register(g_aj.self, JS_ACCOUNTS_SERVICE_JWT, 1, &service) != MODNATS_OK)
        api->log(g_aj.self, MODNATS_LOG_WARN, "cannot offer the accounts' JetStream limits");
}
