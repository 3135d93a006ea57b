/*
 * test_auth.c - MODNATS_EV_AUTH (module ev_auth): a hook that allows one
 * user/password and denies the rest.
 *
 *  auth_allow: INFO asks for auth once an AUTH hook exists; the right
 *    credentials log in (libnats and raw) and can publish/subscribe; the
 *    event carried user, pass, name, the client's address and port (equal
 *    to what the connection handle says) and a ticket.
 *  auth_deny: wrong or missing credentials get -ERR 'Authorization
 *    Violation' and are closed; libnats reports the violation; the log
 *    names the hook's deny_reason (the client never sees it).
 */
#include "abi.h"

#include <stdio.h>
#include <string.h>

static const char *CONF =
    "modules = [\"ev_auth\"];\n"
    "ev_auth = { user = \"good\"; pass = \"s3cret\"; };\n";

static void auth_allow(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);

    it_raw *r = it_raw_open(s->port, 0);
    assert_non_null(strstr(it_raw_info(r), "\"auth_required\":true"));
    it_raw_send(r, "CONNECT {\"verbose\":false,\"protocol\":1,\"user\":\"good\",\"pass\":\"s3cret\","
                   "\"name\":\"raw-client\"}\r\nPING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
    char line[256];
    snprintf(line, sizeof line,
             "[ev_auth] auth user=good pass=s3cret name=raw-client ip=127.0.0.1 port=%d "
             "conn_ip=127.0.0.1 conn_port=%d ticket=yes", abi_local_port(r), abi_local_port(r));
    abi_log_expect(s, line, 2000);
    it_raw_send(r, "SUB abi.auth 1\r\nPUB abi.auth 5\r\nhello\r\nPING\r\n");
    abi_expect(r, "MSG abi.auth 1 5\r\nhello\r\n", 5000);
    it_raw_close(r);

    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetUserInfo(o, "good", "s3cret"));
    IT_NATS_OK(natsOptions_SetName(o, "abi-client"));
    natsConnection *nc = it_nats_connect_opts(o);
    natsSubscription *sub = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, nc, "abi.auth.nats"));
    IT_NATS_OK(natsConnection_PublishString(nc, "abi.auth.nats", "via libnats"));
    natsMsg *m = it_nats_next(sub);
    assert_string_equal(natsMsg_GetData(m), "via libnats");
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
    it_nats_close(nc);
    abi_log_expect(s, "[ev_auth] auth user=good pass=s3cret name=abi-client ip=127.0.0.1", 2000);
    it_ok();
}

static void auth_deny(void **state)
{
    (void)state;
    it_server *s = abi_start(CONF, NULL, NULL);
    const char *bad[] = { "\"user\":\"good\",\"pass\":\"wrong\"", "\"user\":\"other\",\"pass\":\"s3cret\"",
                          "\"auth_token\":\"s3cret\"", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        it_raw *r = it_raw_open(s->port, 0);
        it_raw_send(r, "CONNECT {\"verbose\":false,\"protocol\":1%s%s}\r\nPING\r\n",
                    bad[i][0] ? "," : "", bad[i]);
        abi_expect(r, "-ERR 'Authorization Violation'\r\n", 5000);
        if (!it_raw_wait_closed(r, 5000))
            fail_msg("a denied client was not closed");
        assert_null(strstr(r->buf, "PONG"));
        assert_null(strstr(r->buf, "bad credentials"));   /* the reason stays in the log */
        it_raw_close(r);
    }
    abi_log_expect(s, "authentication error: ev_auth: bad credentials", 2000);
    assert_int_equal(abi_log_count(s, "authentication error: ev_auth: bad credentials"), 4);
    abi_log_expect(s, "[ev_auth] auth user=(null) pass=(null) name=(null)", 2000);

    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetUserInfo(o, "good", "nope"));
    natsConnection *nc = NULL;
    natsStatus st = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    assert_int_not_equal(st, NATS_OK);
    const char *err = nats_GetLastError(NULL);
    if (!err || !it_contains_ci(err, "Authorization Violation"))
        fail_msg("libnats: %s (%s), expected an Authorization Violation", natsStatus_GetText(st),
                 err ? err : "");
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(auth_allow), ABI_TEST(auth_deny) };
    return ABI_RUN(tests);
}
