/*
 * test_perm.c - permissions through the ABI.
 *
 *  core_set_permissions (module perms_set): permissions given with
 *    conn_set_permissions during AUTH are enforced by the core on publish
 *    and subscribe, with nats-server's -ERR texts; they cannot change once
 *    the client is logged in (ERR from a CONNECT hook).
 *  hook_sub_permission (module ev_subperm): the SUB_PERMISSION hook sees
 *    every SUB (subject and queue) and its DENY refuses it.
 *  hook_pub_permission (module ev_pubperm): the PUB_PERMISSION hook sees
 *    every PUB and its DENY refuses it (nothing is delivered).
 */
#include "abi.h"

#include <string.h>

static void core_set_permissions(void **state)
{
    (void)state;
    it_server *s = abi_start("modules = [\"perms_set\"];\n", NULL, NULL);
    it_raw *r = abi_login(s, "\"name\":\"p\"");
    abi_log_expect(s, "[perms_set] set_permissions after login: rc=-1", 2000);

    it_raw_send(r, "SUB allowed.> 1\r\nPUB allowed.x 2\r\nok\r\nPING\r\n");
    abi_expect(r, "MSG allowed.x 1 2\r\nok\r\n", 5000);
    it_raw_send(r, "PUB allowed.secret 2\r\nno\r\nPING\r\n");
    abi_expect(r, "-ERR 'Permissions Violation for Publish to \"allowed.secret\"'\r\n", 5000);
    it_raw_send(r, "PUB other.x 2\r\nno\r\nPING\r\n");
    abi_expect(r, "-ERR 'Permissions Violation for Publish to \"other.x\"'\r\n", 5000);
    it_raw_send(r, "SUB hidden.x 2\r\nPING\r\n");
    abi_expect(r, "-ERR 'Permissions Violation for Subscription to \"hidden.x\"'\r\n", 5000);
    abi_expect(r, "PONG\r\n", 5000);
    it_raw_drain(r, 200);
    assert_int_equal(it_raw_count(r, "MSG "), 1);   /* nothing refused got through */
    it_raw_close(r);
    it_ok();
}

static void hook_sub_permission(void **state)
{
    (void)state;
    it_server *s = abi_start("modules = [\"ev_subperm\"];\n", NULL, NULL);
    it_raw *r = abi_login(s, "");
    it_raw_send(r, "SUB hooksub.ok 1\r\nSUB hooksub.ok.q grp 2\r\nPING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
    abi_log_expect(s, "[ev_subperm] subperm subject=hooksub.ok queue=", 2000);
    abi_log_expect(s, "[ev_subperm] subperm subject=hooksub.ok.q queue=grp", 2000);
    it_raw_send(r, "SUB hooksub.deny.x 3\r\nPING\r\n");
    abi_expect(r, "-ERR 'Permissions Violation for Subscription to \"hooksub.deny.x\"'\r\n", 5000);
    it_raw_send(r, "PUB hooksub.deny.x 1\r\nx\r\nPUB hooksub.ok 1\r\ny\r\nPING\r\n");
    abi_expect(r, "MSG hooksub.ok 1 1\r\ny\r\n", 5000);
    assert_int_equal(it_raw_count(r, "MSG hooksub.deny"), 0);
    it_raw_close(r);
    it_ok();
}

static void hook_pub_permission(void **state)
{
    (void)state;
    it_server *s = abi_start("modules = [\"ev_pubperm\"];\n", NULL, NULL);
    it_raw *r = abi_login(s, "");
    it_raw_send(r, "SUB hookpub.> 1\r\nPUB hookpub.ok 2\r\nok\r\nPING\r\n");
    abi_expect(r, "MSG hookpub.ok 1 2\r\nok\r\n", 5000);
    abi_log_expect(s, "[ev_pubperm] pubperm subject=hookpub.ok", 2000);
    it_raw_send(r, "PUB hookpub.deny.x 2\r\nno\r\nPING\r\n");
    abi_expect(r, "-ERR 'Permissions Violation for Publish to \"hookpub.deny.x\"'\r\n", 5000);
    abi_expect(r, "PONG\r\n", 5000);
    it_raw_drain(r, 200);
    assert_int_equal(it_raw_count(r, "MSG hookpub.deny"), 0);
    it_raw_close(r);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = {
        ABI_TEST(core_set_permissions),
        ABI_TEST(hook_sub_permission),
        ABI_TEST(hook_pub_permission),
    };
    return ABI_RUN(tests);
}
