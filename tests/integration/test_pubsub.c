/*
 * test_pubsub.c - core messaging through libnats against a real server:
 * publish/subscribe, wildcards, queue groups, request/reply, headers,
 * no_responders, echo off, auto-unsubscribe, a 1 MiB payload and many
 * subjects.
 *
 * Exactness trick used throughout: a connection that publishes and then
 * flushes gets its PONG only after the server has routed every message it
 * sent; flushing a subscriber's connection afterwards puts every message
 * for it in the subscription's queue.  So counts checked after the flushes
 * are exact, with no sleeps.
 */
#include "itnats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Plain pub/sub, across two connections, in order. */
static void test_pubsub_basic(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    natsConnection *sc = it_nats_connect(s), *pc = it_nats_connect(s);
    natsSubscription *sub = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, sc, "greet"));
    IT_NATS_OK(natsConnection_Flush(sc));

    for (int i = 0; i < 100; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "hello %d", i);
        IT_NATS_OK(natsConnection_PublishString(pc, "greet", buf));
    }
    IT_NATS_OK(natsConnection_Flush(pc));
    for (int i = 0; i < 100; i++) {
        natsMsg *m = it_nats_next(sub);
        char want[32];
        snprintf(want, sizeof want, "hello %d", i);
        assert_string_equal(natsMsg_GetSubject(m), "greet");
        assert_int_equal(natsMsg_GetDataLength(m), (int)strlen(want));
        assert_memory_equal(natsMsg_GetData(m), want, strlen(want));
        natsMsg_Destroy(m);
    }
    IT_NATS_OK(natsConnection_Flush(sc));
    assert_int_equal(it_nats_pending(sub), 0);

    /* An empty payload is a message too. */
    IT_NATS_OK(natsConnection_Publish(pc, "greet", NULL, 0));
    natsMsg *m = it_nats_next(sub);
    assert_int_equal(natsMsg_GetDataLength(m), 0);
    natsMsg_Destroy(m);

    natsSubscription_Destroy(sub);
    it_nats_close(sc);
    it_nats_close(pc);
    it_ok();
}

/* '*' matches one token, '>' one or more; literal subjects match exactly. */
static void test_wildcards(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    natsConnection *nc = it_nats_connect(s);
    static const char *subs[] = { "foo.*", "foo.>", ">", "foo.bar", "*.bar", "foo.*.baz", "*" };
    /* expected count per subscription for the publishes below */
    static const char *pubs[] = { "foo.bar", "foo.bar.baz", "foo", "bar", "x.bar", "foo.x.baz", "foo.bar.qux" };
    static const int want[] = {
        /* foo.*     */ 1,  /* foo.bar */
        /* foo.>     */ 4,  /* foo.bar foo.bar.baz foo.x.baz foo.bar.qux */
        /* >         */ 7,
        /* foo.bar   */ 1,
        /* *.bar     */ 2,  /* foo.bar x.bar */
        /* foo.*.baz */ 2,  /* foo.bar.baz foo.x.baz */
        /* *         */ 2,  /* foo bar */
    };
    enum { NS = sizeof subs / sizeof subs[0], NP = sizeof pubs / sizeof pubs[0] };
    natsSubscription *sub[NS];
    for (int i = 0; i < NS; i++)
        IT_NATS_OK(natsConnection_SubscribeSync(&sub[i], nc, subs[i]));
    for (int i = 0; i < NP; i++)
        IT_NATS_OK(natsConnection_PublishString(nc, pubs[i], pubs[i]));
    IT_NATS_OK(natsConnection_Flush(nc));
    for (int i = 0; i < NS; i++) {
        int got = it_nats_pending(sub[i]);
        if (got != want[i])
            fail_msg("subscription %s got %d messages, want %d", subs[i], got, want[i]);
        /* each delivered message carries the subject it was published on */
        for (int k = 0; k < got; k++) {
            natsMsg *m = it_nats_next(sub[i]);
            assert_int_equal(natsMsg_GetDataLength(m), (int)strlen(natsMsg_GetSubject(m)));
            assert_memory_equal(natsMsg_GetData(m), natsMsg_GetSubject(m), strlen(natsMsg_GetSubject(m)));
            natsMsg_Destroy(m);
        }
        natsSubscription_Destroy(sub[i]);
    }
    it_nats_close(nc);
    it_ok();
}

/* A queue group delivers each message to exactly one member, while a plain
 * subscriber on the same subject still gets every message. */
