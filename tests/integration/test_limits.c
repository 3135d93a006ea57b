/*
 * test_limits.c - limits and authentication: a slow consumer is cut off
 * while a fast one on the same subject gets everything, max_connections,
 * user/password authorization and the authentication timeout.
 */
#include "itnats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_PLAIN "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\n"

static void expect(it_raw *r, const char *needle, int ms)
{
    if (!it_raw_expect(r, needle, ms)) {
        it_raw_dump(r, "raw connection");
        fail_msg("expected \"%s\" from the server", needle);
    }
}

/* A subscriber that never reads (tiny receive buffer) exceeds max_pending
 * and is disconnected; a libnats subscriber on the same subject receives
 * every message, and the server keeps serving. */
static void test_slow_consumer(void **state)
{
    enum { N = 2000, SIZE = 4096, BATCH = 8 };
    it_server *s = it_server_start("max_pending = 65536;\nmax_payload = 8192;\nwrite_deadline = \"2s\";\n", NULL);

    it_raw *slow = it_raw_open(s->port, 4096);
    it_raw_send(slow, CONNECT_PLAIN "SUB flood 1\r\nPING\r\n");
    expect(slow, "PONG\r\n", 5000);
    size_t before = slow->len;

    natsConnection *fc = it_nats_connect(s), *pc = it_nats_connect(s);
    natsSubscription *fast = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&fast, fc, "flood"));
    IT_NATS_OK(natsSubscription_SetPendingLimits(fast, -1, -1));
    IT_NATS_OK(natsConnection_Flush(fc));

    char *payload = malloc(SIZE);
    memset(payload, 'z', SIZE);
    for (int i = 0; i < N; i++) {
        snprintf(payload, 16, "%08d", i);
        IT_NATS_OK(natsConnection_Publish(pc, "flood", payload, SIZE));
        /* small batches keep the fast subscriber well under max_pending */
        if (i % BATCH == BATCH - 1)
            IT_NATS_OK(natsConnection_Flush(pc));
    }
    IT_NATS_OK(natsConnection_Flush(pc));
    free(payload);

    IT_NATS_OK(natsConnection_Flush(fc));
    assert_int_equal(it_nats_pending(fast), N);
    for (int i = 0; i < N; i++) {
        natsMsg *m = it_nats_next(fast);
        char want[16];
        snprintf(want, sizeof want, "%08d", i);
        if (natsMsg_GetDataLength(m) != SIZE || memcmp(natsMsg_GetData(m), want, 8) != 0)
            fail_msg("fast subscriber: message %d is wrong or out of order", i);
        natsMsg_Destroy(m);
    }

    /* Now read what the slow one was sent: it must end in a close, short
     * of the full stream. */
    if (!it_raw_wait_closed(slow, 20000))
        fail_msg("slow consumer was not disconnected (received %zu bytes so far)", slow->len);
    size_t got = it_raw_count(slow, "MSG flood 1 ");
    fprintf(stderr, "slow consumer got %zu of %d messages (%zu bytes) before the close\n",
            got, N, slow->len - before);
    if (got >= (size_t)N)
        fail_msg("slow consumer received all %d messages: it was not cut off", N);
    it_raw_close(slow);

    /* the server is fine: the fast connection still works */
    IT_NATS_OK(natsConnection_PublishString(pc, "flood", "after"));
    natsMsg *m = it_nats_next(fast);
    natsMsg_Destroy(m);

    natsSubscription_Destroy(fast);
    it_nats_close(fc);
    it_nats_close(pc);
    it_ok();
}

/* Open a raw connection that completes CONNECT/PING; NULL if the server
 * refused it for the connection limit. */
static it_raw *try_connect(int port)
{
    it_raw *r = it_raw_connect(port, 0);
    it_raw_send(r, CONNECT_PLAIN "PING\r\n");
    if (it_raw_expect(r, "PONG\r\n", 5000))
        return r;
    if (!it_contains_ci(r->buf, "maximum connections exceeded")) {
        it_raw_dump(r, "raw connection");
        fail_msg("connection neither accepted nor refused for max_connections");
    }
    it_raw_close(r);
    return NULL;
}

/* max_connections = 3: the 4th is refused with -ERR; a freed slot is
 * usable again. */
