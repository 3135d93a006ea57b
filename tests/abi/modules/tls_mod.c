/*
 * tls_mod.c - ABI test module for TLS: builds a server-side and a
 * client-side TLS configuration from its `tls` group (tls_new), listens
 * with TLS on `port` (listen_tls), dials itself there (dial_tls), frees
 * both handles at once (the core keeps its own), and logs what
 * conn_tls_info says on each side and in the AUTH hook of client
 * connections, where it lets in exactly the clients with a verified
 * certificate.  The accepting side echoes what it gets; the dialing side
 * sends "ping" and logs the echo.
 *
 * With `starttls_port`, the same over an upgrade (conn_start_tls): a plain
 * listener says "starttls\n" and upgrades (server side) right after it; a
 * plain dial that reads it upgrades too (client side), then sends
 * "secret\n" over TLS, which the listener logs with its TLS facts.
 */
#include "abi_mod.h"

#include <stdio.h>
#include <string.h>

static const modnats_host_api *api;
static modnats_module *self;

static const modnats_option opts[] = {
    { "port", MODNATS_OPT_INT, true, "TLS port to listen on and dial (127.0.0.1)" },
    { "tls", MODNATS_OPT_GROUP, true, "cert_file, key_file, ca_file, ..." },
    { "starttls_port", MODNATS_OPT_INT, false, "plain port upgraded with conn_start_tls" },
    { NULL, 0, false, NULL },
};

static void log_info(const char *who, const modnats_conn *c)
{
    modnats_tls_info t = { .size = sizeof(t) };
    modnats_rc rc = api->conn_tls_info(c, &t);
    api->log(self, MODNATS_LOG_INFO, "%s: tls rc=%d version=%s peer=%s verified=%d dns=%s",
             who, (int)rc, t.version ? t.version : "-", t.subject ? t.subject : "-",
             (int)t.verified, t.ndns ? t.dns[0] : "-");
}

static modnats_rc srv_open(void *ud, modnats_conn *c)
{
    (void)ud;
    log_info("accept", c);
    return MODNATS_OK;
}

static modnats_rc srv_data(void *ud, modnats_conn *c, const char *buf, size_t len)
{
    (void)ud;
    return api->conn_write(c, buf, len);
}

static void any_close(void *ud, modnats_conn *c, const char *reason)
{
    (void)c;
    api->log(self, MODNATS_LOG_INFO, "%s: closed: %s", ud ? "dial" : "accept",
             reason ? reason : "(null)");
}

static modnats_rc cli_open(void *ud, modnats_conn *c)
{
    (void)ud;
    log_info("dial", c);
    return api->conn_write(c, "ping\n", 5);
}

static modnats_rc cli_data(void *ud, modnats_conn *c, const char *buf, size_t len)
{
    (void)ud;
    (void)c;
    api->log(self, MODNATS_LOG_INFO, "dial: got %.*s", (int)(len && buf[len - 1] == '\n' ? len - 1 : len),
             buf);
    return MODNATS_OK;
}

static const modnats_conn_ops srv_ops = {
    .size = sizeof(modnats_conn_ops), .on_open = srv_open, .on_data = srv_data, .on_close = any_close,
};
static const modnats_conn_ops cli_ops = {
    .size = sizeof(modnats_conn_ops), .on_open = cli_open, .on_data = cli_data, .on_close = any_close,
};

/* ---- conn_start_tls ---- */

static modnats_tls *st_srv, *st_cli;   /* kept until fini */

static modnats_rc up_srv_open(void *ud, modnats_conn *c)
{
    (void)ud;
    modnats_rc rc = api->conn_write(c, "starttls\n", 9);
    if (rc == MODNATS_OK)
        rc = api->conn_start_tls(c, st_srv);
    api->log(self, MODNATS_LOG_INFO, "upgrade accept: start_tls rc=%d", (int)rc);
    return rc;
}

static modnats_rc up_srv_data(void *ud, modnats_conn *c, const char *buf, size_t len)
{
    (void)ud;
    log_info("upgrade accept", c);
    api->log(self, MODNATS_LOG_INFO, "upgrade accept: got %.*s",
             (int)(len && buf[len - 1] == '\n' ? len - 1 : len), buf);
    return MODNATS_OK;
}

static modnats_rc up_cli_open(void *ud, modnats_conn *c)
{
    (void)ud;
    (void)c;
    return MODNATS_OK;
}

