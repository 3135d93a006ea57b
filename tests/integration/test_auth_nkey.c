/*
 * test_auth_nkey.c - nkey users of auth_basic against a real server: the
 * nonce in INFO, logins signed by libnats (from a seed file and through a
 * signature callback) and by hand on a raw socket (base64url and padded
 * standard base64), refused logins (wrong key, signature over another
 * nonce, no signature, unknown key), an nkey user's permissions next to
 * password users, and settings the server must refuse at start (bad keys,
 * no_auth_user naming an nkey).  Key material: tests/gen/nkey_fixtures.h, made by the Go
 * nkeys package.
 *
 * Configs are written once in libconfig syntax; for the reference
 * nats-server, "( ... )" lists become "[ ... ]" and the `modules` line is
 * left out.
 */
#include "itnats.h"
#include "../gen/nkey_fixtures.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MODULES_LINE "modules = [\"auth_basic\"];\n"

static const char *conf(const char *body)
{
    static char buf[8192];
    size_t n = 0;
    if (!it_is_nats_server())
        n = (size_t)snprintf(buf, sizeof buf, "%s", MODULES_LINE);
    bool quoted = false;
    for (const char *p = body; *p && n + 1 < sizeof buf; p++) {
        char ch = *p;
        if (ch == '"')
            quoted = !quoted;
        else if (!quoted && it_is_nats_server() && ch == '(')
            ch = '[';
        else if (!quoted && it_is_nats_server() && ch == ')')
            ch = ']';
        buf[n++] = ch;
    }
    buf[n] = '\0';
    return buf;
}

/* The users every test but the refused-settings one runs with. */
#define NKEY_CONF                                                                     \
    "authorization = {\n"                                                             \
    "  users = (\n"                                                                   \
    "    { nkey = \"" FX_USER_PUB "\"; },\n"                                          \
    "    { nkey = \"" FX_ALICE_PUB "\";\n"                                            \
    "      permissions = { publish = [\"alice.>\"]; subscribe = [\"alice.>\", \"_INBOX.>\"]; }; },\n" \
    "    { user = \"pw\"; password = \"pw\"; }\n"                                     \
    "  );\n"                                                                          \
    "};\n"

static void expect(it_raw *r, const char *needle, int ms)
{
    if (!it_raw_expect(r, needle, ms)) {
        it_raw_dump(r, "raw connection");
        fail_msg("expected \"%s\" from the server", needle);
    }
}

/* The nonce of the connection's INFO (static buffer); fails without one. */
static const char *info_nonce(it_raw *r)
{
    static char nonce[256];
    const char *p = strstr(it_raw_info(r), "\"nonce\":\"");
    if (!p)
        fail_msg("no nonce in INFO: %s", it_raw_info(r));
    p += strlen("\"nonce\":\"");
    size_t n = strcspn(p, "\"");
    if (n == 0 || n >= sizeof nonce)
        fail_msg("bad nonce in INFO: %s", it_raw_info(r));
    memcpy(nonce, p, n);
    nonce[n] = '\0';
    return nonce;
}

