/*
 * test_inproc.c - in-process clients (module inproc, init_publish).
 *
 *  inproc_echo_service: a module subscription on "svc.echo" (queue
 *    "echoq") answers requests by publishing to the reply subject; headers
 *    go through.
 *  inproc_queue_group: with a client in the same queue group, each request
 *    is answered exactly once, and both members take a share.
 *  inproc_origin_filter: a message the module publishes with its own
 *    origin is not delivered to its subscription of that origin, but to
 *    clients; messages of other origins (0, clients) are.
 *  inproc_thread_publish: publish from a thread of the module's own.
 *  inproc_unsubscribe: unsubscribe from inside a callback; no more
 *    answers; a second unsubscribe of the same handle is refused.
 *  init_publish: publishing during init (the header: "any thread") must
 *    not wedge the server: every client still gets INFO and PONG, and the
 *    message is delivered.
 */
#include "abi.h"

#include <stdio.h>
#include <string.h>

static const char *CONF = "io_threads = 2;\nmodules = [\"inproc\"];\n";

static void inproc_echo_service(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    natsConnection *nc = it_nats_connect(s);
    natsMsg *reply = NULL;
    IT_NATS_OK(natsConnection_RequestString(&reply, nc, "svc.echo", "hi there", 5000));
    assert_string_equal(natsMsg_GetData(reply), "echo: hi there");
    natsMsg_Destroy(reply);

    natsMsg *req = NULL;
    IT_NATS_OK(natsMsg_Create(&req, "svc.echo", NULL, "with header", 11));
    IT_NATS_OK(natsMsgHeader_Set(req, "X-Abi", "yes"));
    IT_NATS_OK(natsConnection_RequestMsg(&reply, nc, req, 5000));
    assert_string_equal(natsMsg_GetData(reply), "echo: with header");
    const char *v = NULL;
    IT_NATS_OK(natsMsgHeader_Get(reply, "X-Abi", &v));
    assert_string_equal(v, "yes");
    natsMsg_Destroy(reply);
    natsMsg_Destroy(req);
    it_nats_close(nc);
    it_ok();
}

static void inproc_queue_group(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *member = abi_login(s, "\"name\":\"member\"");
    it_raw_send(member, "SUB svc.echo echoq 1\r\nPING\r\n");
    abi_expect(member, "PONG\r\n", 5000);

    it_raw *c = abi_login(s, "\"name\":\"caller\"");
    it_raw_send(c, "SUB abi.replies 9\r\nPING\r\n");
    abi_expect(c, "PONG\r\n", 5000);
    enum { N = 60 };
    for (int i = 0; i < N; i++)
        it_raw_send(c, "PUB svc.echo abi.replies 3\r\nm%02d\r\n", i);
    it_raw_send(c, "PING\r\n");
    /* The module answers at once; the client member does not answer: what
     * it received is its share. */
    long long end = it_now_ms() + 5000;
    size_t module_share = 0, member_share = 0;
    while (it_now_ms() < end) {
        it_raw_drain(c, 50);
        it_raw_drain(member, 10);
        module_share = it_raw_count(c, "echo: m");
        member_share = it_raw_count(member, "MSG svc.echo 1 abi.replies 3\r\n");
        if (module_share + member_share >= N)
            break;
    }
    it_raw_drain(c, 200);
    it_raw_drain(member, 50);
    module_share = it_raw_count(c, "echo: m");
    member_share = it_raw_count(member, "MSG svc.echo 1 abi.replies 3\r\n");
    if (module_share + member_share != N || module_share == 0 || member_share == 0)
        fail_msg("queue group: module answered %zu, client member got %zu, of %d", module_share,
                 member_share, N);
    it_raw_close(member);
    it_raw_close(c);
    it_ok();
}

static void inproc_origin_filter(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *r = abi_login(s, "");
    it_raw_send(r, "SUB origin.test 1\r\nSUB origin.report 2\r\nPING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
    it_raw_send(r, "PUB origin.trigger 0\r\n\r\nPING\r\n");
    abi_expect(r, "MSG origin.test 1 3\r\nown\r\n", 5000);
    abi_expect(r, "PONG\r\n", 5000);
    it_raw_drain(r, 300);
    assert_int_equal(it_raw_count(r, "MSG origin.test 1 5\r\nother\r\n"), 1);
    assert_int_equal(it_raw_count(r, "got other origin=0"), 1);
    assert_int_equal(it_raw_count(r, "got own"), 0);
    /* A client's message reaches the module's subscription (origin 0). */
    it_raw_send(r, "PUB origin.test 11\r\nfrom-client\r\nPING\r\n");
    abi_expect(r, "got from-client origin=0", 5000);
    it_raw_close(r);
    it_ok();
}

static void inproc_thread_publish(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    natsConnection *nc = it_nats_connect(s);
    natsSubscription *sub = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, nc, "inproc.thread"));
    for (int i = 0; i < 3; i++) {
        natsMsg *m = it_nats_next(sub);
        assert_true(strncmp(natsMsg_GetData(m), "tick ", 5) == 0);
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
    it_nats_close(nc);
    assert_true(it_server_stop(s));
    abi_log_expect(s, "[inproc] fini joined", 100);
    it_ok();
}

static void inproc_unsubscribe(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    natsConnection *nc = it_nats_connect(s);
    natsMsg *reply = NULL;
    IT_NATS_OK(natsConnection_RequestString(&reply, nc, "inproc.unsub", "", 5000));
    assert_string_equal(natsMsg_GetData(reply), "unsubscribed rc=0");
    natsMsg_Destroy(reply);
    natsStatus st = natsConnection_RequestString(&reply, nc, "svc.echo", "anyone?", 500);
    assert_int_not_equal(st, NATS_OK);
    IT_NATS_OK(natsConnection_RequestString(&reply, nc, "inproc.unsub", "", 5000));
    assert_string_equal(natsMsg_GetData(reply), "unsubscribed rc=-1");
    natsMsg_Destroy(reply);
    it_nats_close(nc);
    it_ok();
}

static void init_publish(void **state)
{
    (void)state;
    it_server *s = abi_start("io_threads = 2;\nmodules = [\"init_publish\"];\n", NULL, NULL);
    for (int i = 0; i < 6; i++) {
        it_raw *r = abi_login(s, "");
        it_raw_close(r);
    }
    for (int i = 0; i < 4; i++) {
        char line[64];
        snprintf(line, sizeof line, "[init_publish] delivered: hello %d from init", i);
        abi_log_expect(s, line, 2000);
    }
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = {
        ABI_TEST(inproc_echo_service), ABI_TEST(inproc_queue_group),
        ABI_TEST(inproc_origin_filter), ABI_TEST(inproc_thread_publish),
        ABI_TEST(inproc_unsubscribe), ABI_TEST(init_publish),
    };
    return ABI_RUN(tests);
}