static modnats_rc up_cli_data(void *ud, modnats_conn *c, const char *buf, size_t len)
{
    (void)ud;
    if (len >= 9 && memcmp(buf, "starttls\n", 9) == 0) {
        modnats_rc rc = api->conn_start_tls(c, st_cli);
        api->log(self, MODNATS_LOG_INFO, "upgrade dial: start_tls rc=%d", (int)rc);
        if (rc == MODNATS_OK)
            rc = api->conn_write(c, "secret\n", 7);   /* goes out once TLS is up */
        return rc;
    }
    return MODNATS_OK;
}

static const modnats_conn_ops up_srv_ops = {
    .size = sizeof(modnats_conn_ops), .on_open = up_srv_open, .on_data = up_srv_data,
    .on_close = any_close,
};
static const modnats_conn_ops up_cli_ops = {
    .size = sizeof(modnats_conn_ops), .on_open = up_cli_open, .on_data = up_cli_data,
    .on_close = any_close,
};

static void fini(modnats_module *m)
{
    (void)m;
    if (st_srv)
        api->tls_free(st_srv);
    if (st_cli)
        api->tls_free(st_cli);
    st_srv = st_cli = NULL;
}

static modnats_rc on_auth(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    modnats_auth_event *ev = (modnats_auth_event *)h;
    modnats_tls_info t = { .size = sizeof(t) };
    modnats_rc rc = api->conn_tls_info(ev->conn, &t);
    api->log(self, MODNATS_LOG_INFO, "auth: tls=%d rc=%d peer=%s email=%s map=%d", (int)ev->tls,
             (int)rc, t.subject ? t.subject : "-", t.nemails ? t.emails[0] : "-", (int)t.map);
    /* Verified certificates log in; everything else is refused. */
    return rc == MODNATS_OK && t.verified ? MODNATS_OK : MODNATS_DENY;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    if (!MODNATS_HAS(api, conn_start_tls)) {
        api->log(m, MODNATS_LOG_ERROR, "this core has no TLS calls");
        return MODNATS_ERR;
    }
    int64_t port = 0;
    api->cfg_int(cfg, "port", &port);
    const modnats_config *g = api->cfg_child(cfg, "tls", 0);
    char err[512];
    modnats_tls *srv = api->tls_new(m, g, MODNATS_TLS_SERVER | MODNATS_TLS_VERIFY, err, sizeof err);
    if (!srv) {
        api->log(m, MODNATS_LOG_ERROR, "tls_new (server): %s", err);
        return MODNATS_ERR;
    }
    modnats_tls *cli = api->tls_new(m, g, 0, err, sizeof err);
    if (!cli) {
        api->log(m, MODNATS_LOG_ERROR, "tls_new (client): %s", err);
        api->tls_free(srv);
        return MODNATS_ERR;
    }
    modnats_listener *l = api->listen_tls(m, "127.0.0.1", (int)port, &srv_ops, NULL, srv);
    modnats_rc rc = l ? api->dial_tls(m, "127.0.0.1", (int)port, &cli_ops, (void *)1, cli)
                      : MODNATS_ERR;
    api->tls_free(srv);   /* the listener and the dial hold their own references */
    api->tls_free(cli);
    api->log(m, MODNATS_LOG_INFO, "listen_tls %s, dial_tls rc=%d", l ? "ok" : "failed", (int)rc);
    if (!l || rc != MODNATS_OK)
        return MODNATS_ERR;
    int64_t up = 0;
    if (api->cfg_int(cfg, "starttls_port", &up) == MODNATS_OK && up > 0) {
        st_srv = api->tls_new(m, g, MODNATS_TLS_SERVER, err, sizeof err);
        st_cli = api->tls_new(m, g, 0, err, sizeof err);
        modnats_listener *ul = st_srv && st_cli
            ? api->listen(m, "127.0.0.1", (int)up, &up_srv_ops, NULL) : NULL;
        if (!ul || api->dial(m, "127.0.0.1", (int)up, &up_cli_ops, (void *)1) != MODNATS_OK) {
            api->log(m, MODNATS_LOG_ERROR, "starttls set-up failed");
            fini(m);
            return MODNATS_ERR;
        }
    }
    return api->hook(m, MODNATS_EV_AUTH, 0, on_auth, NULL);
}

ABI_TEST_DESC(desc, "tls_mod", opts, init, fini);
MODNATS_MODULE(tls_mod) { return &desc; }