/* base64 of data: url alphabet without padding, or standard with. */
static void b64(const unsigned char *d, int n, bool url, char *out)
{
    const char *a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (int i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
                     (i + 2 < n ? d[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = a[v >> 6 & 63];
        else if (!url)
            out[o++] = '=';
        if (i + 2 < n)
            out[o++] = a[v & 63];
        else if (!url)
            out[o++] = '=';
    }
    out[o] = '\0';
}

/* Sign the connection's nonce with seed, as CONNECT's sig wants it. */
static void sign_nonce(it_raw *r, const char *seed, bool url, char *out)
{
    unsigned char *sig = NULL;
    int len = 0;
    IT_NATS_OK(nats_Sign(seed, info_nonce(r), &sig, &len));
    assert_int_equal(len, 64);
    b64(sig, len, url, out);
    free(sig);
}

static void send_connect(it_raw *r, const char *nkey, const char *sig)
{
    it_raw_send(r, "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1%s%s%s%s%s%s}\r\nPING\r\n",
                nkey ? ",\"nkey\":\"" : "", nkey ? nkey : "", nkey ? "\"" : "",
                sig ? ",\"sig\":\"" : "", sig ? sig : "", sig ? "\"" : "");
}

/* A raw login as nkey, signing the nonce with seed. */
static it_raw *raw_login(const it_server *s, const char *nkey, const char *seed, bool url)
{
    it_raw *r = it_raw_open(s->port, 0);
    char sig[128];
    sign_nonce(r, seed, url, sig);
    send_connect(r, nkey, sig);
    expect(r, "PONG\r\n", 5000);
    return r;
}

static void refused(it_raw *r, const char *what)
{
    if (!it_raw_expect(r, "-ERR 'Authorization Violation'\r\n", 5000)) {
        it_raw_dump(r, what);
        fail_msg("%s: login not refused", what);
    }
    if (!it_raw_wait_closed(r, 5000))
        fail_msg("%s: connection not closed", what);
    if (it_raw_count(r, "PONG"))
        fail_msg("%s: got a PONG", what);
    it_raw_close(r);
}

static char *seed_file(const char *name, const char *seed)
{
    static char path[2][512];
    static int k;
    char *p = path[k++ & 1];
    char text[256];
    snprintf(text, sizeof text, "%s\n", seed);
    it_write_file(name, text, p, sizeof path[0]);
    return p;
}

/* libnats with NKey pub and the seed in a file. */
static natsStatus nats_seed(const it_server *s, const char *pub, const char *seed)
{
    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetNKeyFromSeed(o, pub, seed_file("user.nk", seed)));
    natsConnection *nc = NULL;
    natsStatus st = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    if (st == NATS_OK) {
        st = natsConnection_FlushTimeout(nc, 5000);
        it_nats_close(nc);
    }
    return st;
}

/* A signing callback: the closure is the seed. */
static natsStatus sign_cb(char **err, unsigned char **sig, int *len, const char *nonce, void *closure)
{
    (void)err;
    return nats_Sign((const char *)closure, nonce, sig, len);
}

/* ------------------------------------------------------------ tests */

static void test_nonce_in_info(void **state)
{
    (void)state;
    it_server *s = it_server_start(conf(NKEY_CONF), NULL);
    it_raw *a = it_raw_open(s->port, 0);
    it_raw *b = it_raw_open(s->port, 0);
    assert_non_null(strstr(it_raw_info(a), "\"auth_required\":true"));
    char na[256];
    snprintf(na, sizeof na, "%s", info_nonce(a));
    assert_true(strlen(na) >= 8);
    if (strcmp(na, info_nonce(b)) == 0)
        fail_msg("two connections got the same nonce %s", na);
    it_raw_close(a);
    it_raw_close(b);

    /* without nkey users there is no nonce (as nats-server) */
    it_server *p = it_server_start(conf("authorization = { users = ( { user = \"a\"; password = \"b\"; } ); };\n"),
                                   NULL);
    it_raw *r = it_raw_open(p->port, 0);
    if (strstr(it_raw_info(r), "\"nonce\""))
        fail_msg("nonce without nkey users: %s", it_raw_info(r));
    it_raw_close(r);
    it_ok();
}

static void test_nkey_login_libnats(void **state)
{
    (void)state;
    it_server *s = it_server_start(conf(NKEY_CONF), NULL);
    assert_int_equal(nats_seed(s, FX_USER_PUB, FX_USER_SEED), NATS_OK);
    assert_int_equal(nats_seed(s, FX_ALICE_PUB, FX_ALICE_SEED), NATS_OK);
    /* the right key, signed by another: refused */
    assert_int_not_equal(nats_seed(s, FX_USER_PUB, FX_ALICE_SEED), NATS_OK);
    /* a valid key the server does not know */
    assert_int_not_equal(nats_seed(s, FX_BOB_PUB, FX_BOB_SEED), NATS_OK);

    /* the signature callback, and messages flowing */
    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetNKey(o, FX_USER_PUB, sign_cb, (void *)FX_USER_SEED));
    natsConnection *nc = it_nats_connect_opts(o);
    natsSubscription *sub = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, nc, "nk.test"));
    IT_NATS_OK(natsConnection_FlushTimeout(nc, 5000));
    IT_NATS_OK(natsConnection_PublishString(nc, "nk.test", "hello"));
    natsMsg *m = it_nats_next(sub);
    assert_string_equal(natsMsg_GetData(m), "hello");
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
    it_nats_close(nc);

    o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetNKey(o, FX_USER_PUB, sign_cb, (void *)FX_CAROL_SEED));
    nc = NULL;
    natsStatus st = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    if (st == NATS_OK) {
        it_nats_close(nc);
        fail_msg("a login signed with another key was accepted");
    }
    const char *err = nats_GetLastError(NULL);
    if (!err || !it_contains_ci(err, "Authorization Violation"))
        fail_msg("expected an authorization violation, got %s (%s)", natsStatus_GetText(st),
                 err ? err : "");
    it_ok();
}

