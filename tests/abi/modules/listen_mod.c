/*
 * listen_mod.c - ABI test module for a module's own listener (routes,
 * gateways, leaf nodes): listens on `port` and speaks a one-line echo
 * protocol ("hello\n" on open, every byte echoed back).  A module that
 * cannot listen cannot work, so init fails when listen returns NULL.
 */
#include "abi_mod.h"

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
