/*
 * test_js_client.c - libnats' (nats.c) JetStream and KV API against the
 * server under test, started with -js -sd <tmp>: streams (add, idempotent
 * add, update, info, purge, delete), js_Publish with its expectations and
 * the jsErrCode each refusal carries, msg-id dedup, get / get last /
 * delete of messages, limits, consumers (add, info, delete, not found),
 * pull fetch with ack / nak / term / in-progress / ack sync and the exact
 * counts consumer info reports, push (async with flow control and
 * heartbeats, sync, ordered), and KV (put, get, create, update, delete,
 * purge, keys, history and its limit, watch, status).  Runs unchanged
 * against nats-server -js (MN_TEST_SERVER=/usr/sbin/nats-server), which is
 * how the codes and counts below were checked.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itnats.h"

static it_server *start_js(void)
{
    char dir[500];
    snprintf(dir, sizeof dir, "%s/store", it_tmpdir());
    const char *const args[] = {"-js", "-sd", dir, NULL};
    return it_server_start(NULL, args);
}

static void add_stream(jsCtx *js, const char *name, const char *subject, int64_t max_msgs,
                       jsDiscardPolicy discard)
{
    jsStreamConfig sc;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    const char *subjects[] = {subject};
    IT_NATS_OK(jsStreamConfig_Init(&sc));
    sc.Name = name;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    if (max_msgs)
        sc.MaxMsgs = max_msgs;
    sc.Discard = discard;
    IT_NATS_OK(js_AddStream(&si, js, &sc, NULL, &jerr));
    assert_string_equal(si->Config->Name, name);
    jsStreamInfo_Destroy(si);
}

static jsStreamState stream_state(jsCtx *js, const char *name)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    IT_NATS_OK(js_GetStreamInfo(&si, js, name, NULL, &jerr));
    jsStreamState st = si->State;
    st.Subjects = NULL;
    st.Deleted = NULL;
    st.Lost = NULL;
    jsStreamInfo_Destroy(si);
    return st;
}

static uint64_t publish(jsCtx *js, const char *subj, const char *data, jsPubOptions *po)
{
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    IT_NATS_OK(js_Publish(&pa, js, subj, data, (int)strlen(data), po, &jerr));
    uint64_t seq = pa->Sequence;
    jsPubAck_Destroy(pa);
    return seq;
}

/* A publish the server must refuse with err_code want. */
static void publish_refused(jsCtx *js, const char *subj, jsPubOptions *po, jsErrCode want)
{
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_Publish(&pa, js, subj, "x", 1, po, &jerr);
    if (s == NATS_OK)
        fail_msg("publish to %s accepted (seq %llu), want err_code %d", subj,
                 (unsigned long long)pa->Sequence, (int)want);
    if (jerr != want)
        fail_msg("publish to %s: err_code %d (%s), want %d", subj, (int)jerr,
                 nats_GetLastError(NULL), (int)want);
    assert_null(pa);
}

static jsConsumerInfo *consumer_info(jsCtx *js, const char *stream, const char *name)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    IT_NATS_OK(js_GetConsumerInfo(&ci, js, stream, name, NULL, &jerr));
    return ci;
}

/* Poll consumer info until it shows ack_pending / pending (acks are
 * published without a reply, so the server may not have them yet). */
static void wait_counts(jsCtx *js, const char *stream, const char *name, int64_t ack_pending,
                        uint64_t pending)
{
    int64_t ap = -1;
    uint64_t p = 0;
    for (int i = 0; i < 500; i++) {
        jsConsumerInfo *ci = consumer_info(js, stream, name);
        ap = ci->NumAckPending;
        p = ci->NumPending;
        jsConsumerInfo_Destroy(ci);
        if (ap == ack_pending && p == pending)
            return;
        it_sleep_ms(20);
    }
    fail_msg("consumer %s: num_ack_pending %lld num_pending %llu, want %lld and %llu", name,
             (long long)ap, (unsigned long long)p, (long long)ack_pending,
             (unsigned long long)pending);
}

static jsMsgMetaData *meta(natsMsg *m)
{
    jsMsgMetaData *md = NULL;
    IT_NATS_OK(natsMsg_GetMetaData(&md, m));
    return md;
}

/* ---- streams ---- */

