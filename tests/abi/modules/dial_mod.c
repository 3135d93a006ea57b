/*
 * dial_mod.c - ABI test module for outbound dials: dials 127.0.0.1:`port`
 * from init, sends "hello from dial_mod\n" when the connection opens and
 * logs what comes back.  Dialing is optional for it: it logs dial's answer
 * and starts either way.  It also checks that conn_write refuses client
 * connections (which speak NATS only through the core).
 */
#include "abi_mod.h"

static const modnats_host_api *api;
static modnats_module *self;

static const modnats_option opts[] = {
    { "port", MODNATS_OPT_INT, true, "TCP port to dial (127.0.0.1)" },
    { NULL, 0, false, NULL },
};

static modnats_rc on_open(void *ud, modnats_conn *c)
{
    (void)ud;
    api->log(self, MODNATS_LOG_INFO, "dial: open");
    return api->conn_write(c, "hello from dial_mod\n", 20);
}

static modnats_rc on_data(void *ud, modnats_conn *c, const char *buf, size_t len)
{
    (void)ud;
    (void)c;
    api->log(self, MODNATS_LOG_INFO, "dial: got %.*s", (int)len, buf);
    return MODNATS_OK;
}

static void on_close(void *ud, modnats_conn *c, const char *reason)
{
    (void)ud;
    (void)c;
    api->log(self, MODNATS_LOG_INFO, "dial: closed: %s", reason ? reason : "(null)");
}

static const modnats_conn_ops ops = {
    .size = sizeof(modnats_conn_ops), .on_open = on_open, .on_data = on_data, .on_close = on_close,
};

static modnats_rc on_connect(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    modnats_conn_event *ev = (modnats_conn_event *)h;
    api->log(self, MODNATS_LOG_INFO, "conn_write on a client: rc=%d",
             (int)api->conn_write(ev->conn, "x", 1));
    return MODNATS_DEFER;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    int64_t port = 0;
    api->cfg_int(cfg, "port", &port);
    modnats_rc rc = api->dial(m, "127.0.0.1", (int)port, &ops, NULL);
    api->log(m, MODNATS_LOG_INFO, "dial(127.0.0.1:%d): rc=%d", (int)port, (int)rc);
    return api->hook(m, MODNATS_EV_CONNECT, 0, on_connect, NULL);
}

ABI_TEST_DESC(desc, "dial_mod", opts, init, NULL);
MODNATS_MODULE(dial_mod) { return &desc; }
