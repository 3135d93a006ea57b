/*
 * test_protocol.c - the client protocol on a raw socket, byte for byte:
 * PING/PONG, verbose +OK, MSG and HMSG framing, server-side UNSUB and
 * auto-unsubscribe, no_responders status messages, and the errors a
 * client can provoke (invalid subject, payload over max_payload, unknown
 * verb, bad arguments, an over-long control line, a stale connection).
 *
 * Where nats-server closes silently and modnats deliberately sends a -ERR
 * first (see docs/guide protocol.md), the check accepts silence only when
 * the server under test is nats-server.
 */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_PLAIN "CONNECT {\"verbose\":false,\"pedantic\":false,\"lang\":\"raw\",\"version\":\"0\",\"protocol\":1,\"headers\":true,\"no_responders\":true}\r\n"
#define WAIT_MS 5000

/* Fail with the raw transcript unless `needle` arrives. */
static void expect(it_raw *r, const char *needle)
{
    if (!it_raw_expect(r, needle, WAIT_MS)) {
        it_raw_dump(r, "raw connection");
        fail_msg("expected \"%s\" from the server", needle);
    }
}

static void expect_closed(it_raw *r)
{
    if (!it_raw_wait_closed(r, WAIT_MS)) {
        it_raw_dump(r, "raw connection");
        fail_msg("expected the server to close the connection");
    }
}

static it_raw *connected(it_server *s)
{
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, CONNECT_PLAIN "PING\r\n");
    expect(r, "PONG\r\n");
    return r;
}

/* Bytes received between the current position and the next PONG. */
static char *until_pong(it_raw *r)
{
    size_t from = r->pos;
    expect(r, "PONG\r\n");
    return strndup(r->buf + from, r->pos - from - 6);
}

static void test_info_and_ping(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    it_raw *r = it_raw_open(s->port, 0);
    const char *info = it_raw_info(r);
    assert_non_null(strstr(info, "\"server_id\":"));
    assert_non_null(strstr(info, "\"version\":"));
    assert_non_null(strstr(info, "\"max_payload\":1048576"));
    assert_non_null(strstr(info, "\"headers\":true"));
    assert_non_null(strstr(info, "\"proto\":1"));
    it_raw_send(r, CONNECT_PLAIN "PING\r\n");
    expect(r, "PONG\r\n");
    /* verbs are case-insensitive */
    it_raw_send(r, "ping\r\n");
    expect(r, "PONG\r\n");
    /* a PING from the server needs a PONG; PONG from us is accepted quietly */
    it_raw_send(r, "PONG\r\nPING\r\n");
    char *between = until_pong(r);
    assert_string_equal(between, "");
    free(between);
    it_raw_close(r);
    it_ok();
}

/* verbose:true acknowledges every operation except PING with +OK. */
static void test_verbose(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":true,\"pedantic\":false}\r\n");
    expect(r, "+OK\r\n");
    it_raw_send(r, "SUB v 1\r\n");
    expect(r, "+OK\r\n");
    it_raw_send(r, "PUB v 2\r\nhi\r\nUNSUB 1\r\nPING\r\n");
    char *rest = until_pong(r);
    /* +OK for PUB and UNSUB, and the message itself (echo is on) */
    size_t oks = 0;
    for (const char *p = rest; (p = strstr(p, "+OK\r\n")); p += 5)
        oks++;
    if (oks != 2 || !strstr(rest, "MSG v 1 2\r\nhi\r\n"))
        fail_msg("after PUB+UNSUB+PING got \"%s\", want two +OK and the MSG", rest);
    free(rest);
    it_raw_close(r);
    it_ok();
}

/* Exact MSG framing, with and without a reply subject. */
static void test_msg_framing(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    it_raw *r = connected(s);
    it_raw_send(r, "SUB foo.* 7\r\nPUB foo.bar reply.to 5\r\nhello\r\nPUB foo.baz 0\r\n\r\nPING\r\n");
    char *got = until_pong(r);
    assert_string_equal(got, "MSG foo.bar 7 reply.to 5\r\nhello\r\nMSG foo.baz 7 0\r\n\r\n");
    free(got);
    /* a payload containing CRLF is opaque */
    it_raw_send(r, "PUB foo.x 4\r\n\r\n\r\n\r\nPING\r\n");
    got = until_pong(r);
    assert_string_equal(got, "MSG foo.x 7 4\r\n\r\n\r\n\r\n");
    free(got);
    it_raw_close(r);
    it_ok();
}

