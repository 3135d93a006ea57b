/*
 * listen_mod.c - ABI test module for a module's own listener (routes,
 * gateways, leaf nodes): listens on `port` and speaks a one-line echo
 * protocol ("hello\n" on open, every byte echoed back).  A module that
 * cannot listen cannot work, so init fails when listen returns NULL.
 */
#include "abi_mod.h"

#include <stdlib.h>

static const modnats_host_api *api;
static modnats_module *self;
static modnats_listener *g_listener;

static const modnats_option opts[] = {
    { "port", MODNATS_OPT_INT, true, "TCP port to listen on (127.0.0.1)" },
    { NULL, 0, false, NULL },
};

static modnats_rc on_open(void *ud, modnats_conn *c)
{
    (void)ud;
    return api->conn_write(c, "hello\n", 6);
}

static modnats_rc on_data(void *ud, modnats_conn *c, const char *buf, size_t len)
{
    (void)ud;
    /* "pending?": queue 32 MiB to a peer that does not read; the kernel
     * takes a few MiB at most, so conn_pending must see at least 16. */
    if (len == 9 && memcmp(buf, "pending?\n", 9) == 0 && MODNATS_HAS(api, conn_pending)) {
        size_t big = (size_t)32 << 20;
        char *data = malloc(big);
        if (!data)
            return MODNATS_ERR;
        memset(data, 'x', big);
        modnats_rc rc = api->conn_write(c, data, big);
        free(data);
        if (rc != MODNATS_OK)
            return MODNATS_ERR;
        uint64_t n = api->conn_pending(c);
        if (n >= ((uint64_t)16 << 20))
            api->log(self, MODNATS_LOG_INFO, "pending after 32 MiB: at least 16 MiB");
        else
            api->log(self, MODNATS_LOG_INFO, "pending after 32 MiB: only %llu", (unsigned long long)n);
        return MODNATS_OK;
    }
    return api->conn_write(c, buf, len);
}

static void on_close(void *ud, modnats_conn *c, const char *reason)
{
    (void)ud;
    (void)c;
    api->log(self, MODNATS_LOG_INFO, "closed: %s", reason ? reason : "(null)");
}

static const modnats_conn_ops ops = {
    .size = sizeof(modnats_conn_ops), .on_open = on_open, .on_data = on_data, .on_close = on_close,
};

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    int64_t port = 0;
    api->cfg_int(cfg, "port", &port);
    g_listener = api->listen(m, "127.0.0.1", (int)port, &ops, NULL);
    if (!g_listener) {
        api->log(m, MODNATS_LOG_ERROR, "no listener: cannot work without it");
        return MODNATS_ERR;
    }
    api->log(m, MODNATS_LOG_INFO, "listening on 127.0.0.1:%d", (int)port);
    return MODNATS_OK;
}

ABI_TEST_DESC(desc, "listen_mod", opts, init, NULL);
MODNATS_MODULE(listen_mod) { return &desc; }
