/*
 * test_interest.c - MODNATS_EV_INTEREST (module ev_interest): the hook is
 * told of every local subscription added or removed: a client's SUB and
 * UNSUB (origin 0, with the queue), the subscriptions a closing client
 * leaves, and in-process subscriptions (with the module's own origin, and
 * in another account).
 */
#include "abi.h"

#include <stdio.h>

static void interest_events(void **state)
{
    (void)state;
    it_server *s = abi_start("modules = [\"ev_interest\"];\n", NULL, NULL);
    abi_log_expect(s, "[ev_interest] own origin=1", 2000);
    abi_log_expect(s, "[ev_interest] interest + acc=$G subject=abi.int.module queue= origin=1", 2000);
    abi_log_expect(s, "[ev_interest] interest + acc=ABI_X subject=abi.int.other queue=q1 origin=0", 2000);

    it_raw *r = abi_login(s, "");
    it_raw_send(r, "SUB abi.int.x grp 1\r\nPING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
    abi_log_expect(s, "[ev_interest] interest + acc=$G subject=abi.int.x queue=grp origin=0", 2000);
    it_raw_send(r, "UNSUB 1\r\nPING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
    abi_log_expect(s, "[ev_interest] interest - acc=$G subject=abi.int.x queue=grp origin=0", 2000);

    it_raw_send(r, "SUB abi.int.y 2\r\nPING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
    abi_log_expect(s, "[ev_interest] interest + acc=$G subject=abi.int.y queue= origin=0", 2000);
    it_raw_close(r);
    abi_log_expect(s, "[ev_interest] interest - acc=$G subject=abi.int.y queue= origin=0", 2000);

    /* fini unsubscribes: the chain hears it at shutdown. */
    assert_true(it_server_stop(s));
    abi_log_expect(s, "[ev_interest] interest - acc=$G subject=abi.int.module queue= origin=1", 100);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(interest_events) };
    return ABI_RUN(tests);
}
