/*
 * test_sinks.c - sinks (module sink_mod; see its header for the sinks and
 * control subjects).  Every deliver is reported on "sink.report" from
 * inside deliver, on the routing worker: a raw client that publishes and
 * also subscribes to the reports has every report of its earlier PUBs
 * before the PONG of a following PING.
 *
 *  sink_one_deliver_per_msg: a.b matches two plain subscriptions of the
 *    main sink ("a.>", "a.b"): one deliver, plain=1, no queues.
 *  sink_queue_local_preferred: with a libnats member of "q.x"/"g", no sink
 *    gets a queue delivery; once it leaves, each message goes to exactly
 *    one sink with queues=[g] plain=0, split by weight (main 3, local 1).
 *  sink_origins: a message published with a sink's own origin never
 *    reaches that sink (clients still get it); the LOCAL_ONLY sink gets
 *    nothing of a non-zero origin but takes origin 0; the main sink takes
 *    the third origin and reports it.
 *  sink_free_released: after sink_free, released runs once and no deliver
 *    follows; the other sink keeps working.
 *  sink_not_own_module: a MODNATS_SINK_NOT_OWN_MODULE sink gets no
 *    message of an origin its own module allocated, but takes origin 0 and
 *    another module's origins (listed_mod); MODNATS_ORIGIN_MODULE of every
 *    origin sink_mod allocated is the same.  Each deliver's msg->account
 *    names the account ("acc=$G" in every report).
 *  sink_many_sinks: one message matching 20 sinks (20 peers) reaches
 *    each of them once (the per-message collection of sinks grows; it
 *    used to stop at 16).
 *  sink_free_in_fini: sinks freed in fini (free_at_fini = true): the
 *    server exits cleanly (released runs before the module is unloaded;
 *    it used to run after dlclose and crash at exit).
 */
#include "abi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *CONF = "io_threads = 2;\nmodules = [\"sink_mod\"];\n";

typedef struct origins {
    unsigned main, local, third;
} origins;

static void read_origins(it_server *s, origins *o)
{
    abi_log_expect(s, "[sink_mod] origins main=", 2000);
    char *t = abi_log_text(s);
    const char *p = strstr(t, "[sink_mod] origins main=");
    int wrc = -9;
    if (sscanf(p, "[sink_mod] origins main=%u local=%u third=%u set_weight=%d", &o->main,
               &o->local, &o->third, &wrc) != 4)
        fail_msg("cannot parse: %.120s", p);
    free(t);
    assert_int_equal(wrc, 0);
    assert_true(o->main && o->local && o->third);
    assert_true(o->main != o->local && o->local != o->third && o->main != o->third);
}

