/*
 * test_timers.c - timers (module timers, every 100 ms, 3 ticks):
 *
 *  timers_periodic: a periodic timer's ticks (from 600 ms after start) reach a client in order,
 *    spaced by the period, on an I/O worker (not the main thread); it
 *    cancels itself from inside its callback after 3 and never ticks again;
 *    a one-shot timer fires exactly once.
 *  timers_cancel: a one-shot timer armed for 400 ms fires when left alone,
 *    and never fires when cancelled first (from another thread).
 */
#include "abi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *CONF =
    "io_threads = 2;\n"
    "modules = [\"timers\"];\n"
    "timers = { start = \"600ms\"; every = \"100ms\"; ticks = 3; };\n";

static void timers_periodic(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    natsConnection *nc = it_nats_connect(s);
    natsSubscription *sub = NULL;
    /* The first tick comes 600 ms after init: time enough to subscribe. */
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, nc, "timer.>"));
    IT_NATS_OK(natsConnection_Flush(nc));
    long long last = 0;
    int ticks = 0, once = 0, done = 0;
    long long end = it_now_ms() + 1600;
    while (it_now_ms() < end) {
        natsMsg *m = NULL;
        if (natsSubscription_NextMsg(&m, sub, 100) != NATS_OK)
            continue;
        const char *subj = natsMsg_GetSubject(m), *d = natsMsg_GetData(m);
        if (strcmp(subj, "timer.tick") == 0) {
            ticks++;
            char want[64];
            snprintf(want, sizeof want, "tick %d main_thread=no", atoi(d + 5));
            assert_string_equal(d, want);
            long long now = it_now_ms();
            if (last && now - last < 60)
                fail_msg("ticks %lld ms apart, period 100 ms", now - last);
            last = now;
        } else if (strcmp(subj, "timer.once") == 0) {
            once++;
        } else if (strcmp(subj, "timer.done") == 0) {
            assert_string_equal(d, "cancelled after 3");
            done++;
        }
        natsMsg_Destroy(m);
    }
    if (ticks != 3 || done != 1 || once != 1)
        fail_msg("ticks %d (want 3), done %d (want 1), once %d (want 1)", ticks, done, once);
    natsSubscription_Destroy(sub);
    it_nats_close(nc);
    it_ok();
}

static void timers_cancel(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    it_raw *r = abi_login(s, "");
    it_raw_send(r, "SUB timer.doomed 1\r\nSUB abi.r 2\r\nPING\r\n");
    abi_expect(r, "PONG\r\n", 5000);

    /* Left alone, it fires once. */
    long long t0 = it_now_ms();
    it_raw_send(r, "PUB timer.arm abi.r 0\r\n\r\n");
    abi_expect(r, "armed", 2000);
    abi_expect(r, "MSG timer.doomed 1 6\r\ndoomed\r\n", 3000);
    if (it_now_ms() - t0 < 350)
        fail_msg("the 400 ms timer fired after %lld ms", it_now_ms() - t0);

    /* Cancelled at once, it never fires. */
    it_raw_send(r, "PUB timer.arm abi.r 0\r\n\r\nPUB timer.cancel abi.r 0\r\n\r\n");
    abi_expect(r, "armed", 2000);
    abi_expect(r, "cancelled", 2000);
    it_raw_drain(r, 700);
    assert_int_equal(it_raw_count(r, "doomed\r\n"), 1);
    it_raw_close(r);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(timers_periodic), ABI_TEST(timers_cancel) };
    return ABI_RUN(tests);
}
