/*
 * test_lifecycle.c - the server process over time: a clean SIGTERM
 * shutdown, SIGHUP config reload, lame-duck mode (SIGUSR2), and a libnats
 * client resuming its subscription after the server restarts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "itnats.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_PROTO1 "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1,\"headers\":true}\r\n"

static void expect(it_raw *r, const char *needle, int ms)
{
    if (!it_raw_expect(r, needle, ms)) {
        it_raw_dump(r, "raw connection");
        fail_msg("expected \"%s\" from the server", needle);
    }
}

/* SIGTERM: connections are closed and the process exits cleanly. */
static void test_sigterm(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, CONNECT_PROTO1 "SUB x 1\r\nPING\r\n");
    expect(r, "PONG\r\n", 5000);
    it_server_signal(s, SIGTERM);
    if (!it_server_wait_exit(s, 10000))
        fail_msg("server still running 10 s after SIGTERM");
    assert_true(it_server_exit_clean(s));
    assert_true(it_raw_wait_closed(r, 5000));
    assert_false(it_port_accepting(s->port));
    it_raw_close(r);
    it_ok();
}

/* Wait until a new connection's INFO says max_payload == want. */
static bool info_max_payload_becomes(it_server *s, long want, int ms)
{
    char needle[64];
    snprintf(needle, sizeof needle, "\"max_payload\":%ld,", want);
    long long end = it_now_ms() + ms;
    do {
        it_raw *r = it_raw_open(s->port, 0);
        bool ok = strstr(it_raw_info(r), needle) != NULL;
        it_raw_close(r);
        if (ok)
            return true;
        it_sleep_ms(20);
    } while (it_now_ms() < end);
    return false;
}

/* SIGHUP re-reads the config file: a new max_payload shows in new INFOs
 * and is enforced; a broken file is refused and the old settings stay. */
static void test_sighup_reload(void **state)
{
    it_server *s = it_server_start("max_payload = 4096;\ndebug = false;\n", NULL);
    assert_true(info_max_payload_becomes(s, 4096, 0));

    it_server_rewrite_conf(s, "max_payload = 2048;\ndebug = true;\n");
    it_server_signal(s, SIGHUP);
    if (!info_max_payload_becomes(s, 2048, 10000))
        fail_msg("max_payload 2048 not in INFO after SIGHUP");

    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, CONNECT_PROTO1 "PUB big 3000\r\n");
    expect(r, "-ERR 'Maximum Payload Violation'", 5000);
    it_raw_close(r);

    /* a broken file: the server survives and keeps 2048 */
    it_server_rewrite_conf(s, "max_payload = ;;; {\n");
    it_server_signal(s, SIGHUP);
    long long end = it_now_ms() + 500;
    while (it_now_ms() < end) {
        if (it_server_wait_exit(s, 0))
            fail_msg("server exited after reloading a broken config");
        assert_true(info_max_payload_becomes(s, 2048, 0));
    }
    /* and a good one after it is applied */
    it_server_rewrite_conf(s, "max_payload = 1024;\n");
    it_server_signal(s, SIGHUP);
    if (!info_max_payload_becomes(s, 1024, 10000))
        fail_msg("max_payload 1024 not in INFO after the second good reload");
    it_ok();
}

static atomic_int g_ldm_cb;
static void on_ldm(natsConnection *nc, void *closure) { atomic_fetch_add(&g_ldm_cb, 1); }

/* SIGUSR2: proto-1 clients get INFO with "ldm":true, new connections are
 * refused, existing ones are closed, then the server exits cleanly.
 * (nats-server requires lame_duck_duration >= 30s; the grace period is
 * what keeps this test short.) */
