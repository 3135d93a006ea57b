/*
 * test_conn.c - MODNATS_EV_CONNECT (module ev_connect) and
 * MODNATS_EV_DISCONNECT (module ev_disconnect).
 *
 *  connect_event: a login is published by the hook with the client's id,
 *    CONNECT name, address and account; a CONNECT hook answering DENY
 *    closes the client with -ERR 'Authorization Violation'.
 *  disconnect_event: a logged-in client's departure is published with
 *    the reason (none for a client that hung up, the -ERR text for one the
 *    server closed); a connection that never logged in has no event.
 */
#include "abi.h"

#include <stdio.h>
#include <string.h>

static const char *CONF = "modules = [\"ev_connect\", \"ev_disconnect\"];\n";

static void connect_event(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    natsConnection *nc = it_nats_connect(s);
    natsSubscription *sub = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, nc, "abi.ev.connect"));
    IT_NATS_OK(natsConnection_Flush(nc));

    it_raw *r = abi_login(s, "\"name\":\"second\"");
    natsMsg *m = it_nats_next(sub);
    assert_non_null(strstr(natsMsg_GetData(m), " name=second ip=127.0.0.1 account=$G"));
    assert_true(strncmp(natsMsg_GetData(m), "connect cid=", 12) == 0);
    natsMsg_Destroy(m);

    /* DENY from a CONNECT hook. */
    it_raw *x = it_raw_open(s->port, 0);
    it_raw_send(x, "CONNECT {\"verbose\":false,\"protocol\":1,\"name\":\"reject-me\"}\r\nPING\r\n");
    abi_expect(x, "-ERR 'Authorization Violation'\r\n", 5000);
    if (!it_raw_wait_closed(x, 5000))
        fail_msg("a client denied by a CONNECT hook stayed open");
    it_raw_close(x);
    /* It was never announced. */
    natsStatus st = natsSubscription_NextMsg(&m, sub, 300);
    if (st == NATS_OK) {
        fail_msg("unexpected connect event: %s", natsMsg_GetData(m));
    }
    it_raw_close(r);
    natsSubscription_Destroy(sub);
    it_nats_close(nc);
    it_ok();
}

static void disconnect_event(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    natsConnection *nc = it_nats_connect(s);
    natsSubscription *sub = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, nc, "abi.ev.disconnect"));
    IT_NATS_OK(natsConnection_Flush(nc));

    it_raw *r = abi_login(s, "\"name\":\"leaver\"");
    it_raw_close(r);
    natsMsg *m = it_nats_next(sub);
    assert_string_equal(natsMsg_GetData(m), "disconnect name=leaver reason=(null)");
    natsMsg_Destroy(m);

    r = abi_login(s, "\"name\":\"bad\"");
    it_raw_send(r, "BOGUS\r\n");
    abi_expect(r, "-ERR 'Unknown Protocol Operation'\r\n", 5000);
    m = it_nats_next(sub);
    assert_string_equal(natsMsg_GetData(m), "disconnect name=bad reason=Unknown Protocol Operation");
    natsMsg_Destroy(m);
    it_raw_close(r);

    /* Never logged in: no event. */
    r = it_raw_open(s->port, 0);
    it_raw_close(r);
    natsStatus st = natsSubscription_NextMsg(&m, sub, 300);
    if (st == NATS_OK)
        fail_msg("unexpected disconnect event: %s", natsMsg_GetData(m));

    /* Denied by a CONNECT hook after the login: it was connected, so it
     * has a disconnect event with the denial as reason. */
    r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"protocol\":1,\"name\":\"reject-me\"}\r\n");
    m = it_nats_next(sub);
    assert_string_equal(natsMsg_GetData(m), "disconnect name=reject-me reason=Authorization Violation");
    natsMsg_Destroy(m);
    it_raw_close(r);

    natsSubscription_Destroy(sub);
    it_nats_close(nc);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(connect_event), ABI_TEST(disconnect_event) };
    return ABI_RUN(tests);
}
