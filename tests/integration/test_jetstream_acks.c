/*
 * test_jetstream_acks.c - what a consumer's acks promise across a restart
 * and across a power cut, with libnats.  modnats fsyncs only turns that
 * promise durability (publishes, API requests, AckSync); plain acks and
 * pull requests reach the WAL unsynced (docs/modules/jetstream.md,
 * "Threads and durability").  So:
 *   - a clean restart keeps every ack, plain or sync (both servers);
 *   - an emulated power cut (the LD_PRELOAD shim of test_jetstream.c)
 *     keeps every PubAck'd message and every AckSync'd ack; plain acks
 *     after the last fsync may come back as redeliveries, never more
 *     (modnats only, not in sanitizer builds).
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "itnats.h"

#define N_MSGS   50
#define N_SYNC   20    /* acked with AckSync */
#define N_PLAIN  10    /* then acked with a plain Ack */

/* Stream ACK on subject "ack" with N_MSGS PubAck'd messages, and a durable
 * pull consumer D (AckExplicit) that got N_SYNC + N_PLAIN of them: the
 * first N_SYNC acked with AckSync, the rest with a plain Ack.  between, if
 * not NULL, runs after the AckSyncs, before the plain acks. */
static void publish_and_ack_ex(natsConnection *nc, void (*between)(jsCtx *js))
{
    jsCtx *js = it_js_ctx(nc);
    jsStreamConfig sc;
    jsErrCode jerr = 0;
    const char *subjects[] = {"ack"};
    IT_NATS_OK(jsStreamConfig_Init(&sc));
    sc.Name = "ACK";
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    IT_NATS_OK(js_AddStream(NULL, js, &sc, NULL, &jerr));
    for (int i = 1; i <= N_MSGS; i++) {
        jsPubAck *pa = NULL;
        char data[16];
        snprintf(data, sizeof data, "m%d", i);
        IT_NATS_OK(js_Publish(&pa, js, "ack", data, (int)strlen(data), NULL, &jerr));
        assert_int_equal(pa->Sequence, (uint64_t)i);
        jsPubAck_Destroy(pa);
    }
    jsSubOptions so;
    IT_NATS_OK(jsSubOptions_Init(&so));
    so.Config.AckPolicy = js_AckExplicit;
    natsSubscription *sub = NULL;
    IT_NATS_OK(js_PullSubscribe(&sub, js, "ack", "D", NULL, &so, &jerr));
    int got = 0;
    while (got < N_SYNC + N_PLAIN) {
        natsMsgList list = {0};
        IT_NATS_OK(natsSubscription_Fetch(&list, sub, N_SYNC + N_PLAIN - got, 5000, &jerr));
        for (int i = 0; i < list.Count; i++) {
            jsMsgMetaData *md = NULL;
            IT_NATS_OK(natsMsg_GetMetaData(&md, list.Msgs[i]));
            assert_int_equal(md->Sequence.Stream, (uint64_t)got + 1);
            jsMsgMetaData_Destroy(md);
            got++;
            if (got <= N_SYNC)
                IT_NATS_OK(natsMsg_AckSync(list.Msgs[i], NULL, &jerr));
            else
                IT_NATS_OK(natsMsg_Ack(list.Msgs[i], NULL));
            if (got == N_SYNC && between)
                between(js);
        }
        natsMsgList_Destroy(&list);
    }
    IT_NATS_OK(natsConnection_Flush(nc));
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
}

static void publish_and_ack(natsConnection *nc)
{
    publish_and_ack_ex(nc, NULL);
}

static jsConsumerInfo *consumer(jsCtx *js)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    IT_NATS_OK(js_GetConsumerInfo(&ci, js, "ACK", "D", NULL, &jerr));
    return ci;
}

/* The next message consumer D hands out. */
static uint64_t next_delivered(natsConnection *nc, jsCtx *js)
{
    (void)nc;
    jsErrCode jerr = 0;
    natsSubscription *sub = NULL;
    jsSubOptions so;
    IT_NATS_OK(jsSubOptions_Init(&so));
    so.Config.AckPolicy = js_AckExplicit;
    IT_NATS_OK(js_PullSubscribe(&sub, js, "ack", "D", NULL, &so, &jerr));
    natsMsgList list = {0};
    IT_NATS_OK(natsSubscription_Fetch(&list, sub, 1, 5000, &jerr));
    assert_int_equal(list.Count, 1);
    jsMsgMetaData *md = NULL;
    IT_NATS_OK(natsMsg_GetMetaData(&md, list.Msgs[0]));
    uint64_t seq = md->Sequence.Stream;
    jsMsgMetaData_Destroy(md);
    natsMsgList_Destroy(&list);
    IT_NATS_OK(natsSubscription_Unsubscribe(sub));
    natsSubscription_Destroy(sub);
    return seq;
}

/* Every ack, plain or sync, is there after a clean stop and start. */
static void test_acks_clean_restart(void **state)
{
    (void)state;
    char conf[600];
    snprintf(conf, sizeof conf, "jetstream = { store_dir = \"%s/js\" }\n", it_tmpdir());
    it_server *s = it_server_start(conf, NULL);
    natsConnection *nc = it_nats_connect(s);
    publish_and_ack(nc);
    /* the plain acks are in once the server says so (bounded poll) */
    jsCtx *js = it_js_ctx(nc);
    uint64_t floor = 0;
    for (int i = 0; i < 500 && floor < N_SYNC + N_PLAIN; i++) {
        jsConsumerInfo *ci = consumer(js);
        floor = ci->AckFloor.Stream;
        jsConsumerInfo_Destroy(ci);
        if (floor < N_SYNC + N_PLAIN)
            usleep(10000);
    }
    assert_int_equal(floor, N_SYNC + N_PLAIN);
    jsCtx_Destroy(js);
    it_nats_close(nc);
    assert_true(it_server_stop(s));
    it_server_restart(s);
    nc = it_nats_connect(s);
    js = it_js_ctx(nc);
    jsConsumerInfo *ci = consumer(js);
    assert_int_equal(ci->AckFloor.Stream, N_SYNC + N_PLAIN);
    assert_int_equal(ci->NumAckPending, 0);
    assert_int_equal(ci->NumPending, N_MSGS - N_SYNC - N_PLAIN);
    jsConsumerInfo_Destroy(ci);
    assert_int_equal(next_delivered(nc, js), N_SYNC + N_PLAIN + 1);
    jsCtx_Destroy(js);
    it_nats_close(nc);
    it_ok();
}