static void test_lame_duck(void **state)
{
    it_server *s = it_server_start("lame_duck_duration = \"30s\";\n"
                                   "lame_duck_grace_period = \"1s\";\n", NULL);
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, CONNECT_PROTO1 "PING\r\n");
    expect(r, "PONG\r\n", 5000);

    atomic_store(&g_ldm_cb, 0);
    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetLameDuckModeCB(o, on_ldm, NULL));
    natsConnection *nc = it_nats_connect_opts(o);

    it_server_signal(s, SIGUSR2);
    expect(r, "INFO ", 5000);
    size_t from = r->pos;
    expect(r, "\r\n", 5000);
    if (!memmem(r->buf + from, r->pos - from, "\"ldm\":true", 10)) {
        it_raw_dump(r, "raw connection");
        fail_msg("async INFO after SIGUSR2 lacks \"ldm\":true");
    }

    /* no new clients */
    long long end = it_now_ms() + 5000;
    while (it_port_accepting(s->port) && it_now_ms() < end)
        it_sleep_ms(20);
    assert_false(it_port_accepting(s->port));

    /* the libnats client heard about it */
    end = it_now_ms() + 5000;
    while (atomic_load(&g_ldm_cb) == 0 && it_now_ms() < end)
        it_sleep_ms(10);
    assert_int_equal(atomic_load(&g_ldm_cb), 1);

    /* existing clients are closed well within the duration, then exit */
    if (!it_raw_wait_closed(r, 35000))
        fail_msg("client not closed during lame duck");
    if (!it_server_wait_exit(s, 35000))
        fail_msg("server did not exit at the end of lame duck mode");
    if (!it_server_exit_clean(s))
        fail_msg("server exit after lame duck was not clean");
    it_raw_close(r);
    it_nats_close(nc);
    it_ok();
}

static atomic_int g_reconnects, g_disconnects;
static void on_reconnect(natsConnection *nc, void *closure) { atomic_fetch_add(&g_reconnects, 1); }
static void on_disconnect(natsConnection *nc, void *closure) { atomic_fetch_add(&g_disconnects, 1); }

/* A client with reconnect enabled rides out a server restart on the same
 * port, and its subscription is restored. */
static void test_reconnect_after_restart(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    atomic_store(&g_reconnects, 0);
    atomic_store(&g_disconnects, 0);
    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetAllowReconnect(o, true));
    IT_NATS_OK(natsOptions_SetMaxReconnect(o, 1000));
    IT_NATS_OK(natsOptions_SetReconnectWait(o, 50));
    IT_NATS_OK(natsOptions_SetReconnectJitter(o, 0, 0));
    IT_NATS_OK(natsOptions_SetReconnectedCB(o, on_reconnect, NULL));
    IT_NATS_OK(natsOptions_SetDisconnectedCB(o, on_disconnect, NULL));
    natsConnection *nc = it_nats_connect_opts(o);
    natsSubscription *sub = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, nc, "survive"));
    IT_NATS_OK(natsConnection_PublishString(nc, "survive", "before"));
    natsMsg *m = it_nats_next(sub);
    natsMsg_Destroy(m);

    if (!it_server_stop(s))
        fail_msg("server did not stop cleanly");
    long long end = it_now_ms() + 10000;
    while (atomic_load(&g_disconnects) == 0 && it_now_ms() < end)
        it_sleep_ms(10);
    assert_int_equal(atomic_load(&g_disconnects), 1);

    it_server_restart(s);
    end = it_now_ms() + 15000;
    while (atomic_load(&g_reconnects) == 0 && it_now_ms() < end)
        it_sleep_ms(10);
    if (atomic_load(&g_reconnects) != 1)
        fail_msg("client reconnected %d times, want 1", atomic_load(&g_reconnects));
    IT_NATS_OK(natsConnection_Flush(nc));   /* the SUB is re-registered */

    natsConnection *pc = it_nats_connect(s);
    for (int i = 0; i < 10; i++)
        IT_NATS_OK(natsConnection_PublishString(pc, "survive", "after"));
    IT_NATS_OK(natsConnection_Flush(pc));
    IT_NATS_OK(natsConnection_Flush(nc));
    assert_int_equal(it_nats_pending(sub), 10);
    for (int i = 0; i < 10; i++) {
        m = it_nats_next(sub);
        assert_memory_equal(natsMsg_GetData(m), "after", 5);
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
    it_nats_close(pc);
    it_nats_close(nc);
    it_ok();
}

int main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sigterm, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_sighup_reload, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_lame_duck, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_after_restart, it_setup, it_teardown),
    };
    int rc = cmocka_run_group_tests_name("integration.lifecycle", tests, NULL, NULL);
    nats_Close();
    return rc;
}