static void test_nkey_login_raw(void **state)
{
    (void)state;
    it_server *s = it_server_start(conf(NKEY_CONF), NULL);
    it_raw_close(raw_login(s, FX_USER_PUB, FX_USER_SEED, true));
    it_raw_close(raw_login(s, FX_USER_PUB, FX_USER_SEED, false));   /* padded standard base64 */

    char sig[128];
    it_raw *r = it_raw_open(s->port, 0);
    sign_nonce(r, FX_ALICE_SEED, true, sig);   /* alice's key, user's name */
    send_connect(r, FX_USER_PUB, sig);
    refused(r, "signature by another key");

    /* a signature of another connection's nonce */
    it_raw *old = it_raw_open(s->port, 0);
    sign_nonce(old, FX_USER_SEED, true, sig);
    r = it_raw_open(s->port, 0);
    send_connect(r, FX_USER_PUB, sig);
    refused(r, "signature over another nonce");
    it_raw_close(old);

    r = it_raw_open(s->port, 0);
    send_connect(r, FX_USER_PUB, NULL);
    refused(r, "no signature");

    r = it_raw_open(s->port, 0);
    send_connect(r, FX_USER_PUB, "!!notbase64!!");
    refused(r, "signature not base64");

    r = it_raw_open(s->port, 0);
    sign_nonce(r, FX_BOB_SEED, true, sig);
    send_connect(r, FX_BOB_PUB, sig);
    refused(r, "unknown nkey");

    r = it_raw_open(s->port, 0);
    send_connect(r, FX_BAD_CRC, FX_SIG_RAWURL);
    refused(r, "malformed nkey");

    /* an nkey is no user name */
    r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"user\":\"" FX_USER_PUB "\",\"pass\":\"\"}\r\nPING\r\n");
    refused(r, "nkey as user name");

    r = it_raw_open(s->port, 0);
    send_connect(r, NULL, NULL);
    refused(r, "no credentials");
    it_ok();
}

/* An nkey user's permissions; password users beside nkey users. */
static void test_nkey_permissions(void **state)
{
    (void)state;
    it_server *s = it_server_start(conf(NKEY_CONF), NULL);
    it_raw *w = it_raw_open(s->port, 0);
    it_raw_send(w, "CONNECT {\"verbose\":false,\"user\":\"pw\",\"pass\":\"pw\"}\r\nSUB > 1\r\nPING\r\n");
    expect(w, "PONG\r\n", 5000);

    it_raw *a = raw_login(s, FX_ALICE_PUB, FX_ALICE_SEED, true);
    it_raw_send(a, "PUB alice.x 2\r\nok\r\nPUB bob.x 3\r\nbad\r\nPING\r\n");
    expect(a, "-ERR 'Permissions Violation for Publish to \"bob.x\"'\r\n", 5000);
    expect(a, "PONG\r\n", 5000);
    it_raw_send(a, "SUB bob.> 1\r\nPING\r\n");
    expect(a, "-ERR 'Permissions Violation for Subscription to \"bob.>\"'\r\n", 5000);
    expect(a, "PONG\r\n", 5000);

    it_raw_send(w, "PING\r\n");
    expect(w, "MSG alice.x 1 2\r\nok\r\n", 5000);
    expect(w, "PONG\r\n", 5000);
    if (it_raw_count(w, "bad"))
        fail_msg("a denied publish was delivered");
    it_raw_close(a);
    it_raw_close(w);
    it_ok();
}

static void test_refused_nkeys(void **state)
{
    (void)state;
    it_expect_refused(conf("authorization = { users = ( { nkey = \"" FX_BAD_CRC "\"; } ); };\n"),
                   "is not a user public key (checksum mismatch)");
    it_expect_refused(conf("authorization = { users = ( { nkey = \"" FX_ACCOUNT_PUB "\"; } ); };\n"),
                   "is not a user public key (wrong kind of key)");
    it_expect_refused(conf("authorization = { users = ( { nkey = \"" FX_USER_SEED "\"; } ); };\n"),
                   "is not a user public key");
    /* no_auth_user names a password user, never an nkey */
    it_expect_refused(conf("authorization = { users = ( { nkey = \"" FX_ALICE_PUB "\"; },\n"
                        "  { user = \"pw\"; password = \"pw\"; } ); };\n"
                        "no_auth_user = \"" FX_ALICE_PUB "\";\n"),
                   "no_auth_user \"" FX_ALICE_PUB "\" is not a user");
    if (!it_is_nats_server()) {
        /* nats-server keeps the last of two equal nkeys */
        it_expect_refused(conf("authorization = { users = ( { nkey = \"" FX_USER_PUB "\"; },\n"
                            "  { nkey = \"" FX_USER_PUB "\"; } ); };\n"),
                       "is listed twice");
    }
    it_ok();
}

int main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nonce_in_info, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_nkey_login_libnats, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_nkey_login_raw, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_nkey_permissions, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_refused_nkeys, it_setup, it_teardown),
    };
    int rc = cmocka_run_group_tests_name("integration.auth_nkey", tests, NULL, NULL);
    nats_Close();
    return rc;
}