#ifdef MN_POWERCUT_SHIM
/* A pull consumer E with nothing to deliver, made between the AckSyncs
 * and the plain acks (an API request: fsync'd before the plain acks). */
static void make_idle_consumer(jsCtx *js)
{
    jsConsumerConfig cc;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    IT_NATS_OK(jsConsumerConfig_Init(&cc));
    cc.Durable = "E";
    cc.AckPolicy = js_AckExplicit;
    cc.DeliverPolicy = js_DeliverNew;
    IT_NATS_OK(js_AddConsumer(&ci, js, "ACK", &cc, NULL, &jerr));
    jsConsumerInfo_Destroy(ci);
}
#endif

/* A power cut right after the acks: the messages and the AckSync'd acks
 * stay; plain acks may be lost (redelivered), never more.  With quiet, the
 * cut comes only once the server has handled the plain acks (a no_wait
 * pull on E, which goes through the JetStream thread after them, has been
 * answered) and the WALs are fsync'd to their end without anything else
 * asking for it (modnats syncs unsynced writes within 20 ms): then the
 * plain acks must be there too. */
static void power_cut_run(bool quiet)
{
#ifndef MN_POWERCUT_SHIM
    (void)quiet;
    it_ok();
    return;
#else
    if (it_is_nats_server()) {
        it_ok();
        return;
    }
    char dir[600], real[PATH_MAX], side[700], rocks[800], conf[1200];
    snprintf(dir, sizeof dir, "%s/pc", it_tmpdir());
    snprintf(side, sizeof side, "%s/side", it_tmpdir());
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(mkdir(side, 0700), 0);
    assert_non_null(realpath(dir, real));
    snprintf(rocks, sizeof rocks, "%s/jetstream/rocks", real);
    snprintf(conf, sizeof conf, "jetstream = { store_dir = \"%s\"; sync = \"always\" }\n", real);
    setenv("LD_PRELOAD", MN_POWERCUT_SHIM, 1);
    setenv("MN_POWERCUT_DIR", real, 1);
    setenv("MN_POWERCUT_SIDE", side, 1);
    it_server *s = it_server_start(conf, NULL);
    unsetenv("LD_PRELOAD");
    natsConnection *nc = it_nats_connect(s);
    publish_and_ack_ex(nc, quiet ? make_idle_consumer : NULL);
    if (quiet) {
        natsMsg *r = NULL;
        IT_NATS_OK(natsConnection_RequestString(&r, nc, "$JS.API.CONSUMER.MSG.NEXT.ACK.E",
                                                "{\"batch\":1,\"no_wait\":true}", 5000));
        natsMsg_Destroy(r);
        bool synced = false;
        for (int i = 0; i < 1000 && !(synced = it_wal_synced(rocks, side)); i++)
            usleep(10000);
        if (!synced)
            fail_msg("the plain acks' WAL writes were not fsync'd within 10 s of quiet");
    }
    it_nats_close(nc);
    it_server_signal(s, SIGKILL);
    assert_true(it_server_wait_exit(s, 5000));
    it_wal_cut(rocks, side);
    it_server_restart(s);
    nc = it_nats_connect(s);
    jsCtx *js = it_js_ctx(nc);
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    IT_NATS_OK(js_GetStreamInfo(&si, js, "ACK", NULL, &jerr));
    assert_int_equal(si->State.Msgs, N_MSGS);
    assert_int_equal(si->State.LastSeq, N_MSGS);
    jsStreamInfo_Destroy(si);
    jsConsumerInfo *ci = consumer(js);
    uint64_t floor = ci->AckFloor.Stream;
    jsConsumerInfo_Destroy(ci);
    int lo = quiet ? N_SYNC + N_PLAIN : N_SYNC;
    if (floor < (uint64_t)lo || floor > N_SYNC + N_PLAIN)
        fail_msg("ack floor %llu after the power cut, want %d..%d (AckSync'd: %d)",
                 (unsigned long long)floor, lo, N_SYNC + N_PLAIN, N_SYNC);
    /* an acknowledged message may come again only if its ack was plain
     * (and, after the quiet, not at all) */
    uint64_t next = next_delivered(nc, js);
    assert_true(next > (uint64_t)lo);
    assert_true(next <= N_SYNC + N_PLAIN + 1);
    jsCtx_Destroy(js);
    it_nats_close(nc);
    assert_true(it_server_stop(s));
    unsetenv("MN_POWERCUT_DIR");
    unsetenv("MN_POWERCUT_SIDE");
    it_ok();
#endif
}

static void test_acks_power_cut(void **state)
{
    (void)state;
    power_cut_run(false);
}

static void test_acks_power_cut_after_quiet(void **state)
{
    (void)state;
    power_cut_run(true);
}

int main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_acks_clean_restart, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_acks_power_cut, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_acks_power_cut_after_quiet, it_setup, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