static void test_streams(void **state)
{
    (void)state;
    it_server *s = start_js();
    natsConnection *nc = it_nats_connect(s);
    jsCtx *js = it_js_ctx(nc);
    jsErrCode jerr = 0;
    jsStreamInfo *si = NULL;

    add_stream(js, "ORDERS", "orders.>", 0, js_DiscardOld);
    add_stream(js, "ORDERS", "orders.>", 0, js_DiscardOld);    /* same config: fine */
    jsStreamConfig sc;
    const char *other[] = {"other.>"};
    IT_NATS_OK(jsStreamConfig_Init(&sc));
    sc.Name = "ORDERS";
    sc.Subjects = other;
    sc.SubjectsLen = 1;
    assert_int_not_equal(js_AddStream(&si, js, &sc, NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSStreamNameExistErr);
    assert_null(si);
    /* overlapping subjects in another stream */
    const char *overlap[] = {"orders.eu"};
    sc.Name = "EU";
    sc.Subjects = overlap;
    assert_int_not_equal(js_AddStream(&si, js, &sc, NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSStreamSubjectOverlapErr);

    for (int i = 0; i < 3; i++)
        publish(js, "orders.a", "a", NULL);
    publish(js, "orders.b", "b", NULL);
    jsStreamState st = stream_state(js, "ORDERS");
    assert_int_equal(st.Msgs, 4);
    assert_int_equal(st.FirstSeq, 1);
    assert_int_equal(st.LastSeq, 4);
    assert_int_equal(st.NumSubjects, 2);

    /* update: a smaller max_msgs applies to what is stored */
    const char *subjects[] = {"orders.>"};
    IT_NATS_OK(jsStreamConfig_Init(&sc));
    sc.Name = "ORDERS";
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.MaxMsgs = 2;
    IT_NATS_OK(js_UpdateStream(&si, js, &sc, NULL, &jerr));
    assert_int_equal(si->Config->MaxMsgs, 2);
    jsStreamInfo_Destroy(si);
    si = NULL;
    st = stream_state(js, "ORDERS");
    assert_int_equal(st.Msgs, 2);
    assert_int_equal(st.FirstSeq, 3);
    sc.Name = "NOPE";
    assert_int_not_equal(js_UpdateStream(&si, js, &sc, NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSStreamNotFoundErr);

    IT_NATS_OK(js_PurgeStream(js, "ORDERS", NULL, &jerr));
    st = stream_state(js, "ORDERS");
    assert_int_equal(st.Msgs, 0);
    assert_int_equal(st.FirstSeq, 5);
    assert_int_equal(st.LastSeq, 4);
    assert_int_equal(publish(js, "orders.c", "c", NULL), 5);

    jsStreamNamesList *names = NULL;
    IT_NATS_OK(js_StreamNames(&names, js, NULL, &jerr));
    assert_int_equal(names->Count, 1);
    assert_string_equal(names->List[0], "ORDERS");
    jsStreamNamesList_Destroy(names);

    IT_NATS_OK(js_DeleteStream(js, "ORDERS", NULL, &jerr));
    assert_int_not_equal(js_GetStreamInfo(&si, js, "ORDERS", NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSStreamNotFoundErr);
    assert_int_not_equal(js_DeleteStream(js, "ORDERS", NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSStreamNotFoundErr);
    assert_int_not_equal(js_PurgeStream(js, "ORDERS", NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSStreamNotFoundErr);

    jsCtx_Destroy(js);
    it_nats_close(nc);
    it_ok();
}

/* ---- publishing ---- */

static void test_publish_expectations(void **state)
{
    (void)state;
    it_server *s = start_js();
    natsConnection *nc = it_nats_connect(s);
    jsCtx *js = it_js_ctx(nc);
    jsErrCode jerr = 0;
    jsPubOptions po;
    jsPubAck *pa = NULL;

    add_stream(js, "P", "p.>", 0, js_DiscardOld);
    /* msg id: the second publish is a duplicate of the first */
    IT_NATS_OK(jsPubOptions_Init(&po));
    po.MsgId = "id-1";
    IT_NATS_OK(js_Publish(&pa, js, "p.a", "one", 3, &po, &jerr));
    assert_int_equal(pa->Sequence, 1);
    assert_false(pa->Duplicate);
    jsPubAck_Destroy(pa);
    pa = NULL;
    IT_NATS_OK(js_Publish(&pa, js, "p.a", "one", 3, &po, &jerr));
    assert_int_equal(pa->Sequence, 1);
    assert_true(pa->Duplicate);
    jsPubAck_Destroy(pa);
    pa = NULL;
    assert_int_equal(stream_state(js, "P").Msgs, 1);

    IT_NATS_OK(jsPubOptions_Init(&po));
    po.ExpectStream = "Q";
    publish_refused(js, "p.a", &po, JSStreamNotMatchErr);
    po.ExpectStream = "P";
    assert_int_equal(publish(js, "p.b", "two", &po), 2);

    IT_NATS_OK(jsPubOptions_Init(&po));
    po.ExpectLastSeq = 1;
    publish_refused(js, "p.a", &po, JSStreamWrongLastSequenceErr);
    po.ExpectLastSeq = 2;
    assert_int_equal(publish(js, "p.a", "three", &po), 3);

    IT_NATS_OK(jsPubOptions_Init(&po));
    po.ExpectLastSubjectSeq = 1;                     /* p.b's last is 2 */
    publish_refused(js, "p.b", &po, JSStreamWrongLastSequenceErr);
    po.ExpectLastSubjectSeq = 2;
    assert_int_equal(publish(js, "p.b", "four", &po), 4);

    IT_NATS_OK(jsPubOptions_Init(&po));
    po.ExpectNoMessage = true;                       /* p.b has messages */
    publish_refused(js, "p.b", &po, JSStreamWrongLastSequenceErr);
    assert_int_equal(publish(js, "p.new", "five", &po), 5);

    IT_NATS_OK(jsPubOptions_Init(&po));
    po.MsgId = "id-6";
    assert_int_equal(publish(js, "p.a", "six", &po), 6);
    IT_NATS_OK(jsPubOptions_Init(&po));
    po.ExpectLastMsgId = "id-1";
    publish_refused(js, "p.a", &po, JSStreamWrongLastMsgIDErr);
    po.ExpectLastMsgId = "id-6";
    assert_int_equal(publish(js, "p.a", "seven", &po), 7);

    /* get, get last by subject, delete */
    natsMsg *m = NULL;
    IT_NATS_OK(js_GetMsg(&m, js, "P", 2, NULL, &jerr));
    assert_string_equal(natsMsg_GetSubject(m), "p.b");
    assert_int_equal(natsMsg_GetDataLength(m), 3);
    assert_memory_equal(natsMsg_GetData(m), "two", 3);
    assert_int_equal(natsMsg_GetSequence(m), 2);
    natsMsg_Destroy(m);
    m = NULL;
    IT_NATS_OK(js_GetLastMsg(&m, js, "P", "p.b", NULL, &jerr));
    assert_int_equal(natsMsg_GetSequence(m), 4);
    assert_memory_equal(natsMsg_GetData(m), "four", 4);
    natsMsg_Destroy(m);
    m = NULL;
    assert_int_not_equal(js_GetLastMsg(&m, js, "P", "p.none", NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSNoMessageFoundErr);
    IT_NATS_OK(js_DeleteMsg(js, "P", 4, NULL, &jerr));
    assert_int_not_equal(js_GetMsg(&m, js, "P", 4, NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSNoMessageFoundErr);
    /* the subject's last is now 2; nats-server 2.9.10 still looks for 4
     * (its per-subject last is not moved back) and answers not found */
    if (it_is_nats_server()) {
        assert_int_not_equal(js_GetLastMsg(&m, js, "P", "p.b", NULL, &jerr), NATS_OK);
        assert_int_equal(jerr, JSNoMessageFoundErr);
    } else {
        IT_NATS_OK(js_GetLastMsg(&m, js, "P", "p.b", NULL, &jerr));
        assert_int_equal(natsMsg_GetSequence(m), 2);
        natsMsg_Destroy(m);
        m = NULL;
    }
    assert_int_not_equal(js_DeleteMsg(js, "P", 4, NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSSequenceNotFoundErr);
    jsStreamState st = stream_state(js, "P");
    assert_int_equal(st.Msgs, 6);
    assert_int_equal(st.NumDeleted, 1);

    /* limits: max_msgs with discard new refuses the fourth */
    add_stream(js, "L", "l", 3, js_DiscardNew);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(publish(js, "l", "x", NULL), (uint64_t)i);
    publish_refused(js, "l", NULL, JSStreamStoreFailedErr);
    if (!strstr(nats_GetLastError(NULL), "maximum messages exceeded"))
        fail_msg("discard new: %s", nats_GetLastError(NULL));
    assert_int_equal(stream_state(js, "L").Msgs, 3);
    /* ... and with discard old drops the oldest */
    add_stream(js, "LO", "lo", 2, js_DiscardOld);
    for (int i = 1; i <= 4; i++)
        publish(js, "lo", "x", NULL);
    st = stream_state(js, "LO");
    assert_int_equal(st.Msgs, 2);
    assert_int_equal(st.FirstSeq, 3);

    /* publishing where no stream listens: no responders */
    assert_int_equal(js_Publish(&pa, js, "nowhere", "x", 1, NULL, &jerr), NATS_NO_RESPONDERS);

    jsCtx_Destroy(js);
    it_nats_close(nc);
    it_ok();
}

/* ---- consumers ---- */

static void test_consumers_pull(void **state)
{
    (void)state;
    it_server *s = start_js();
    natsConnection *nc = it_nats_connect(s);
    jsCtx *js = it_js_ctx(nc);
    jsErrCode jerr = 0;

    add_stream(js, "W", "w.*", 0, js_DiscardOld);
    char body[16];
    for (int i = 1; i <= 10; i++) {
        snprintf(body, sizeof body, "m%d", i);
        publish(js, i % 2 ? "w.odd" : "w.even", body, NULL);
    }

    jsConsumerConfig cc;
    jsConsumerInfo *ci = NULL;
    IT_NATS_OK(jsConsumerConfig_Init(&cc));
    cc.Durable = "d";
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = 30LL * 1000000000;
    IT_NATS_OK(js_AddConsumer(&ci, js, "W", &cc, NULL, &jerr));
    assert_string_equal(ci->Name, "d");
    assert_int_equal(ci->NumPending, 10);
    assert_int_equal(ci->NumAckPending, 0);
    assert_int_equal(ci->Config->AckPolicy, js_AckExplicit);
    assert_int_equal(ci->Config->MaxAckPending, 1000);    /* the server's default */
    jsConsumerInfo_Destroy(ci);
    ci = NULL;

    /* a filtered one counts only its subject */
    IT_NATS_OK(jsConsumerConfig_Init(&cc));
    cc.Durable = "even";
    cc.AckPolicy = js_AckExplicit;
    cc.FilterSubject = "w.even";
    IT_NATS_OK(js_AddConsumer(&ci, js, "W", &cc, NULL, &jerr));
    assert_int_equal(ci->NumPending, 5);
    jsConsumerInfo_Destroy(ci);
    ci = NULL;

    /* not found */
    assert_int_not_equal(js_GetConsumerInfo(&ci, js, "W", "nope", NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSConsumerNotFoundErr);
    assert_int_not_equal(js_DeleteConsumer(js, "W", "nope", NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSConsumerNotFoundErr);
    assert_int_not_equal(js_GetConsumerInfo(&ci, js, "NOSTREAM", "d", NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSStreamNotFoundErr);

    /* push-only settings on a pull consumer */
    IT_NATS_OK(jsConsumerConfig_Init(&cc));
    cc.Durable = "bad";
    cc.AckPolicy = js_AckExplicit;
    cc.Heartbeat = 1000LL * 1000000;
    assert_int_not_equal(js_AddConsumer(&ci, js, "W", &cc, NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSConsumerHBRequiresPushErr);
    cc.Heartbeat = 0;
    cc.FlowControl = true;
    assert_int_not_equal(js_AddConsumer(&ci, js, "W", &cc, NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSConsumerFCRequiresPushErr);
    cc.FlowControl = false;
    cc.RateLimit = 8000;
    assert_int_not_equal(js_AddConsumer(&ci, js, "W", &cc, NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSConsumerPullWithRateLimitErr);
    assert_null(ci);

    natsSubscription *sub = NULL;
    IT_NATS_OK(js_PullSubscribe(&sub, js, "w.*", "d", NULL, NULL, &jerr));
    natsMsgList list = {0};
    IT_NATS_OK(natsSubscription_Fetch(&list, sub, 4, 5000, &jerr));
    assert_int_equal(list.Count, 4);
    for (int i = 0; i < 4; i++) {
        jsMsgMetaData *md = meta(list.Msgs[i]);
        assert_int_equal(md->Sequence.Stream, (uint64_t)i + 1);
        assert_int_equal(md->Sequence.Consumer, (uint64_t)i + 1);
        assert_int_equal(md->NumDelivered, 1);
        assert_int_equal(md->NumPending, (uint64_t)(10 - i - 1));
        assert_string_equal(md->Stream, "W");
        assert_string_equal(md->Consumer, "d");
        jsMsgMetaData_Destroy(md);
    }
    ci = consumer_info(js, "W", "d");
    assert_int_equal(ci->NumPending, 6);
    assert_int_equal(ci->NumAckPending, 4);
    assert_int_equal(ci->Delivered.Stream, 4);
    assert_int_equal(ci->Delivered.Consumer, 4);
    assert_int_equal(ci->AckFloor.Stream, 0);
    jsConsumerInfo_Destroy(ci);

    /* 1 acked, 2 nak'd (back at once), 3 terminated, 4 in progress then acked */
    IT_NATS_OK(natsMsg_Ack(list.Msgs[0], NULL));
    IT_NATS_OK(natsMsg_Nak(list.Msgs[1], NULL));
    IT_NATS_OK(natsMsg_Term(list.Msgs[2], NULL));
    IT_NATS_OK(natsMsg_InProgress(list.Msgs[3], NULL));
    IT_NATS_OK(natsMsg_AckSync(list.Msgs[3], NULL, &jerr));
    natsMsgList_Destroy(&list);
    wait_counts(js, "W", "d", 1, 6);    /* only the nak'd one is owed */
    ci = consumer_info(js, "W", "d");
    assert_int_equal(ci->AckFloor.Stream, 1);
    assert_int_equal(ci->AckFloor.Consumer, 1);
    jsConsumerInfo_Destroy(ci);

    /* the nak'd message comes first, delivered a second time */
    IT_NATS_OK(natsSubscription_Fetch(&list, sub, 1, 5000, &jerr));
    assert_int_equal(list.Count, 1);
    jsMsgMetaData *md = meta(list.Msgs[0]);
    assert_int_equal(md->Sequence.Stream, 2);
    assert_int_equal(md->Sequence.Consumer, 5);
    assert_int_equal(md->NumDelivered, 2);
    jsMsgMetaData_Destroy(md);
    ci = consumer_info(js, "W", "d");
    assert_int_equal(ci->NumRedelivered, 1);
    jsConsumerInfo_Destroy(ci);
    IT_NATS_OK(natsMsg_AckSync(list.Msgs[0], NULL, &jerr));
    natsMsgList_Destroy(&list);

    /* the rest, in order */
    int got = 0;
    for (int round = 0; round < 10 && got < 6; round++) {
        IT_NATS_OK(natsSubscription_Fetch(&list, sub, 6 - got, 5000, &jerr));
        for (int i = 0; i < list.Count; i++) {
            md = meta(list.Msgs[i]);
            assert_int_equal(md->Sequence.Stream, (uint64_t)(5 + got));
            jsMsgMetaData_Destroy(md);
            IT_NATS_OK(natsMsg_AckSync(list.Msgs[i], NULL, &jerr));
            got++;
        }
        natsMsgList_Destroy(&list);
    }
    assert_int_equal(got, 6);
    wait_counts(js, "W", "d", 0, 0);
    ci = consumer_info(js, "W", "d");
    assert_int_equal(ci->AckFloor.Stream, 10);
    assert_int_equal(ci->Delivered.Stream, 10);
    assert_int_equal(ci->Delivered.Consumer, 11);
    jsConsumerInfo_Destroy(ci);

    /* nothing left: a fetch times out empty */
    assert_int_equal(natsSubscription_Fetch(&list, sub, 1, 300, &jerr), NATS_TIMEOUT);
    assert_int_equal(list.Count, 0);
    natsMsgList_Destroy(&list);
    natsSubscription_Destroy(sub);

    IT_NATS_OK(js_DeleteConsumer(js, "W", "d", NULL, &jerr));
    assert_int_not_equal(js_GetConsumerInfo(&ci, js, "W", "d", NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSConsumerNotFoundErr);
    jsConsumerNamesList *names = NULL;
    IT_NATS_OK(js_ConsumerNames(&names, js, "W", NULL, &jerr));
    assert_int_equal(names->Count, 1);
    assert_string_equal(names->List[0], "even");
    jsConsumerNamesList_Destroy(names);

    jsCtx_Destroy(js);
    it_nats_close(nc);
    it_ok();
}

typedef struct push_state {
    pthread_mutex_t mu;
    int             count;
    int             out_of_order;
} push_state;

static void on_push(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    push_state *ps = closure;
    jsMsgMetaData *md = NULL;
    natsStatus s = natsMsg_GetMetaData(&md, m);
    pthread_mutex_lock(&ps->mu);
    if (s != NATS_OK || md->Sequence.Stream != (uint64_t)ps->count + 1)
        ps->out_of_order++;
    ps->count++;
    pthread_mutex_unlock(&ps->mu);
    jsMsgMetaData_Destroy(md);
    natsMsg_Destroy(m);    /* auto-ack: the library acks after the callback */
}

static void test_consumers_push(void **state)
{
    (void)state;
    it_server *s = start_js();
    natsConnection *nc = it_nats_connect(s);
    jsCtx *js = it_js_ctx(nc);
    jsErrCode jerr = 0;

    add_stream(js, "PUSH", "push", 0, js_DiscardOld);
    /* 3 MiB: past the flow control window, so it must be answered */
    enum { N = 300, SIZE = 10 * 1024 };
    char *payload = calloc(1, SIZE);
    assert_non_null(payload);
    for (int i = 0; i < N; i++) {
        IT_NATS_OK(js_PublishAsync(js, "push", payload, SIZE, NULL));
    }
    jsPubOptions po;
    IT_NATS_OK(jsPubOptions_Init(&po));
    po.MaxWait = 30000;
    IT_NATS_OK(js_PublishAsyncComplete(js, &po));
    free(payload);
    assert_int_equal(stream_state(js, "PUSH").Msgs, N);

    push_state ps = {.count = 0};
    pthread_mutex_init(&ps.mu, NULL);
    jsSubOptions so;
    IT_NATS_OK(jsSubOptions_Init(&so));
    so.Config.Durable = "pd";
    so.Config.FlowControl = true;
    so.Config.Heartbeat = 1000LL * 1000000;    /* 1 s */
    so.Config.AckPolicy = js_AckExplicit;
    natsSubscription *sub = NULL;
    IT_NATS_OK(js_Subscribe(&sub, js, "push", on_push, &ps, NULL, &so, &jerr));
    int count = 0;
    for (int i = 0; i < 3000 && count < N; i++) {
        pthread_mutex_lock(&ps.mu);
        count = ps.count;
        pthread_mutex_unlock(&ps.mu);
        if (count < N)
            it_sleep_ms(10);
    }
    assert_int_equal(count, N);
    assert_int_equal(ps.out_of_order, 0);
    jsConsumerInfo *ci = consumer_info(js, "PUSH", "pd");
    assert_true(ci->Config->FlowControl);
    assert_int_equal(ci->Config->Heartbeat, 1000LL * 1000000);
    assert_string_not_equal(ci->Config->DeliverSubject, "");
    assert_int_equal(ci->Delivered.Stream, N);
    jsConsumerInfo_Destroy(ci);
    wait_counts(js, "PUSH", "pd", 0, 0);    /* every auto-ack arrived */
    IT_NATS_OK(natsSubscription_Unsubscribe(sub));
    natsSubscription_Destroy(sub);
    pthread_mutex_destroy(&ps.mu);

    /* sync push, manual acks */
    add_stream(js, "SY", "sy.*", 0, js_DiscardOld);
    for (int i = 0; i < 5; i++)
        publish(js, i < 3 ? "sy.a" : "sy.b", "s", NULL);
    IT_NATS_OK(jsSubOptions_Init(&so));
    so.Config.Durable = "sd";
    so.Config.AckPolicy = js_AckExplicit;
    so.ManualAck = true;
    IT_NATS_OK(js_SubscribeSync(&sub, js, "sy.a", NULL, &so, &jerr));
    for (int i = 1; i <= 3; i++) {
        natsMsg *m = it_nats_next(sub);
        jsMsgMetaData *md = meta(m);
        assert_int_equal(md->Sequence.Stream, (uint64_t)i);
        assert_string_equal(natsMsg_GetSubject(m), "sy.a");
        jsMsgMetaData_Destroy(md);
        IT_NATS_OK(natsMsg_AckSync(m, NULL, &jerr));
        natsMsg_Destroy(m);
    }
    ci = consumer_info(js, "SY", "sd");
    assert_string_equal(ci->Config->FilterSubject, "sy.a");
    assert_int_equal(ci->NumAckPending, 0);
    assert_int_equal(ci->NumPending, 0);
    /* the filter matches nothing after 3: the consumer has looked past 5 */
    assert_int_equal(ci->AckFloor.Consumer, 3);
    assert_int_equal(ci->AckFloor.Stream, 5);
    assert_int_equal(ci->Delivered.Stream, 5);
    jsConsumerInfo_Destroy(ci);
    natsSubscription_Destroy(sub);

    /* idle heartbeats as a plain subscriber sees them: status 100 on the
     * deliver subject of a push consumer with nothing to deliver */
    jsConsumerConfig cc;
    jsConsumerInfo *hci = NULL;
    natsSubscription *raw = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&raw, nc, "hb.in"));
    IT_NATS_OK(jsConsumerConfig_Init(&cc));
    cc.Durable = "hb";
    cc.DeliverSubject = "hb.in";
    cc.DeliverPolicy = js_DeliverNew;
    cc.Heartbeat = 100LL * 1000000;    /* 100 ms, the smallest allowed */
    IT_NATS_OK(js_AddConsumer(&hci, js, "SY", &cc, NULL, &jerr));
    jsConsumerInfo_Destroy(hci);
    natsMsg *hb = it_nats_next(raw);
    const char *status = NULL, *desc = NULL;
    IT_NATS_OK(natsMsgHeader_Get(hb, "Status", &status));
    assert_string_equal(status, "100");
    IT_NATS_OK(natsMsgHeader_Get(hb, "Description", &desc));
    assert_string_equal(desc, "Idle Heartbeat");
    assert_int_equal(natsMsg_GetDataLength(hb), 0);
    natsMsg_Destroy(hb);
    natsSubscription_Destroy(raw);
    cc.Heartbeat = 50LL * 1000000;    /* too small: 10083 */
    cc.Durable = "hb2";
    assert_int_not_equal(js_AddConsumer(&hci, js, "SY", &cc, NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSConsumerSmallHeartbeatErr);

    /* ordered consumer: everything, in order, nothing to ack */
    IT_NATS_OK(jsSubOptions_Init(&so));
    so.Ordered = true;
    IT_NATS_OK(js_SubscribeSync(&sub, js, "sy.*", NULL, &so, &jerr));
    for (int i = 1; i <= 5; i++) {
        natsMsg *m = it_nats_next(sub);
        jsMsgMetaData *md = meta(m);
        assert_int_equal(md->Sequence.Stream, (uint64_t)i);
        assert_int_equal(md->Sequence.Consumer, (uint64_t)i);
        jsMsgMetaData_Destroy(md);
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);

    jsCtx_Destroy(js);
    it_nats_close(nc);
    it_ok();
}

/* ---- KV ---- */

static kvEntry *kv_get(kvStore *kv, const char *key)
{
    kvEntry *e = NULL;
    IT_NATS_OK(kvStore_Get(&e, kv, key));
    return e;
}

static void test_kv(void **state)
{
    (void)state;
    it_server *s = start_js();
    natsConnection *nc = it_nats_connect(s);
    jsCtx *js = it_js_ctx(nc);
    jsErrCode jerr = 0;

    kvConfig kc;
    kvStore *kv = NULL;
    IT_NATS_OK(kvConfig_Init(&kc));
    kc.Bucket = "CFG";
    kc.History = 3;
    IT_NATS_OK(js_CreateKeyValue(&kv, js, &kc));
    assert_string_equal(kvStore_Bucket(kv), "CFG");

    uint64_t rev = 0;
    IT_NATS_OK(kvStore_PutString(&rev, kv, "a", "1"));
    assert_int_equal(rev, 1);
    kvEntry *e = kv_get(kv, "a");
    assert_string_equal(kvEntry_Key(e), "a");
    assert_string_equal(kvEntry_ValueString(e), "1");
    assert_int_equal(kvEntry_Revision(e), 1);
    assert_int_equal(kvEntry_Operation(e), kvOp_Put);
    kvEntry_Destroy(e);

    /* create: only when the key has no value */
    assert_int_not_equal(kvStore_CreateString(&rev, kv, "a", "x"), NATS_OK);
    if (!strstr(nats_GetLastError(NULL), "wrong last sequence"))
        fail_msg("create of an existing key: %s", nats_GetLastError(NULL));
    /* what the KV calls send underneath, with its err_code */
    jsPubOptions po;
    IT_NATS_OK(jsPubOptions_Init(&po));
    po.ExpectNoMessage = true;
    publish_refused(js, "$KV.CFG.a", &po, JSStreamWrongLastSequenceErr);
    IT_NATS_OK(kvStore_CreateString(&rev, kv, "b", "2"));
    assert_int_equal(rev, 2);

    /* update: only from the revision given */
    IT_NATS_OK(kvStore_UpdateString(&rev, kv, "a", "1b", 1));
    assert_int_equal(rev, 3);
    assert_int_not_equal(kvStore_UpdateString(&rev, kv, "a", "1c", 1), NATS_OK);
    if (!strstr(nats_GetLastError(NULL), "wrong last sequence"))
        fail_msg("update from an old revision: %s", nats_GetLastError(NULL));
    e = kv_get(kv, "a");
    assert_string_equal(kvEntry_ValueString(e), "1b");
    kvEntry_Destroy(e);

    /* history keeps the last 3 of a key */
    IT_NATS_OK(kvStore_PutString(&rev, kv, "a", "1d"));
    IT_NATS_OK(kvStore_PutString(&rev, kv, "a", "1e"));
    assert_int_equal(rev, 5);
    kvEntryList hist = {0};
    IT_NATS_OK(kvStore_History(&hist, kv, "a", NULL));
    assert_int_equal(hist.Count, 3);
    assert_string_equal(kvEntry_ValueString(hist.Entries[0]), "1b");
    assert_int_equal(kvEntry_Revision(hist.Entries[0]), 3);
    assert_string_equal(kvEntry_ValueString(hist.Entries[2]), "1e");
    kvEntryList_Destroy(&hist);
    kvEntry *old = NULL;
    IT_NATS_OK(kvStore_GetRevision(&old, kv, "a", 4));
    assert_string_equal(kvEntry_ValueString(old), "1d");
    kvEntry_Destroy(old);
    old = NULL;
    assert_int_equal(kvStore_GetRevision(&old, kv, "a", 1), NATS_NOT_FOUND);

    /* delete: gone for Get and Keys, a marker in the history; create again */
    IT_NATS_OK(kvStore_Delete(kv, "b"));
    e = NULL;
    assert_int_equal(kvStore_Get(&e, kv, "b"), NATS_NOT_FOUND);
    kvKeysList keys = {0};
    IT_NATS_OK(kvStore_Keys(&keys, kv, NULL));
    assert_int_equal(keys.Count, 1);
    assert_string_equal(keys.Keys[0], "a");
    kvKeysList_Destroy(&keys);
    IT_NATS_OK(kvStore_History(&hist, kv, "b", NULL));
    assert_int_equal(hist.Count, 2);
    assert_int_equal(kvEntry_Operation(hist.Entries[1]), kvOp_Delete);
    kvEntryList_Destroy(&hist);
    IT_NATS_OK(kvStore_CreateString(&rev, kv, "b", "again"));
    assert_int_equal(rev, 7);

    /* purge: one marker is all the history left */
    IT_NATS_OK(kvStore_Purge(kv, "a", NULL));
    assert_int_equal(kvStore_Get(&e, kv, "a"), NATS_NOT_FOUND);
    IT_NATS_OK(kvStore_History(&hist, kv, "a", NULL));
    assert_int_equal(hist.Count, 1);
    assert_int_equal(kvEntry_Operation(hist.Entries[0]), kvOp_Purge);
    kvEntryList_Destroy(&hist);

    /* watch: the current value, the end of the initial values, then updates */
    kvWatcher *w = NULL;
    IT_NATS_OK(kvStore_PutString(&rev, kv, "w.1", "first"));
    IT_NATS_OK(kvStore_Watch(&w, kv, "w.*", NULL));
    IT_NATS_OK(kvWatcher_Next(&e, w, 5000));
    assert_non_null(e);
    assert_string_equal(kvEntry_Key(e), "w.1");
    assert_string_equal(kvEntry_ValueString(e), "first");
    kvEntry_Destroy(e);
    IT_NATS_OK(kvWatcher_Next(&e, w, 5000));
    assert_null(e);    /* initial values done */
    IT_NATS_OK(kvStore_PutString(&rev, kv, "other", "not watched"));
    IT_NATS_OK(kvStore_PutString(&rev, kv, "w.2", "second"));
    IT_NATS_OK(kvStore_Delete(kv, "w.1"));
    IT_NATS_OK(kvWatcher_Next(&e, w, 5000));
    assert_string_equal(kvEntry_Key(e), "w.2");
    assert_string_equal(kvEntry_ValueString(e), "second");
    assert_int_equal(kvEntry_Operation(e), kvOp_Put);
    kvEntry_Destroy(e);
    IT_NATS_OK(kvWatcher_Next(&e, w, 5000));
    assert_string_equal(kvEntry_Key(e), "w.1");
    assert_int_equal(kvEntry_Operation(e), kvOp_Delete);
    kvEntry_Destroy(e);
    IT_NATS_OK(kvWatcher_Stop(w));
    kvWatcher_Destroy(w);

    kvStatus *st = NULL;
    IT_NATS_OK(kvStore_Status(&st, kv));
    assert_string_equal(kvStatus_Bucket(st), "CFG");
    assert_int_equal(kvStatus_History(st), 3);
    /* a: purge marker; b: 3 entries; w.1: 2; w.2 and other: 1 each */
    assert_int_equal(kvStatus_Values(st), 8);
    kvStatus_Destroy(st);

    /* the bucket is a stream named KV_CFG */
    jsStreamInfo *si = NULL;
    IT_NATS_OK(js_GetStreamInfo(&si, js, "KV_CFG", NULL, &jerr));
    assert_int_equal(si->Config->MaxMsgsPerSubject, 3);
    assert_true(si->Config->AllowRollup);
    assert_true(si->Config->DenyDelete);
    jsStreamInfo_Destroy(si);

    kvStore_Destroy(kv);
    IT_NATS_OK(js_DeleteKeyValue(js, "CFG"));
    kv = NULL;
    assert_int_not_equal(js_KeyValue(&kv, js, "CFG"), NATS_OK);
    assert_null(kv);

    jsCtx_Destroy(js);
    it_nats_close(nc);
    it_ok();
}

int main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_streams, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_publish_expectations, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_consumers_pull, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_consumers_push, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_kv, it_setup, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
