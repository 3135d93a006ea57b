/*
 * test_client_info.c - what modules put in the client INFO.
 *
 *  info_nonce (module nonce_mod): a module called require_nonce: every
 *    INFO carries a "nonce" of 15 URL-safe base64 characters, different
 *    per connection, and the AUTH event's nonce equals it.
 *  info_no_nonce: with nonce_mod told not to ask (and with no module at
 *    all) INFO has no nonce and the AUTH event's nonce is NULL.
 *  info_connect_urls (module urls_mod): the URLs a module sets reach a new
 *    client's INFO as "connect_urls"; a connected protocol-1 client gets
 *    an asynchronous INFO with them, a protocol-0 client does not; setting
 *    the same URLs again sends nothing; URLs set in init are in the first
 *    INFO.
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

/* The nonce of an INFO line, or "" when it has none. */
static void nonce_of(const char *info, char out[64])
{
    out[0] = 0;
    const char *p = strstr(info, "\"nonce\":\"");
    if (!p)
        return;
    p += 9;
    size_t n = strcspn(p, "\"");
    snprintf(out, 64, "%.*s", (int)(n < 63 ? n : 63), p);
}

static void info_nonce(void **state)
{
    (void)state;
    it_server *s = abi_start("modules = [\"nonce_mod\"];\n", NULL, NULL);
    it_raw *r1 = it_raw_open(s->port, 0), *r2 = it_raw_open(s->port, 0);
    char n1[64], n2[64];
    nonce_of(it_raw_info(r1), n1);
    nonce_of(it_raw_info(r2), n2);
    if (strlen(n1) != 15 || strspn(n1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != 15)
        fail_msg("INFO nonce \"%s\" is not 15 URL-safe base64 characters: %s", n1, it_raw_info(r1));
    assert_int_equal(strlen(n2), 15);
    assert_string_not_equal(n1, n2);
    it_raw_send(r1, "CONNECT {\"verbose\":false,\"name\":\"n1\"}\r\nPING\r\n");
    abi_expect(r1, "PONG\r\n", 5000);
    it_raw_send(r2, "CONNECT {\"verbose\":false,\"name\":\"n2\"}\r\nPING\r\n");
    abi_expect(r2, "PONG\r\n", 5000);
    char want[128];
    snprintf(want, sizeof want, "[nonce_mod] auth name=n1 nonce=%s\n", n1);
    abi_log_expect(s, want, 2000);
    snprintf(want, sizeof want, "[nonce_mod] auth name=n2 nonce=%s\n", n2);
    abi_log_expect(s, want, 2000);
    it_raw_close(r1);
    it_raw_close(r2);
    it_ok();
}

static void info_no_nonce(void **state)
{
    (void)state;
    it_server *s = abi_start("modules = [\"nonce_mod\"];\nnonce_mod = { require = false; };\n",
                             NULL, NULL);
    it_raw *r = it_raw_open(s->port, 0);
    if (strstr(it_raw_info(r), "nonce"))
        fail_msg("INFO has a nonce nobody asked for: %s", it_raw_info(r));
    it_raw_send(r, "CONNECT {\"verbose\":false,\"name\":\"nn\"}\r\nPING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
    abi_log_expect(s, "[nonce_mod] auth name=nn nonce=(null)\n", 2000);
    it_raw_close(r);

    it_server *plain = abi_start("", NULL, NULL);
    r = it_raw_open(plain->port, 0);
    assert_null(strstr(it_raw_info(r), "nonce"));
    it_raw_close(r);
    it_ok();
}

#define URLS "\"connect_urls\":[\"nats://10.0.0.1:4222\",\"nats://10.0.0.2:4222\"]"

static void info_connect_urls(void **state)
{
    (void)state;
    it_server *s = abi_start("io_threads = 2;\nmodules = [\"urls_mod\"];\n", NULL, NULL);
    it_raw *p1 = abi_login(s, "\"name\":\"p1\"");
    assert_null(strstr(it_raw_info(p1), "connect_urls"));
    it_raw *p0 = it_raw_open(s->port, 0);
    it_raw_send(p0, "CONNECT {\"verbose\":false,\"protocol\":0}\r\n");
    sync_raw(p0);

    static const char body[] = "nats://10.0.0.1:4222 nats://10.0.0.2:4222";
    it_raw_send(p1, "SUB rep 1\r\nPUB urls.set rep %zu\r\n%s\r\n", strlen(body), body);
    abi_expect(p1, "set rc=0", 5000);
    long long end = it_now_ms() + 3000;
    while (it_raw_count(p1, URLS) == 0 && it_now_ms() < end)
        it_raw_drain(p1, 20);
    if (it_raw_count(p1, URLS) != 1 || it_raw_count(p1, "INFO {") != 2) {
        it_raw_dump(p1, "protocol 1 client");
        fail_msg("no asynchronous INFO with the connect_urls");
    }
    it_raw_drain(p0, 200);
    if (it_raw_count(p0, "INFO {") != 1) {
        it_raw_dump(p0, "protocol 0 client");
        fail_msg("a protocol 0 client got an asynchronous INFO");
    }
    it_raw *n = it_raw_open(s->port, 0);
    if (!strstr(it_raw_info(n), URLS))
        fail_msg("a new client's INFO lacks the connect_urls: %s", it_raw_info(n));
    it_raw_close(n);

    /* The same URLs again: no new INFO. */
    it_raw_send(p1, "PUB urls.set rep %zu\r\n%s\r\n", strlen(body), body);
    abi_expect(p1, "set rc=0", 5000);
    it_raw_drain(p1, 300);
    assert_int_equal(it_raw_count(p1, "INFO {"), 2);
    it_raw_close(p0);
    it_raw_close(p1);

    it_server *s2 = abi_start("modules = [\"urls_mod\"];\n"
                              "urls_mod = { initial = [\"nats://a.example:4222\"]; };\n", NULL, NULL);
    it_raw *r = it_raw_open(s2->port, 0);
    if (!strstr(it_raw_info(r), "\"connect_urls\":[\"nats://a.example:4222\"]"))
        fail_msg("URLs set in init are not in the first INFO: %s", it_raw_info(r));
    it_raw_close(r);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = {
        ABI_TEST(info_nonce), ABI_TEST(info_no_nonce), ABI_TEST(info_connect_urls),
    };
    return ABI_RUN(tests);
}
