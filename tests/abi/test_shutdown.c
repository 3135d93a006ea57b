/*
 * test_shutdown.c - MODNATS_EV_SHUTDOWN and fini (module ev_shutdown): on
 * SIGTERM the hook runs on the main thread before the workers stop, fini
 * runs after "Server Exiting..", also on the main thread, and the exit is
 * clean.
 */
#include "abi.h"

static void shutdown_event(void **state)
{
    (void)state;
    it_server *s = abi_start("modules = [\"ev_shutdown\"];\n", NULL, NULL);
    natsConnection *nc = it_nats_connect(s);
    abi_log_refute(s, "shutdown hook");
    assert_true(it_server_stop(s));
    long hook = abi_log_find(s, "[ev_shutdown] shutdown hook type=8 size_ok=yes main_thread=yes");
    long exiting = abi_log_find(s, "Server Exiting..");
    long fini = abi_log_find(s, "[ev_shutdown] fini main_thread=yes");
    if (hook < 0 || exiting < 0 || fini < 0 || !(hook < exiting && exiting < fini)) {
        it_server_print_log(s, 30);
        fail_msg("expected shutdown hook < Server Exiting < fini (offsets %ld %ld %ld)", hook,
                 exiting, fini);
    }
    assert_int_equal(abi_log_count(s, "shutdown hook"), 1);
    assert_int_equal(abi_log_count(s, "[ev_shutdown] fini"), 1);
    it_nats_close(nc);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(shutdown_event) };
    return ABI_RUN(tests);
}
