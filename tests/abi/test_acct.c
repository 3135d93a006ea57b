/*
 * test_acct.c - the ABI 1.1 logins and limits (module acct_mod):
 *
 *  user_limits: conn_login's max_subs 1 ('maximum subscriptions
 *    exceeded', the connection stays) and max_payload 10 ('Maximum
 *    Payload Violation', closed); auth_complete_ex from a thread gives
 *    max_subs 2.
 *  expiry: a login that expires 1.5 s later is closed with 'User
 *    Authentication Expired'.
 *  lower_max_conns: three connections of L, then max_conns 1: the two
 *    newest are closed with 'maximum account active connections
 *    exceeded', the oldest stays, and a fourth is refused; unlimited
 *    again lets it in.
 *  close_where: conns_close_where(L, "l-u") closes l's connections only.
 *  imports: account_export/account_import return codes (DENY for a
 *    private export, OK with authorized, ENOTFOUND, ELOOP), the mapped
 *    stream X "xs.>" -> Y "ys.>", and account_clear_io removing it.
 */
#include "abi.h"

#include <stdio.h>
#include <string.h>

static const char *CONF = "io_threads = 2;\nmodules = [\"acct_mod\"];\n";

static void sync_raw(it_raw *r)
{
    it_raw_send(r, "PING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
}

static it_raw *login_as(it_server *s, const char *user)
{
    char fields[128];
    snprintf(fields, sizeof fields, "\"user\":\"%s\"", user);
    return abi_login(s, fields);
}

static void ctl(it_server *s, const char *subject)
{
    it_raw *g = login_as(s, "admin");
    it_raw_send(g, "PUB %s 0\r\n\r\n", subject);
    sync_raw(g);
    it_raw_close(g);
}

static void user_limits(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *lim = login_as(s, "lim");
    it_raw_send(lim, "SUB a 1\r\nSUB b 2\r\n");
    abi_expect(lim, "-ERR 'maximum subscriptions exceeded'\r\n", 5000);
    sync_raw(lim);
    it_raw_send(lim, "PUB a 11\r\n0123456789a\r\n");
    abi_expect(lim, "-ERR 'Maximum Payload Violation'\r\n", 5000);
    if (!it_raw_wait_closed(lim, 5000))
        fail_msg("not closed after a payload over the login's max_payload");
    it_raw_close(lim);

    it_raw *p = login_as(s, "pend");
    abi_log_expect(s, "[acct_mod] auth_complete_ex rc=0", 2000);
    it_raw_send(p, "SUB a 1\r\nSUB b 2\r\n");
    sync_raw(p);
    assert_int_equal(it_raw_count(p, "-ERR"), 0);
    it_raw_send(p, "SUB c 3\r\n");
    abi_expect(p, "-ERR 'maximum subscriptions exceeded'\r\n", 5000);
    it_raw_close(p);
    it_ok();
}

static void expiry(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *e = login_as(s, "exp");
    abi_expect(e, "-ERR 'User Authentication Expired'\r\n", 6000);
    if (!it_raw_wait_closed(e, 5000))
        fail_msg("an expired login was not closed");
    it_raw_close(e);
    it_ok();
}

static void lower_max_conns(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = login_as(s, "l");
    ctl(s, "ctl.maxconns.1");
    abi_log_expect(s, "[acct_mod] set_limits max_conns=1 rc=0", 2000);
    for (int i = 1; i < 3; i++) {
        abi_expect(c[i], "-ERR 'maximum account active connections exceeded'\r\n", 5000);
        if (!it_raw_wait_closed(c[i], 5000))
            fail_msg("connection %d (newer) was not closed", i);
    }
    sync_raw(c[0]);
    assert_int_equal(it_raw_count(c[0], "-ERR"), 0);

    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"user\":\"l\"}\r\nPING\r\n");
    abi_expect(r, "-ERR 'maximum account active connections exceeded'\r\n", 5000);
    it_raw_close(r);

    ctl(s, "ctl.maxconns.none");
    abi_log_expect(s, "[acct_mod] set_limits max_conns=-1 rc=0", 2000);
    it_raw *ok = login_as(s, "l");
    it_raw_close(ok);
    for (int i = 0; i < 3; i++)
        it_raw_close(c[i]);
    it_ok();
}

static void close_where(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *l1 = login_as(s, "l"), *l2 = login_as(s, "l"), *other = login_as(s, "pend");
    ctl(s, "ctl.close.l-u");
    abi_log_expect(s, "[acct_mod] close_where user=l-u rc=0", 2000);
    abi_expect(l1, "-ERR 'closed by ctl'\r\n", 5000);
    abi_expect(l2, "-ERR 'closed by ctl'\r\n", 5000);
    sync_raw(other);
    assert_int_equal(it_raw_count(other, "-ERR"), 0);
    it_raw_close(l1);
    it_raw_close(l2);
    it_raw_close(other);
    it_ok();
}

/* account_export/import from a module: a private export refused, then
 * allowed with `authorized`; the mapped stream flows X -> Y; clear_io
 * takes it away. */
static void imports(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    abi_log_expect(s, "[acct_mod] io export=0 import=2 authorized=0 notfound=-3 loop=-4", 2000);
    it_raw *x = login_as(s, "x"), *y = login_as(s, "y");
    it_raw_send(y, "SUB ys.> 1\r\n");
    sync_raw(y);
    it_raw_send(x, "PUB xs.one 2\r\nhi\r\n");
    sync_raw(x);
    abi_expect(y, "MSG ys.one 1 2\r\nhi\r\n", 5000);
    ctl(s, "ctl.clear.x");
    abi_log_expect(s, "[acct_mod] clear_io rc=0", 2000);
    it_raw_send(x, "PUB xs.two 2\r\nno\r\n");
    sync_raw(x);
    it_raw_drain(y, 200);
    assert_int_equal(it_raw_count(y, "xs.two") + it_raw_count(y, "ys.two"), 0);
    it_raw_close(x);
    it_raw_close(y);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(user_limits), ABI_TEST(expiry),
                                        ABI_TEST(lower_max_conns), ABI_TEST(close_where),
                                        ABI_TEST(imports) };
    return ABI_RUN(tests);
}
