/*
 * test_login.c - auth_complete_login (module login_async; stats_mod is
 * loaded too, to see the user names through conns_foreach).
 *
 *  login_identity: logins answered PENDING and completed from a module
 *    thread with a user, permissions (deny publish "secret") and an
 *    account: alice lands in ACC_A, bob in ACC_B, admin stays in $G; none
 *    sees another account's messages on the same subject; the permissions
 *    hold (-ERR 'Permissions Violation for Publish to "secret"'); the user
 *    names are what the module gave; conn_set_permissions/account/user
 *    called from the module thread return ERR.
 *  login_denied: auth_complete_login with DENY: 'Authorization Violation'
 *    and the module's reason in the log.
 */
#include "abi.h"

#include <stdio.h>
#include <string.h>

static const char *CONF = "io_threads = 2;\nmodules = [\"login_async\", \"stats_mod\"];\n";

static void sync_raw(it_raw *r)
{
    it_raw_send(r, "PING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
}

static it_raw *login_as(it_server *s, const char *user)
{
    char fields[128];
    snprintf(fields, sizeof fields, "\"name\":\"%s\",\"user\":\"%s\"", user, user);
    return abi_login(s, fields);
}

static void login_identity(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *a = login_as(s, "alice"), *b = login_as(s, "bob"), *g = login_as(s, "admin");
    it_raw *all[3] = { a, b, g };
    const char *tags[3] = { "fromA", "fromB", "fromG" };
    for (int i = 0; i < 3; i++) {
        it_raw_send(all[i], "SUB shared.x 1\r\n");
        sync_raw(all[i]);
    }
    for (int i = 0; i < 3; i++) {
        it_raw_send(all[i], "PUB shared.x 5\r\n%s\r\n", tags[i]);
        sync_raw(all[i]);
    }
    for (int i = 0; i < 3; i++) {
        it_raw_drain(all[i], 100);
        for (int k = 0; k < 3; k++) {
            size_t n = it_raw_count(all[i], tags[k]);
            if (n != (i == k ? 1u : 0u)) {
                it_raw_dump(all[i], tags[i]);
                fail_msg("client %d got %zu of %s: accounts are not separated", i, n, tags[k]);
            }
        }
    }
    abi_log_expect(s, "[login_async] connect name=alice account=ACC_A", 2000);
    abi_log_expect(s, "[login_async] connect name=bob account=ACC_B", 2000);
    abi_log_expect(s, "[login_async] connect name=admin account=$G", 2000);

    /* The permissions given at completion hold. */
    it_raw_send(a, "SUB secret 2\r\nPUB secret 2\r\nno\r\n");
    abi_expect(a, "-ERR 'Permissions Violation for Publish to \"secret\"'\r\n", 5000);
    sync_raw(a);
    assert_int_equal(it_raw_count(a, "MSG secret"), 0);
    it_raw_send(g, "SUB secret 2\r\nPUB secret 3\r\nyes\r\n");
    abi_expect(g, "MSG secret 2 3\r\nyes\r\n", 5000);

    /* The set_* functions are refused off the AUTH hook. */
    abi_log_expect(s, "[login_async] off-hook user=alice set_permissions=-1 set_account=-1 set_user=-1", 1000);
    abi_log_expect(s, "[login_async] completed user=alice rc=0", 1000);

    /* The user names, as monitoring sees them. */
    it_raw_send(g, "SUB rep 3\r\nPUB stats.get rep 6\r\nnosubs\r\n");
    abi_expect(g, "foreach_rc=0", 5000);
    assert_int_equal(it_raw_count(g, "name=alice account=ACC_A user=alice-u"), 1);
    assert_int_equal(it_raw_count(g, "name=bob account=ACC_B user=bob-u"), 1);
    assert_int_equal(it_raw_count(g, "name=admin account=$G user=admin-u"), 1);
    for (int i = 0; i < 3; i++)
        it_raw_close(all[i]);
    it_ok();
}

static void login_denied(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"user\":\"eve\"}\r\nPING\r\n");
    abi_expect(r, "-ERR 'Authorization Violation'\r\n", 5000);
    if (!it_raw_wait_closed(r, 5000))
        fail_msg("the denied client was not closed");
    assert_int_equal(it_raw_count(r, "PONG"), 0);
    it_raw_close(r);
    abi_log_expect(s, "authentication error: login_async: unknown user", 2000);
    abi_log_refute(s, "[login_async] connect name=");
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(login_identity), ABI_TEST(login_denied) };
    return ABI_RUN(tests);
}
