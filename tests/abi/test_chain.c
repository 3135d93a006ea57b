/*
 * test_chain.c - hook chains by priority (modules chain_a, chain_b): AUTH
 * hooks at priorities a50, a10 (chain_a) and b30, b10 (chain_b, loaded
 * second) run a10, b10, b30, a50: lowest number first, equal priorities in
 * registration order, whatever order a module registered them in.  DEFER
 * passes on, OK and DENY and ERR stop the chain; all DEFER is a refusal.
 */
#include "abi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *CONF = "modules = [\"chain_a\", \"chain_b\"];\n";

/* The tags of the hooks that logged "chain <tag> user=<user>", in order. */
static void hooks_for(const it_server *s, const char *user, char *out, size_t outlen)
{
    char *log = abi_log_text(s);
    char needle[128];
    out[0] = 0;
    snprintf(needle, sizeof needle, " user=%s\n", user);
    for (char *p = log; (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
        char *tag = p - 3;   /* "chain XYZ user=" */
        snprintf(out + strlen(out), outlen - strlen(out), "%s%.3s", out[0] ? "," : "", tag);
    }
    free(log);
}

static void login_as(const it_server *s, const char *user, bool ok)
{
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"protocol\":1,\"user\":\"%s\"}\r\nPING\r\n", user);
    abi_expect(r, ok ? "PONG\r\n" : "-ERR 'Authorization Violation'\r\n", 5000);
    it_raw_close(r);
}

static void check(const it_server *s, const char *user, bool ok, const char *want)
{
    login_as(s, user, ok);
    char got[128];
    long long end = it_now_ms() + 2000;
    do {
        hooks_for(s, user, got, sizeof got);
        if (strcmp(got, want) == 0)
            return;
        it_sleep_ms(10);
    } while (it_now_ms() < end);
    it_server_print_log(s, 30);
    fail_msg("user %s: hooks ran [%s], expected [%s]", user, got, want);
}

static void chain_order(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    check(s, "ok-at-a50", true, "a10,b10,b30,a50");
    check(s, "ok-at-b10", true, "a10,b10");
    check(s, "deny-at-b30", false, "a10,b10,b30");
    check(s, "deny-at-a10", false, "a10");
    check(s, "err-at-b30", false, "a10,b10,b30");
    check(s, "nobody-decides", false, "a10,b10,b30,a50");
    abi_log_expect(s, "authentication error: denied by the chain test", 1000);
    it_ok();
}

/* Loaded the other way round, registration order (not load order alone)
 * breaks the tie at priority 10. */
static void chain_order_reversed(void **state)
{
    (void)state;
    it_server *s = abi_start("modules = [\"chain_b\", \"chain_a\"];\n", NULL, NULL);
    check(s, "ok-at-a50", true, "b10,a10,b30,a50");
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(chain_order), ABI_TEST(chain_order_reversed) };
    return ABI_RUN(tests);
}