static void test_queue_groups(void **state)
{
    enum { MEMBERS = 3, N = 1000 };
    it_server *s = it_server_start(NULL, NULL);
    natsConnection *mc[MEMBERS], *pc = it_nats_connect(s), *plainc = it_nats_connect(s);
    natsSubscription *msub[MEMBERS], *plain = NULL, *other = NULL;
    for (int i = 0; i < MEMBERS; i++) {
        mc[i] = it_nats_connect(s);
        IT_NATS_OK(natsConnection_QueueSubscribeSync(&msub[i], mc[i], "jobs", "workers"));
        IT_NATS_OK(natsSubscription_SetPendingLimits(msub[i], -1, -1));
        IT_NATS_OK(natsConnection_Flush(mc[i]));
    }
    IT_NATS_OK(natsConnection_SubscribeSync(&plain, plainc, "jobs"));
    /* a second group gets its own full copy */
    IT_NATS_OK(natsConnection_QueueSubscribeSync(&other, plainc, "jobs", "auditors"));
    IT_NATS_OK(natsSubscription_SetPendingLimits(plain, -1, -1));
    IT_NATS_OK(natsSubscription_SetPendingLimits(other, -1, -1));
    IT_NATS_OK(natsConnection_Flush(plainc));

    for (int i = 0; i < N; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", i);
        IT_NATS_OK(natsConnection_PublishString(pc, "jobs", buf));
    }
    IT_NATS_OK(natsConnection_Flush(pc));

    int *seen = calloc(N, sizeof *seen);
    int total = 0;
    for (int i = 0; i < MEMBERS; i++) {
        IT_NATS_OK(natsConnection_Flush(mc[i]));
        int n = it_nats_pending(msub[i]);
        if (n == 0)
            fail_msg("queue member %d got no message out of %d", i, N);
        for (int k = 0; k < n; k++) {
            natsMsg *m = it_nats_next(msub[i]);
            int seq = atoi(natsMsg_GetData(m));
            assert_in_range(seq, 0, N - 1);
            seen[seq]++;
            natsMsg_Destroy(m);
        }
        total += n;
    }
    for (int i = 0; i < N; i++)
        if (seen[i] != 1)
            fail_msg("message %d delivered %d times to the queue group", i, seen[i]);
    assert_int_equal(total, N);
    free(seen);

    IT_NATS_OK(natsConnection_Flush(plainc));
    assert_int_equal(it_nats_pending(plain), N);
    assert_int_equal(it_nats_pending(other), N);

    for (int i = 0; i < MEMBERS; i++) {
        natsSubscription_Destroy(msub[i]);
        it_nats_close(mc[i]);
    }
    natsSubscription_Destroy(plain);
    natsSubscription_Destroy(other);
    it_nats_close(plainc);
    it_nats_close(pc);
    it_ok();
}

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    char buf[256];
    snprintf(buf, sizeof buf, "re:%.*s", natsMsg_GetDataLength(msg), natsMsg_GetData(msg));
    natsConnection_PublishString(nc, natsMsg_GetReply(msg), buf);
    natsMsg_Destroy(msg);
}

/* Requests get their own reply, from a responder on another connection. */
static void test_request_reply(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    natsConnection *rc = it_nats_connect(s), *nc = it_nats_connect(s);
    natsSubscription *rsub = NULL;
    IT_NATS_OK(natsConnection_Subscribe(&rsub, rc, "svc.echo", on_request, NULL));
    IT_NATS_OK(natsConnection_Flush(rc));
    for (int i = 0; i < 50; i++) {
        char req[32], want[40];
        snprintf(req, sizeof req, "ping-%d", i);
        snprintf(want, sizeof want, "re:%s", req);
        natsMsg *reply = NULL;
        IT_NATS_OK(natsConnection_RequestString(&reply, nc, "svc.echo", req, 5000));
        assert_int_equal(natsMsg_GetDataLength(reply), (int)strlen(want));
        assert_memory_equal(natsMsg_GetData(reply), want, strlen(want));
        natsMsg_Destroy(reply);
    }
    /* An explicit reply subject reaches a plain subscription too. */
    natsSubscription *inbox = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&inbox, nc, "my.inbox"));
    IT_NATS_OK(natsConnection_PublishRequestString(nc, "svc.echo", "my.inbox", "x"));
    natsMsg *m = it_nats_next(inbox);
    assert_string_equal(natsMsg_GetSubject(m), "my.inbox");
    assert_memory_equal(natsMsg_GetData(m), "re:x", 4);
    natsMsg_Destroy(m);

    natsSubscription_Destroy(inbox);
    natsSubscription_Destroy(rsub);
    it_nats_close(nc);
    it_nats_close(rc);
    it_ok();
}

