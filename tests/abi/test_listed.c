/*
 * test_listed.c - MODNATS_MSG_QUEUES_LISTED (module listed_mod): a module
 * publishes on "lq.subj" with the flag, as a route delivers a forwarded
 * RMSG.  Clients: a plain subscriber, two members of queue group g1, two
 * of g2.
 *
 *  listed_queues: queues ["g1"]: the plain subscriber gets every message,
 *    exactly one member of g1 gets each, no member of g2 gets any.  With
 *    nqueues 0: the plain subscriber only.  Without the flag (control):
 *    one member of each group.
 */
#include "abi.h"

#include <string.h>

enum { N = 20 };

static void sync_raw(it_raw *r)
{
    it_raw_send(r, "PING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
}

static size_t count_msgs(it_raw *const *members, size_t n, const char *needle)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        sync_raw(members[i]);
        total += it_raw_count(members[i], needle);
    }
    return total;
}

/* Ask the module N times (body "<tag>"), wait for the N answers. */
static void ask(it_raw *p, const char *subject, const char *tag)
{
    size_t before = it_raw_count(p, "done rc=0");
    for (int i = 0; i < N; i++)
        it_raw_send(p, "PUB %s rep %zu\r\n%s\r\n", subject, strlen(tag), tag);
    sync_raw(p);
    long long end = it_now_ms() + 5000;
    while (it_raw_count(p, "done rc=0") < before + N && it_now_ms() < end)
        it_raw_drain(p, 20);
    if (it_raw_count(p, "done rc=0") != before + N) {
        it_raw_dump(p, "publisher");
        fail_msg("the module did not answer %d times on %s", N, subject);
    }
}

static void listed_queues(void **state)
{
    (void)state;
    it_server *s = abi_start("io_threads = 2;\nmodules = [\"listed_mod\"];\n", NULL, NULL);
    it_raw *p = abi_login(s, "\"name\":\"plain\"");
    it_raw_send(p, "SUB lq.subj 1\r\nSUB rep 2\r\n");
    sync_raw(p);
    it_raw *g1[2], *g2[2];
    for (int i = 0; i < 2; i++) {
        g1[i] = abi_login(s, "\"name\":\"g1\"");
        it_raw_send(g1[i], "SUB lq.subj g1 1\r\n");
        sync_raw(g1[i]);
        g2[i] = abi_login(s, "\"name\":\"g2\"");
        it_raw_send(g2[i], "SUB lq.subj g2 1\r\n");
        sync_raw(g2[i]);
    }

    ask(p, "listed.g1", "L1");
    assert_int_equal(it_raw_count(p, "MSG lq.subj 1 2\r\nL1\r\n"), N);
    size_t in_g1 = count_msgs(g1, 2, "\r\nL1\r\n"), in_g2 = count_msgs(g2, 2, "\r\nL1\r\n");
    if (in_g1 != N || in_g2 != 0)
        fail_msg("queues [g1]: g1 members got %zu, g2 members %zu, of %d", in_g1, in_g2, N);

    ask(p, "listed.none", "L0");
    assert_int_equal(it_raw_count(p, "MSG lq.subj 1 2\r\nL0\r\n"), N);
    in_g1 = count_msgs(g1, 2, "\r\nL0\r\n");
    in_g2 = count_msgs(g2, 2, "\r\nL0\r\n");
    if (in_g1 != 0 || in_g2 != 0)
        fail_msg("nqueues 0: g1 members got %zu, g2 members %zu (want none)", in_g1, in_g2);

    ask(p, "listed.plain", "PL");
    assert_int_equal(it_raw_count(p, "MSG lq.subj 1 2\r\nPL\r\n"), N);
    in_g1 = count_msgs(g1, 2, "\r\nPL\r\n");
    in_g2 = count_msgs(g2, 2, "\r\nPL\r\n");
    if (in_g1 != N || in_g2 != N)
        fail_msg("without the flag: g1 members got %zu, g2 members %zu, of %d each", in_g1, in_g2, N);

    for (int i = 0; i < 2; i++) {
        it_raw_close(g1[i]);
        it_raw_close(g2[i]);
    }
    it_raw_close(p);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(listed_queues) };
    return ABI_RUN(tests);
}