static void sync_raw(it_raw *r)
{
    it_raw_send(r, "PING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
}

static it_raw *reporter(it_server *s)
{
    it_raw *r = abi_login(s, "\"name\":\"reporter\"");
    it_raw_send(r, "SUB sink.report 1\r\nSUB rep 9\r\n");
    sync_raw(r);
    return r;
}

static void sink_one_deliver_per_msg(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    origins o;
    read_origins(s, &o);
    it_raw *r = reporter(s);
    it_raw_send(r, "PUB a.b 2\r\nm1\r\nPUB a.c.d 2\r\nm2\r\nPUB zz 2\r\nm3\r\n");
    sync_raw(r);
    it_raw_drain(r, 100);
    assert_int_equal(it_raw_count(r, "deliver sink=main subj=a.b plain=1 queues=[] origin=0 body=m1 acc=$G\r\n"), 1);
    assert_int_equal(it_raw_count(r, "deliver sink=main subj=a.c.d plain=1 queues=[] origin=0 body=m2 acc=$G\r\n"), 1);
    assert_int_equal(it_raw_count(r, "deliver "), 2);
    assert_int_equal(it_raw_count(r, "WRONG-SINK"), 0);
    it_raw_close(r);
    it_ok();
}

static void sink_queue_local_preferred(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *r = reporter(s);
    natsConnection *nc = it_nats_connect(s);
    natsSubscription *member = NULL;
    IT_NATS_OK(natsConnection_QueueSubscribeSync(&member, nc, "q.x", "g"));
    IT_NATS_OK(natsConnection_Flush(nc));

    enum { N = 20, M = 400 };
    for (int i = 0; i < N; i++)
        it_raw_send(r, "PUB q.x 1\r\nL\r\n");
    sync_raw(r);
    long long end = it_now_ms() + 5000;
    while (it_nats_pending(member) < N && it_now_ms() < end)
        it_sleep_ms(10);
    assert_int_equal(it_nats_pending(member), N);
    it_raw_drain(r, 100);
    if (it_raw_count(r, "subj=q.x") != 0) {
        it_raw_dump(r, "reports");
        fail_msg("a sink got a queue delivery while a local member of g existed");
    }

    /* The member leaves: now the sinks take the group, by weight. */
    IT_NATS_OK(natsSubscription_Unsubscribe(member));
    IT_NATS_OK(natsConnection_Flush(nc));
    natsSubscription_Destroy(member);
    for (int i = 0; i < M; i++)
        it_raw_send(r, "PUB q.x 1\r\nR\r\n");
    sync_raw(r);
    it_raw_drain(r, 100);
    size_t to_main = it_raw_count(r, "deliver sink=main subj=q.x plain=0 queues=[g] origin=0 body=R acc=$G\r\n");
    size_t to_local = it_raw_count(r, "deliver sink=local subj=q.x plain=0 queues=[g] origin=0 body=R acc=$G\r\n");
    if (to_main + to_local != M || it_raw_count(r, "subj=q.x") != M)
        fail_msg("%d queue messages without local member: main got %zu, local %zu, reports %zu", M,
                 to_main, to_local, it_raw_count(r, "subj=q.x"));
    /* main has weight 3 (sub_set_weight), local 1: expect 300 / 100. */
    if (to_main < 240 || to_main > 360)
        fail_msg("weights 3:1 over %d messages, main got %zu, local %zu", M, to_main, to_local);
    it_nats_close(nc);
    it_raw_close(r);
    it_ok();
}

static void sink_origins(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    origins o;
    read_origins(s, &o);
    it_raw *r = reporter(s);
    it_raw_send(r, "SUB a.own 2\r\nSUB l.> 3\r\nSUB a.other 4\r\n");
    sync_raw(r);

    it_raw_send(r, "PUB sinkctl.own rep 0\r\n\r\n");
    abi_expect(r, "own done", 5000);
    sync_raw(r);
    /* Clients get both, the sinks of those origins do not. */
    assert_int_equal(it_raw_count(r, "MSG a.own 2 3\r\nown\r\n"), 1);
    assert_int_equal(it_raw_count(r, "MSG l.own 3 3\r\nown\r\n"), 1);
    assert_int_equal(it_raw_count(r, "subj=a.own"), 0);
    assert_int_equal(it_raw_count(r, "subj=l.own"), 0);

    it_raw_send(r, "PUB sinkctl.other rep 0\r\n\r\n");
    abi_expect(r, "other done", 5000);
    sync_raw(r);
    it_raw_drain(r, 100);
    char want[200];
    snprintf(want, sizeof want,
             "deliver sink=main subj=a.other plain=1 queues=[] origin=%u body=third acc=$G\r\n", o.third);
    assert_int_equal(it_raw_count(r, want), 1);
    assert_int_equal(it_raw_count(r, "MSG l.other 3 5\r\nthird\r\n"), 1);
    if (it_raw_count(r, "subj=l.other") != 0) {
        it_raw_dump(r, "reports");
        fail_msg("the LOCAL_ONLY sink got a message of a non-zero origin");
    }
    assert_int_equal(
        it_raw_count(r, "deliver sink=local subj=l.zero plain=1 queues=[] origin=0 body=zero acc=$G\r\n"), 1);
    /* A client's message (origin 0) reaches the local-only sink too. */
    it_raw_send(r, "PUB l.client 1\r\nc\r\n");
    sync_raw(r);
    it_raw_drain(r, 50);
    assert_int_equal(
        it_raw_count(r, "deliver sink=local subj=l.client plain=1 queues=[] origin=0 body=c acc=$G\r\n"), 1);
    /* The not-own-module sink: nothing of its module's origins, origin 0
     * yes. */
    assert_int_equal(it_raw_count(r, "subj=n.own"), 0);
    assert_int_equal(
        it_raw_count(r, "deliver sink=notown subj=n.zero plain=1 queues=[] origin=0 body=zero acc=$G\r\n"), 1);
    it_raw_close(r);
    it_ok();
}

/* MODNATS_SINK_NOT_OWN_MODULE takes what another module published with
 * its own origin (listed_mod on lq.subj). */
static void sink_not_own_module(void **state)
{
    (void)state;
    it_server *s = abi_start("io_threads = 2;\nmodules = [\"sink_mod\", \"listed_mod\"];\n", NULL, NULL);
    abi_log_expect(s, "[sink_mod] origin modules main=", 2000);
    char *t = abi_log_text(s);
    unsigned mm = 0, mt = 0, mn = 0;
    const char *p = strstr(t, "[sink_mod] origin modules main=");
    assert_int_equal(sscanf(p, "[sink_mod] origin modules main=%u third=%u notown=%u", &mm, &mt, &mn), 3);
    free(t);
    assert_true(mm != 0 && mm == mt && mt == mn);
    it_raw *r = reporter(s);
    it_raw_send(r, "PUB listed.plain rep 2\r\nLP\r\n");
    abi_expect(r, "done rc=0", 5000);
    sync_raw(r);
    it_raw_drain(r, 50);
    const char *d = strstr(r->buf, "deliver sink=notown subj=lq.subj plain=1 queues=[] origin=");
    if (!d || it_raw_count(r, "subj=lq.subj") != 1)
        fail_msg("the not-own-module sink did not get another module's message once");
    unsigned o = 0;
    assert_int_equal(sscanf(d, "deliver sink=notown subj=lq.subj plain=1 queues=[] origin=%u", &o), 1);
    assert_true(o != 0 && (o >> 20) != mm);
    assert_non_null(strstr(d, " body=LP acc=$G\r\n"));
    it_raw_close(r);
    it_ok();
}

static void sink_many_sinks(void **state)
{
    (void)state;
    it_server *s = abi_start("io_threads = 2;\nmodules = [\"sink_mod\"];\n"
                             "sink_mod = { extra_sinks = 20; };\n", NULL, NULL);
    it_raw *r = reporter(s);
    it_raw_send(r, "PUB many.x 1\r\nM\r\n");
    sync_raw(r);
    it_raw_drain(r, 100);
    char want[100];
    for (int i = 0; i < 20; i++) {
        snprintf(want, sizeof want, "deliver sink=x%d subj=many.x plain=1 ", i);
        if (it_raw_count(r, want) != 1) {
            it_raw_dump(r, "reports");
            fail_msg("sink x%d of 20 got %zu delivers of the message (want 1); %zu reports in all", i,
                     it_raw_count(r, want), it_raw_count(r, "subj=many.x"));
        }
    }
    it_raw_close(r);
    it_ok();
}

static void sink_free_released(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *r = reporter(s);
    it_raw_send(r, "PUB a.b 6\r\nbefore\r\n");
    abi_expect(r, "deliver sink=main subj=a.b plain=1 queues=[] origin=0 body=before", 2000);
    abi_log_refute(s, "released sink=");

    it_raw_send(r, "PUB sinkctl.free rep 0\r\n\r\n");
    abi_expect(r, "freed", 5000);
    abi_log_expect(s, "[sink_mod] released sink=main count=1", 3000);

    it_raw_send(r, "PUB a.b 5\r\nafter\r\nPUB a.x 5\r\nafter\r\n");
    for (int i = 0; i < 50; i++)
        it_raw_send(r, "PUB q.x 1\r\nQ\r\n");
    sync_raw(r);
    it_raw_drain(r, 300);
    if (it_raw_count(r, "body=after") != 0 || it_raw_count(r, "sink=main") != 1) {
        it_raw_dump(r, "reports");
        fail_msg("the freed sink still got messages");
    }
    /* Its queue subscription went with it: the other sink takes the group. */
    assert_int_equal(it_raw_count(r, "deliver sink=local subj=q.x plain=0 queues=[g] origin=0 body=Q acc=$G\r\n"), 50);
    assert_int_equal(abi_log_count(s, "released sink=main"), 1);
    abi_log_refute(s, "released sink=local");
    it_raw_close(r);
    it_ok();
}

static void sink_free_in_fini(void **state)
{
    (void)state;
    it_server *s = abi_start("io_threads = 2;\nmodules = [\"sink_mod\"];\n"
                             "sink_mod = { free_at_fini = true; };\n", NULL, NULL);
    it_raw *r = reporter(s);
    it_raw_send(r, "PUB a.b 1\r\nx\r\n");
    abi_expect(r, "deliver sink=main subj=a.b", 2000);
    it_raw_close(r);
    if (!it_server_stop(s))
        fail_msg("the server did not exit cleanly after sink_free in fini");
    abi_log_expect(s, "[sink_mod] fini freed the sinks", 100);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = {
        ABI_TEST(sink_one_deliver_per_msg), ABI_TEST(sink_queue_local_preferred),
        ABI_TEST(sink_origins), ABI_TEST(sink_not_own_module), ABI_TEST(sink_free_released),
        ABI_TEST(sink_many_sinks), ABI_TEST(sink_free_in_fini),
    };
    return ABI_RUN(tests);
}