/* Headers survive the trip: single and multi-valued keys, and payload. */
static void test_headers(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    natsConnection *sc = it_nats_connect(s), *pc = it_nats_connect(s);
    natsSubscription *sub = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, sc, "hdr.test"));
    IT_NATS_OK(natsConnection_Flush(sc));

    natsMsg *out = NULL;
    IT_NATS_OK(natsMsg_Create(&out, "hdr.test", NULL, "body", 4));
    IT_NATS_OK(natsMsgHeader_Set(out, "X-Trace", "abc-123"));
    IT_NATS_OK(natsMsgHeader_Set(out, "X-Multi", "one"));
    IT_NATS_OK(natsMsgHeader_Add(out, "X-Multi", "two"));
    IT_NATS_OK(natsConnection_PublishMsg(pc, out));
    natsMsg_Destroy(out);
    /* a header-only message (empty body) */
    IT_NATS_OK(natsMsg_Create(&out, "hdr.test", NULL, NULL, 0));
    IT_NATS_OK(natsMsgHeader_Set(out, "Only", "header"));
    IT_NATS_OK(natsConnection_PublishMsg(pc, out));
    natsMsg_Destroy(out);
    IT_NATS_OK(natsConnection_Flush(pc));

    natsMsg *in = it_nats_next(sub);
    const char *v = NULL;
    IT_NATS_OK(natsMsgHeader_Get(in, "X-Trace", &v));
    assert_string_equal(v, "abc-123");
    const char **vals = NULL;
    int count = 0;
    IT_NATS_OK(natsMsgHeader_Values(in, "X-Multi", &vals, &count));
    assert_int_equal(count, 2);
    assert_string_equal(vals[0], "one");
    assert_string_equal(vals[1], "two");
    free((void *)vals);
    assert_int_equal(natsMsg_GetDataLength(in), 4);
    assert_memory_equal(natsMsg_GetData(in), "body", 4);
    natsMsg_Destroy(in);

    in = it_nats_next(sub);
    IT_NATS_OK(natsMsgHeader_Get(in, "Only", &v));
    assert_string_equal(v, "header");
    assert_int_equal(natsMsg_GetDataLength(in), 0);
    natsMsg_Destroy(in);

    natsSubscription_Destroy(sub);
    it_nats_close(sc);
    it_nats_close(pc);
    it_ok();
}

/* A request nobody listens to fails with NATS_NO_RESPONDERS, not a timeout. */
static void test_no_responders(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    natsConnection *nc = it_nats_connect(s);
    natsMsg *reply = NULL;
    natsStatus st = natsConnection_RequestString(&reply, nc, "nobody.home", "hi", 10000);
    if (st != NATS_NO_RESPONDERS)
        fail_msg("request without responders: got %s, want NATS_NO_RESPONDERS", natsStatus_GetText(st));
    assert_null(reply);
    /* and the connection is still fine afterwards */
    IT_NATS_OK(natsConnection_Flush(nc));
    it_nats_close(nc);
    it_ok();
}

/* With no_echo a connection does not get its own messages, others do. */
static void test_echo_off(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetNoEcho(o, true));
    natsConnection *quiet = it_nats_connect_opts(o), *other = it_nats_connect(s);
    natsSubscription *qs = NULL, *os = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&qs, quiet, "echo.t"));
    IT_NATS_OK(natsConnection_SubscribeSync(&os, other, "echo.t"));
    IT_NATS_OK(natsConnection_Flush(quiet));
    IT_NATS_OK(natsConnection_Flush(other));

    IT_NATS_OK(natsConnection_PublishString(quiet, "echo.t", "from quiet"));
    IT_NATS_OK(natsConnection_Flush(quiet));
    IT_NATS_OK(natsConnection_Flush(other));
    assert_int_equal(it_nats_pending(os), 1);
    assert_int_equal(it_nats_pending(qs), 0);

    IT_NATS_OK(natsConnection_PublishString(other, "echo.t", "from other"));
    IT_NATS_OK(natsConnection_Flush(other));
    IT_NATS_OK(natsConnection_Flush(quiet));
    assert_int_equal(it_nats_pending(qs), 1);
    assert_int_equal(it_nats_pending(os), 2);   /* echo is on for `other` */

    natsSubscription_Destroy(qs);
    natsSubscription_Destroy(os);
    it_nats_close(quiet);
    it_nats_close(other);
    it_ok();
}