/* HPUB becomes HMSG with the header block and sizes unchanged. */
static void test_hpub_hmsg(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    it_raw *r = connected(s);
    /* "NATS/1.0\r\nA: b\r\n\r\n" is 18 bytes; payload "hello" 5 */
    it_raw_send(r, "SUB h 3\r\nHPUB h 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n"
                   "HPUB h r.1 12 12\r\nNATS/1.0\r\n\r\n\r\nPING\r\n");
    char *got = until_pong(r);
    assert_string_equal(got, "HMSG h 3 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n"
                             "HMSG h 3 r.1 12 12\r\nNATS/1.0\r\n\r\n\r\n");
    free(got);
    it_raw_close(r);
    it_ok();
}

/* UNSUB removes a subscription; UNSUB sid max delivers exactly max. */
static void test_unsub_and_auto_unsub(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    it_raw *r = connected(s);
    it_raw_send(r, "SUB u 1\r\nSUB u 2\r\nUNSUB 1\r\nPUB u 1\r\nx\r\nPING\r\n");
    char *got = until_pong(r);
    assert_string_equal(got, "MSG u 2 1\r\nx\r\n");
    free(got);

    it_raw_send(r, "SUB au 5\r\nUNSUB 5 3\r\n");
    for (int i = 0; i < 10; i++)
        it_raw_send(r, "PUB au 1\r\n%d\r\n", i);
    it_raw_send(r, "PING\r\n");
    got = until_pong(r);
    assert_string_equal(got, "MSG au 5 1\r\n0\r\nMSG au 5 1\r\n1\r\nMSG au 5 1\r\n2\r\n");
    free(got);

    /* auto-unsubscribe with a max already reached removes it at once */
    it_raw_send(r, "SUB au2 6\r\nPUB au2 1\r\na\r\nPUB au2 1\r\nb\r\nPING\r\n");
    got = until_pong(r);
    free(got);
    it_raw_send(r, "UNSUB 6 1\r\nPUB au2 1\r\nc\r\nPING\r\n");
    got = until_pong(r);
    assert_string_equal(got, "");
    free(got);
    it_raw_close(r);
    it_ok();
}

/* A request to a subject nobody subscribes to gets a 503 status back. */
static void test_no_responders_raw(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    it_raw *r = connected(s);
    it_raw_send(r, "SUB inbox.1 9\r\nPUB nobody inbox.1 2\r\nhi\r\nPING\r\n");
    char *got = until_pong(r);
    if (strncmp(got, "HMSG inbox.1 9 ", 15) != 0 || !strstr(got, "\r\nNATS/1.0 503"))
        fail_msg("no_responders reply was \"%s\"", got);
    free(got);
    /* without a reply subject nothing comes back */
    it_raw_send(r, "PUB nobody 2\r\nhi\r\nPING\r\n");
    got = until_pong(r);
    assert_string_equal(got, "");
    free(got);
    it_raw_close(r);
    it_ok();
}

/* An invalid subject in SUB is refused, and the connection stays usable. */
static void test_invalid_subject(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    it_raw *r = connected(s);
    it_raw_send(r, "SUB foo..bar 1\r\n");
    expect(r, "-ERR 'Invalid Subject'\r\n");
    it_raw_send(r, "SUB foo.>.bar 2\r\n");
    expect(r, "-ERR 'Invalid Subject'\r\n");
    it_raw_send(r, "SUB ok 3\r\nPUB ok 1\r\n!\r\nPING\r\n");
    char *got = until_pong(r);
    assert_string_equal(got, "MSG ok 3 1\r\n!\r\n");
    free(got);
    it_raw_close(r);
    it_ok();
}

