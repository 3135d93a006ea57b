/*
 * test_enum.c - accounts_foreach and interest_foreach (module enum_mod:
 * its AUTH hook puts user u1 in ACC1 and u2 in ACC2; it has interest of
 * its own, see the module's header; "enum.dump" answers with the lists).
 *
 *  enum_interest: after clients subscribe in two accounts and $G, the
 *    dump lists every account and every subscription with its subject,
 *    queue, weight and origin (0 for clients, the module's origin for its
 *    subscription, the sink's origin for the sink's); a weight changed
 *    with sub_set_weight shows; a client's interest is gone after it
 *    leaves.
 */
#include "abi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sync_raw(it_raw *r)
{
    it_raw_send(r, "PING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
}

/* Ask for a dump; returns a malloc'd copy of the answer's text. */
static char *dump(it_raw *r)
{
    size_t start = r->pos;
    it_raw_send(r, "PUB enum.dump rep 0\r\n\r\n");
    abi_expect(r, "\nend\n", 5000);
    const char *p = strstr(r->buf + start, "rc=");
    assert_non_null(p);
    return strndup(p, (size_t)(r->buf + r->pos - p));
}

static void must_have(const char *text, const char *line)
{
    char want[300];
    snprintf(want, sizeof want, "\n%s\n", line);
    if (!strstr(text, want))
        fail_msg("the dump lacks \"%s\":\n%s", line, text);
}

static void enum_interest(void **state)
{
    (void)state;
    it_server *s = abi_start("io_threads = 2;\nmodules = [\"enum_mod\"];\n", NULL, NULL);
    abi_log_expect(s, "[enum_mod] origins module=", 2000);
    unsigned mo = 0, so = 0;
    char *log = abi_log_text(s);
    const char *p = strstr(log, "[enum_mod] origins module=");
    assert_int_equal(sscanf(p, "[enum_mod] origins module=%u sink=%u", &mo, &so), 2);
    free(log);

    it_raw *u1 = abi_login(s, "\"user\":\"u1\"");
    it_raw_send(u1, "SUB x.one 1\r\nSUB x.q qq 2\r\n");
    sync_raw(u1);
    it_raw *u2 = abi_login(s, "\"user\":\"u2\"");
    it_raw_send(u2, "SUB x.two 1\r\n");
    sync_raw(u2);
    it_raw *g = abi_login(s, "\"user\":\"admin\"");
    it_raw_send(g, "SUB rep 1\r\n");
    sync_raw(g);

    char *t = dump(g);
    if (strncmp(t, "rc=0,0 accounts=", 16) != 0)
        fail_msg("dump: %s", t);
    /* Every account: $G and the two the module made (others may exist). */
    char accs[200];
    sscanf(t, "rc=0,0 accounts=%199s", accs);
    char padded[210];
    snprintf(padded, sizeof padded, ",%s,", accs);
    if (!strstr(padded, ",$G,") || !strstr(padded, ",ACC1,") || !strstr(padded, ",ACC2,"))
        fail_msg("accounts_foreach gave %s", accs);

    char line[200];
    must_have(t, "acc=ACC1 subject=x.one queue= weight=1 origin=0");
    must_have(t, "acc=ACC1 subject=x.q queue=qq weight=1 origin=0");
    must_have(t, "acc=ACC2 subject=x.two queue= weight=1 origin=0");
    must_have(t, "acc=$G subject=rep queue= weight=1 origin=0");
    must_have(t, "acc=$G subject=enum.dump queue= weight=1 origin=0");
    snprintf(line, sizeof line, "acc=ACC2 subject=mod.sub queue=mq weight=4 origin=%u", mo);
    must_have(t, line);
    snprintf(line, sizeof line, "acc=ACC1 subject=sink.sub queue=sq weight=2 origin=%u", so);
    must_have(t, line);
    snprintf(line, sizeof line, "acc=ACC1 subject=sink.plain queue= weight=1 origin=%u", so);
    must_have(t, line);
    /* Nothing else in ACC1/ACC2. */
    size_t n1 = 0, n2 = 0;
    for (const char *q = t; (q = strstr(q, "\nacc=ACC1 ")) != NULL; q++)
        n1++;
    for (const char *q = t; (q = strstr(q, "\nacc=ACC2 ")) != NULL; q++)
        n2++;
    if (n1 != 4 || n2 != 2)
        fail_msg("ACC1 has %zu subscriptions (want 4), ACC2 %zu (want 2):\n%s", n1, n2, t);
    free(t);

    /* sub_set_weight shows; u1's interest goes with it. */
    it_raw_send(g, "PUB enum.weight rep 0\r\n\r\n");
    abi_expect(g, "weight rc=0", 5000);
    it_raw_close(u1);
    long long end = it_now_ms() + 3000;
    for (;;) {
        t = dump(g);
        if (!strstr(t, "subject=x.one") || it_now_ms() > end)
            break;
        free(t);
        it_sleep_ms(20);
    }
    snprintf(line, sizeof line, "acc=ACC1 subject=sink.sub queue=sq weight=5 origin=%u", so);
    must_have(t, line);
    if (strstr(t, "subject=x.one") || strstr(t, "subject=x.q "))
        fail_msg("a closed client's interest is still listed:\n%s", t);
    must_have(t, "acc=ACC2 subject=x.two queue= weight=1 origin=0");
    free(t);
    it_raw_close(u2);
    it_raw_close(g);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(enum_interest) };
    return ABI_RUN(tests);
}