/* AutoUnsubscribe(n) delivers exactly n messages; unsubscribe stops delivery. */
static void test_auto_unsub(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    natsConnection *nc = it_nats_connect(s), *pc = it_nats_connect(s);
    natsSubscription *sub = NULL, *gone = NULL, *witness = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, nc, "au"));
    IT_NATS_OK(natsSubscription_AutoUnsubscribe(sub, 5));
    IT_NATS_OK(natsConnection_SubscribeSync(&gone, nc, "au"));
    IT_NATS_OK(natsConnection_SubscribeSync(&witness, nc, "au"));
    IT_NATS_OK(natsConnection_Flush(nc));
    IT_NATS_OK(natsSubscription_Unsubscribe(gone));
    IT_NATS_OK(natsConnection_Flush(nc));

    for (int i = 0; i < 10; i++)
        IT_NATS_OK(natsConnection_PublishString(pc, "au", "m"));
    IT_NATS_OK(natsConnection_Flush(pc));
    IT_NATS_OK(natsConnection_Flush(nc));

    int got = 0;
    natsMsg *m = NULL;
    while (natsSubscription_NextMsg(&m, sub, 200) == NATS_OK) {
        got++;
        natsMsg_Destroy(m);
    }
    assert_int_equal(got, 5);
    assert_int_equal(it_nats_pending(witness), 10);
    assert_false(natsSubscription_IsValid(gone));

    natsSubscription_Destroy(sub);
    natsSubscription_Destroy(gone);
    natsSubscription_Destroy(witness);
    it_nats_close(nc);
    it_nats_close(pc);
    it_ok();
}

/* The default max_payload (1 MiB) is accepted whole and arrives intact. */
static void test_large_payload(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    natsConnection *sc = it_nats_connect(s), *pc = it_nats_connect(s);
    int64_t maxp = natsConnection_GetMaxPayload(pc);
    assert_int_equal(maxp, 1024 * 1024);
    size_t len = (size_t)maxp;
    char *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (char)(i * 7 + (i >> 13));
    natsSubscription *sub = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, sc, "big"));
    IT_NATS_OK(natsSubscription_SetPendingLimits(sub, -1, -1));
    IT_NATS_OK(natsConnection_Flush(sc));
    for (int i = 0; i < 3; i++)
        IT_NATS_OK(natsConnection_Publish(pc, "big", data, (int)len));
    IT_NATS_OK(natsConnection_Flush(pc));
    for (int i = 0; i < 3; i++) {
        natsMsg *m = it_nats_next(sub);
        assert_int_equal(natsMsg_GetDataLength(m), (int)len);
        assert_memory_equal(natsMsg_GetData(m), data, len);
        natsMsg_Destroy(m);
    }
    free(data);
    natsSubscription_Destroy(sub);
    it_nats_close(sc);
    it_nats_close(pc);
    it_ok();
}

/* Many distinct subjects: each subscription gets exactly its own message. */
static void test_many_subjects(void **state)
{
    enum { N = 2000 };
    it_server *s = it_server_start(NULL, NULL);
    natsConnection *sc = it_nats_connect(s), *pc = it_nats_connect(s);
    natsSubscription **subs = calloc(N, sizeof *subs);
    char subj[64];
    for (int i = 0; i < N; i++) {
        snprintf(subj, sizeof subj, "many.%d.x", i);
        IT_NATS_OK(natsConnection_SubscribeSync(&subs[i], sc, subj));
    }
    IT_NATS_OK(natsConnection_Flush(sc));
    for (int i = 0; i < N; i++) {
        snprintf(subj, sizeof subj, "many.%d.x", i);
        IT_NATS_OK(natsConnection_PublishString(pc, subj, subj));
    }
    IT_NATS_OK(natsConnection_Flush(pc));
    IT_NATS_OK(natsConnection_Flush(sc));
    for (int i = 0; i < N; i++) {
        snprintf(subj, sizeof subj, "many.%d.x", i);
        if (it_nats_pending(subs[i]) != 1)
            fail_msg("subscription %s holds %d messages, want 1", subj, it_nats_pending(subs[i]));
        natsMsg *m = it_nats_next(subs[i]);
        assert_string_equal(natsMsg_GetSubject(m), subj);
        natsMsg_Destroy(m);
        natsSubscription_Destroy(subs[i]);
    }
    free(subs);
    it_nats_close(sc);
    it_nats_close(pc);
    it_ok();
}

int main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pubsub_basic, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_wildcards, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_queue_groups, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_request_reply, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_headers, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_no_responders, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_echo_off, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_auto_unsub, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_large_payload, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_many_subjects, it_setup, it_teardown),
    };
    int rc = cmocka_run_group_tests_name("integration.pubsub", tests, NULL, NULL);
    nats_Close();
    return rc;
}