/* max_payload from the config: announced in INFO, enforced on PUB. */
static void test_max_payload(void **state)
{
    it_server *s = it_server_start("max_payload = 512;\n", NULL);
    it_raw *r = connected(s);
    if (!strstr(it_raw_info(r), "\"max_payload\":512"))
        fail_msg("INFO does not announce max_payload 512: %s", it_raw_info(r));
    char body[1025];
    memset(body, 'p', sizeof body - 1);
    body[1024] = '\0';
    /* exactly the limit is fine */
    it_raw_send(r, "SUB p 1\r\nPUB p 512\r\n%.512s\r\nPING\r\n", body);
    char *got = until_pong(r);
    assert_int_equal(strlen(got), strlen("MSG p 1 512\r\n\r\n") + 512);
    free(got);
    it_raw_send(r, "PUB p 1024\r\n%s\r\n", body);
    expect(r, "-ERR 'Maximum Payload Violation'\r\n");
    expect_closed(r);
    it_raw_close(r);
    it_ok();
}

static void test_unknown_operation(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    it_raw *r = connected(s);
    it_raw_send(r, "FOO bar\r\n");
    expect(r, "-ERR 'Unknown Protocol Operation'\r\n");
    expect_closed(r);
    it_raw_close(r);
    it_ok();
}

/* A malformed PUB closes the connection; modnats says why first. */
static void check_bad_args(it_server *s, const char *line)
{
    it_raw *r = connected(s);
    it_raw_send(r, "%s", line);
    expect_closed(r);
    bool err = strstr(r->buf + r->pos, "-ERR ") != NULL;
    if (!err && !it_is_nats_server()) {
        it_raw_dump(r, "raw connection");
        fail_msg("connection closed without a -ERR after %s", line);
    }
    it_raw_close(r);
}

static void test_bad_arguments(void **state)
{
    it_server *s = it_server_start(NULL, NULL);
    check_bad_args(s, "PUB foo notanumber\r\n");
    check_bad_args(s, "PUB\r\n");
    check_bad_args(s, "PUB a b c d\r\n");
    check_bad_args(s, "SUB\r\n");
    check_bad_args(s, "HPUB h 30 20\r\n");   /* header longer than total */
    check_bad_args(s, "CONNECT {not json\r\n");
    it_ok();
}

/* A control line longer than max_control_line is refused (nats-server
 * spells this one in lower case; compare without case). */
static void test_max_control_line(void **state)
{
    it_server *s = it_server_start("max_control_line = 1024;\n", NULL);
    it_raw *r = connected(s);
    char *line = malloc(3000);
    memcpy(line, "SUB ", 4);
    memset(line + 4, 'a', 2990);
    line[2994] = '\0';
    it_raw_send(r, "%s 1\r\n", line);
    free(line);
    expect_closed(r);
    if (!it_contains_ci(r->buf + r->pos, "-ERR 'Maximum Control Line Exceeded'")) {
        it_raw_dump(r, "raw connection");
        fail_msg("no -ERR 'maximum control line exceeded'");
    }
    it_raw_close(r);
    it_ok();
}

/* The server pings an idle client and drops it when PONGs stop coming. */
static void test_stale_connection(void **state)
{
    it_server *s = it_server_start("ping_interval = \"1s\";\nping_max = 1;\n", NULL);
    it_raw *r = connected(s);
    expect(r, "PING\r\n");
    it_raw_send(r, "PONG\r\n");          /* answered: still alive */
    expect(r, "PING\r\n");               /* then silence from us */
    if (!it_raw_expect(r, "-ERR 'Stale Connection'\r\n", 10000)) {
        it_raw_dump(r, "raw connection");
        fail_msg("no -ERR 'Stale Connection'");
    }
    expect_closed(r);
    it_raw_close(r);
    it_ok();
}

int main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_info_and_ping, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_verbose, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_msg_framing, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_hpub_hmsg, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_unsub_and_auto_unsub, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_no_responders_raw, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_subject, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_max_payload, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_operation, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_max_control_line, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_stale_connection, it_setup, it_teardown),
    };
    return cmocka_run_group_tests_name("integration.protocol", tests, NULL, NULL);
}
