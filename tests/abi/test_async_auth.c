/*
 * test_async_auth.c - deferred logins (module async_auth, delay 300 ms):
 * the AUTH hook answers MODNATS_PENDING and the module's thread calls
 * auth_complete later.
 *
 *  async_allow: CONNECT+PING+SUB+PUB sent in ONE packet: nothing comes back
 *    before the completion, then PONG and the message, in order, no
 *    earlier than the delay; libnats logs in the same way.
 *  async_deny: a denied deferred login gets -ERR 'Authorization Violation'
 *    after the delay and is closed; the log has the module's reason.
 *  async_worker_not_blocked: with one I/O thread, while two logins are
 *    pending another client logs in at once (the hook does not block).
 *  fini joins the module's thread (checked in the log at stop).
 */
#include "abi.h"

#include <string.h>

static const char *CONF =
    "io_threads = 1;\n"
    "modules = [\"async_auth\"];\n"
    "async_auth = { delay = \"300ms\"; };\n";

#define CONNECT_AS(user) \
    "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1,\"user\":\"" user "\"}\r\n"

static void async_allow(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *r = it_raw_open(s->port, 0);
    long long t0 = it_now_ms();
    it_raw_send(r, CONNECT_AS("slow-ok") "PING\r\nSUB a.b 1\r\nPUB a.b 5\r\nhello\r\nPING\r\n");
    it_raw_drain(r, 150);
    if (strstr(r->buf + r->pos, "PONG") || strstr(r->buf + r->pos, "-ERR")) {
        it_raw_dump(r, "pending login");
        fail_msg("the server answered before the login was completed");
    }
    abi_expect(r, "PONG\r\n", 5000);
    long long waited = it_now_ms() - t0;
    if (waited < 250)
        fail_msg("PONG after %lld ms, before the 300 ms completion", waited);
    abi_expect(r, "MSG a.b 1 5\r\nhello\r\nPONG\r\n", 5000);
    abi_log_expect(s, "[async_auth] pending user=slow-ok", 1000);
    it_raw_close(r);

    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetUserInfo(o, "slow-ok", ""));
    natsConnection *nc = it_nats_connect_opts(o);
    IT_NATS_OK(natsConnection_Flush(nc));
    it_nats_close(nc);

    assert_true(it_server_stop(s));
    abi_log_expect(s, "[async_auth] fini joined", 100);
    it_ok();
}

static void async_deny(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *r = it_raw_open(s->port, 0);
    long long t0 = it_now_ms();
    it_raw_send(r, CONNECT_AS("slow-bad") "PING\r\n");
    abi_expect(r, "-ERR 'Authorization Violation'\r\n", 5000);
    long long waited = it_now_ms() - t0;
    if (waited < 250)
        fail_msg("denied after %lld ms, before the 300 ms completion", waited);
    if (!it_raw_wait_closed(r, 5000))
        fail_msg("the denied client was not closed");
    assert_null(strstr(r->buf, "PONG"));
    it_raw_close(r);
    abi_log_expect(s, "authentication error: async_auth: denied after delay", 2000);

    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetUserInfo(o, "slow-bad", ""));
    natsConnection *nc = NULL;
    natsStatus st = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    assert_int_not_equal(st, NATS_OK);
    const char *err = nats_GetLastError(NULL);
    if (!err || !it_contains_ci(err, "Authorization Violation"))
        fail_msg("libnats: %s (%s)", natsStatus_GetText(st), err ? err : "");
    it_ok();
}

static void async_worker_not_blocked(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *p1 = it_raw_open(s->port, 0);
    it_raw *p2 = it_raw_open(s->port, 0);
    it_raw_send(p1, CONNECT_AS("slow-ok") "PING\r\n");
    it_raw_send(p2, CONNECT_AS("slow-bad") "PING\r\n");
    long long t0 = it_now_ms();
    it_raw *q = it_raw_open(s->port, 0);
    it_raw_send(q, CONNECT_AS("sync-ok") "PING\r\n");
    abi_expect(q, "PONG\r\n", 5000);
    long long took = it_now_ms() - t0;
    if (took >= 250)
        fail_msg("a synchronous login took %lld ms while others were pending", took);
    abi_expect(p1, "PONG\r\n", 5000);
    abi_expect(p2, "-ERR 'Authorization Violation'\r\n", 5000);
    it_raw_close(p1);
    it_raw_close(p2);
    it_raw_close(q);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = {
        ABI_TEST(async_allow), ABI_TEST(async_deny), ABI_TEST(async_worker_not_blocked),
    };
    return ABI_RUN(tests);
}