static void test_max_connections(void **state)
{
    enum { MAX = 3 };
    it_server *s = it_server_start("max_connections = 3;\n", NULL);
    it_raw *conns[MAX];
    for (int i = 0; i < MAX; i++) {
        /* the harness's readiness probe may still hold a slot briefly */
        long long end = it_now_ms() + 5000;
        while (!(conns[i] = try_connect(s->port)) && it_now_ms() < end)
            it_sleep_ms(20);
        if (!conns[i])
            fail_msg("connection %d of %d refused", i + 1, MAX);
    }
    it_raw *extra = it_raw_connect(s->port, 0);
    if (!it_raw_wait_closed(extra, 5000)) {
        it_raw_dump(extra, "connection over the limit");
        fail_msg("connection over max_connections was not closed");
    }
    /* nats-server sends "maximum connections exceeded" in lower case */
    if (!it_contains_ci(extra->buf, "-ERR 'maximum connections exceeded'")) {
        it_raw_dump(extra, "connection over the limit");
        fail_msg("no -ERR 'maximum connections exceeded'");
    }
    it_raw_close(extra);

    /* libnats gets an error too */
    natsConnection *nc = NULL;
    natsOptions *o = it_nats_opts(s);
    assert_int_not_equal(natsConnection_Connect(&nc, o), NATS_OK);
    natsOptions_Destroy(o);

    /* the existing ones still work */
    for (int i = 0; i < MAX; i++) {
        it_raw_send(conns[i], "PING\r\n");
        expect(conns[i], "PONG\r\n", 5000);
    }
    it_raw_close(conns[0]);
    long long end = it_now_ms() + 5000;
    it_raw *again = NULL;
    while (!(again = try_connect(s->port)) && it_now_ms() < end)
        it_sleep_ms(20);
    if (!again)
        fail_msg("a freed connection slot was not reusable");
    it_raw_close(again);
    for (int i = 1; i < MAX; i++)
        it_raw_close(conns[i]);
    it_ok();
}

#define AUTH_CONF "authorization = {\n  user = \"a\";\n  password = \"b\";\n  timeout = 1;\n};\n"

/* A connection that never sends CONNECT is told and dropped. */
static void test_auth_timeout(void **state)
{
    it_server *s = it_server_start(AUTH_CONF, NULL);
    it_raw *r = it_raw_open(s->port, 0);
    assert_non_null(strstr(it_raw_info(r), "\"auth_required\":true"));
    expect(r, "-ERR 'Authentication Timeout'\r\n", 10000);
    if (!it_raw_wait_closed(r, 5000))
        fail_msg("connection not closed after the authentication timeout");
    it_raw_close(r);
    it_ok();
}

/* User/password: right credentials work, wrong or missing ones are refused
 * with -ERR 'Authorization Violation'. */
static void test_auth_user_password(void **state)
{
    it_server *s = it_server_start(AUTH_CONF, NULL);

    it_raw *bad = it_raw_open(s->port, 0);
    it_raw_send(bad, "CONNECT {\"verbose\":false,\"user\":\"a\",\"pass\":\"wrong\"}\r\nPING\r\n");
    expect(bad, "-ERR 'Authorization Violation'\r\n", 5000);
    if (!it_raw_wait_closed(bad, 5000))
        fail_msg("connection with a wrong password was not closed");
    it_raw_close(bad);

    it_raw *none = it_raw_open(s->port, 0);
    it_raw_send(none, CONNECT_PLAIN "PING\r\n");
    expect(none, "-ERR 'Authorization Violation'\r\n", 5000);
    it_raw_close(none);

    it_raw *good = it_raw_open(s->port, 0);
    it_raw_send(good, "CONNECT {\"verbose\":false,\"user\":\"a\",\"pass\":\"b\"}\r\nPING\r\n");
    expect(good, "PONG\r\n", 5000);
    it_raw_close(good);

    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetUserInfo(o, "a", "b"));
    natsConnection *nc = it_nats_connect_opts(o);
    natsSubscription *sub = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, nc, "authed"));
    IT_NATS_OK(natsConnection_PublishString(nc, "authed", "yes"));
    natsMsg *m = it_nats_next(sub);
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
    it_nats_close(nc);

    natsConnection *nc2 = NULL;
    o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetUserInfo(o, "a", "nope"));
    assert_int_not_equal(natsConnection_Connect(&nc2, o), NATS_OK);
    natsOptions_Destroy(o);
    it_ok();
}

int main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slow_consumer, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_max_connections, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_auth_timeout, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_auth_user_password, it_setup, it_teardown),
    };
    int rc = cmocka_run_group_tests_name("integration.limits", tests, NULL, NULL);
    nats_Close();
    return rc;
}
