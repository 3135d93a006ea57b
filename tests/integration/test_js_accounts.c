/*
 * test_js_accounts.c - per-account JetStream against the server under
 * test, with libnats: which accounts have JetStream once accounts are
 * configured (nats-server 2.9: only those with `jetstream` enabled; not
 * the global account, not the system account), nats-server's 10039 reply
 * to the others, every account limit hit with its exact err_code (10113,
 * 10122, 10027, 10047, 10028, 10026, 10121, 10002), ACCOUNT.INFO's limits
 * and usage, limits changed by SIGHUP, and the same limits from account
 * JWTs (operator mode, tests/gen/gen_jwt.sh).  Runs unchanged against
 * nats-server 2.9.10 (MN_TEST_SERVER=/usr/sbin/nats-server).
 */
#include "itnats.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The config text for both servers: group lists are "( ... )" for modnats
 * and "[ ... ]" for nats-server. */
static const char *conf(const char *text)
{
    static char buf[8192];
    size_t n = 0;
    bool quoted = false;
    for (const char *p = text; *p && n + 1 < sizeof buf; p++) {
        char ch = *p;
        if (ch == '"')
            quoted = !quoted;
        else if (!quoted && it_is_nats_server() && ch == '(')
            ch = '[';
        else if (!quoted && it_is_nats_server() && ch == ')')
            ch = ']';
        buf[n++] = ch;
    }
    buf[n] = 0;
    return buf;
}

static natsConnection *connect_user(const it_server *s, const char *user)
{
    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetUserInfo(o, user, user));
    return it_nats_connect_opts(o);
}

/* The reply to a raw API request (malloc'd); fails the test without one. */
static char *req(natsConnection *nc, const char *subj, const char *body)
{
    natsMsg *m = NULL;
    natsStatus st = natsConnection_RequestString(&m, nc, subj, body ? body : "", 5000);
    if (st != NATS_OK)
        fail_msg("request on %s: %s", subj, natsStatus_GetText(st));
    char *out = strndup(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
    natsMsg_Destroy(m);
    return out;
}

/* The reply must contain want. */
static void expect(natsConnection *nc, const char *subj, const char *body, const char *want)
{
    char *r = req(nc, subj, body);
    if (!strstr(r, want))
        fail_msg("%s %s\n  got:  %s\n  want: ...%s...", subj, body ? body : "", r, want);
    free(r);
}

static void expect_err(natsConnection *nc, const char *subj, const char *body, int code,
                       int err_code, const char *desc)
{
    char want[300];
    snprintf(want, sizeof want, "\"error\":{\"code\":%d,\"err_code\":%d,\"description\":\"%s\"}",
             code, err_code, desc);
    expect(nc, subj, body, want);
}

/* A number field of a JSON reply ("key":N), or -2 when absent. */
static long long field(const char *json, const char *key)
{
    char k[80];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(json, k);
    return p ? strtoll(p + strlen(k), NULL, 10) : -2;
}

#define DISABLED "\"error\":{\"code\":503,\"err_code\":10039,\"description\":\"JetStream not enabled for account\"}"
#define T "{\"type\":\"io.nats.jetstream.api.v1."

static char *js_block(void)
{
    static char b[600];
    snprintf(b, sizeof b, "jetstream = { store_dir = \"%s/js\"; };\n", it_tmpdir());
    return b;
}

/* Accounts configured: only A enabled it; B, the global account ($G, the
 * authorization users) and the system account get 10039, in the reply
 * type of each API. */
static void test_jsacct_only_enabled_accounts(void **state)
{
    (void)state;
    char text[4096];
    snprintf(text, sizeof text,
             "%s"
             "authorization = { users = ( { user = \"g\"; password = \"g\"; } ); };\n"
             "accounts = {\n"
             "  A = { jetstream = \"enabled\"; users = ( { user = \"a\"; password = \"a\"; } ); };\n"
             "  B = { users = ( { user = \"b\"; password = \"b\"; } ); };\n"
             "  OFF = { jetstream = \"disabled\"; users = ( { user = \"off\"; password = \"off\"; } ); };\n"
             "  SYS = { users = ( { user = \"s\"; password = \"s\"; } ); };\n"
             "};\n"
             "system_account = \"SYS\";\n", js_block());
    it_server *s = it_server_start(conf(text), NULL);
    natsConnection *a = connect_user(s, "a");
    expect(a, "$JS.API.INFO", NULL,
           "\"limits\":{\"max_memory\":-1,\"max_storage\":-1,\"max_streams\":-1,"
           "\"max_consumers\":-1,\"max_ack_pending\":-1,\"memory_max_stream_bytes\":-1,"
           "\"storage_max_stream_bytes\":-1,\"max_bytes_required\":false}");
    expect(a, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"subjects\":[\"s\"]}", "\"did_create\":true");

    /* the system account: INFO answered, the rest not at all */
    natsConnection *sys = connect_user(s, "s");
    expect(sys, "$JS.API.INFO", NULL, T "account_info_response\"," DISABLED "}");
    natsMsg *m = NULL;
    assert_int_equal(natsConnection_RequestString(&m, sys, "$JS.API.STREAM.NAMES", "", 300), NATS_TIMEOUT);
    it_nats_close(sys);

    const char *users[] = { "b", "off", "g" };
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
        natsConnection *nc = connect_user(s, users[i]);
        expect(nc, "$JS.API.INFO", NULL, T "account_info_response\"," DISABLED "}");
        expect(nc, "$JS.API.STREAM.PURGE.S", NULL,
               T "stream_purge_response\"," DISABLED ",\"purged\":0}");
        expect(nc, "$JS.API.CONSUMER.LIST.S", NULL,
               T "consumer_list_response\"," DISABLED ",\"total\":0,\"offset\":0,\"limit\":0,\"consumers\":[]}");
        expect(nc, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"subjects\":[\"s\"]}",
               T "stream_create_response\"," DISABLED "}");
        expect(nc, "$JS.API.STREAM.NAMES", NULL,
               T "stream_names_response\"," DISABLED ",\"total\":0,\"offset\":0,\"limit\":0,\"streams\":null}");
        expect(nc, "$JS.API.STREAM.LIST", NULL,
               T "stream_list_response\"," DISABLED ",\"total\":0,\"offset\":0,\"limit\":0,\"streams\":[]}");
        expect(nc, "$JS.API.STREAM.INFO.S", NULL,
               T "stream_info_response\"," DISABLED ",\"total\":0,\"offset\":0,\"limit\":0}");
        expect(nc, "$JS.API.CONSUMER.CREATE.S", "{\"stream_name\":\"S\",\"config\":{}}",
               T "consumer_create_response\"," DISABLED "}");
        expect(nc, "$JS.API.CONSUMER.NAMES.S", NULL,
               T "consumer_names_response\"," DISABLED ",\"total\":0,\"offset\":0,\"limit\":0,\"consumers\":[]}");
        /* libnats sees the same error */
        jsCtx *js = NULL;
        IT_NATS_OK(natsConnection_JetStream(&js, nc, NULL));
        jsAccountInfo *ai = NULL;
        jsErrCode jerr = 0;
        assert_int_not_equal(js_GetAccountInfo(&ai, js, NULL, &jerr), NATS_OK);
        assert_int_equal(jerr, 10039);
        jsCtx_Destroy(js);
        it_nats_close(nc);
    }
    it_nats_close(a);
    it_ok();
}

/* No accounts configured (or only the system account): the global
 * account has JetStream, unlimited. */
static void test_jsacct_global_without_accounts(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, "%sauthorization = { users = ( { user = \"g\"; password = \"g\"; } ); };\n",
             js_block());
    it_server *s = it_server_start(conf(text), NULL);
    natsConnection *nc = connect_user(s, "g");
    expect(nc, "$JS.API.INFO", NULL, "\"streams\":0,\"consumers\":0,\"limits\":{\"max_memory\":-1,");
    it_nats_close(nc);
    it_server_stop(s);

    /* only the system account declared: still the global account's */
    snprintf(text, sizeof text,
             "%sauthorization = { users = ( { user = \"g\"; password = \"g\"; } ); };\n"
             "accounts = { SYS = { users = ( { user = \"s\"; password = \"s\"; } ); }; };\n"
             "system_account = \"SYS\";\n", js_block());
    s = it_server_start(conf(text), NULL);
    nc = connect_user(s, "g");
    expect(nc, "$JS.API.INFO", NULL, "\"streams\":0,\"consumers\":0,\"limits\":{\"max_memory\":-1,");
    it_nats_close(nc);
    nc = connect_user(s, "s");
    expect(nc, "$JS.API.INFO", NULL, T "account_info_response\"," DISABLED "}");
    it_nats_close(nc);
    it_ok();
}

#define LIMITED_ACCOUNTS                                                                       \
    "accounts = {\n"                                                                           \
    "  L = { jetstream = { max_mem = 1024; max_file = 2048; max_streams = %d;\n"               \
    "                      max_consumers = 1; max_ack_pending = 5; max_bytes_required = true;\n" \
    "                      mem_max_stream_bytes = 512; disk_max_stream_bytes = 1000; };\n"     \
    "        users = ( { user = \"l\"; password = \"l\"; } ); };\n"                            \
    "  M = { jetstream = { max_mem = 1024; max_file = 2048; max_consumers = 1;\n"              \
    "                      max_ack_pending = 5; };\n"                                          \
    "        users = ( { user = \"m\"; password = \"m\"; } ); };\n"                            \
    "};\n"

static void limited_conf(char *text, size_t len, int max_streams)
{
    int n = snprintf(text, len, "%s", js_block());
    snprintf(text + n, len - (size_t)n, LIMITED_ACCOUNTS, max_streams);
}

#define L_LIMITS(streams)                                                                     \
    "\"limits\":{\"max_memory\":1024,\"max_storage\":2048,\"max_streams\":" streams ","      \
    "\"max_consumers\":1,\"max_ack_pending\":5,\"memory_max_stream_bytes\":512,"              \
    "\"storage_max_stream_bytes\":1000,\"max_bytes_required\":true}"

/* Per-stream limits of the account, the number of streams, and SIGHUP
 * raising it. */
static void test_jsacct_stream_limits(void **state)
{
    (void)state;
    char text[4096];
    limited_conf(text, sizeof text, 2);
    it_server *s = it_server_start(conf(text), NULL);
    natsConnection *nc = connect_user(s, "l");
    expect(nc, "$JS.API.INFO", NULL, "\"memory\":0,\"storage\":0,\"streams\":0,\"consumers\":0," L_LIMITS("2"));
    expect_err(nc, "$JS.API.STREAM.CREATE.S1", "{\"name\":\"S1\",\"subjects\":[\"s1\"]}", 400, 10113,
               "account requires a stream config to have max bytes set");
    expect_err(nc, "$JS.API.STREAM.CREATE.S1", "{\"name\":\"S1\",\"subjects\":[\"s1\"],\"max_bytes\":1001}",
               400, 10122, "stream max bytes exceeds account limit max stream bytes");
    expect(nc, "$JS.API.STREAM.CREATE.S1", "{\"name\":\"S1\",\"subjects\":[\"s1\"],\"max_bytes\":1000}",
           "\"did_create\":true");
    expect_err(nc, "$JS.API.STREAM.CREATE.M1",
               "{\"name\":\"M1\",\"subjects\":[\"m1\"],\"max_bytes\":513,\"storage\":\"memory\"}", 400, 10122,
               "stream max bytes exceeds account limit max stream bytes");
    expect(nc, "$JS.API.STREAM.CREATE.M1",
           "{\"name\":\"M1\",\"subjects\":[\"m1\"],\"max_bytes\":512,\"storage\":\"memory\"}",
           "\"did_create\":true");
    expect_err(nc, "$JS.API.STREAM.CREATE.S2", "{\"name\":\"S2\",\"subjects\":[\"s2\"],\"max_bytes\":100}",
               400, 10027, "maximum number of streams reached");
    /* at the limit, even the same create again is refused (2.9.10) */
    expect_err(nc, "$JS.API.STREAM.CREATE.S1", "{\"name\":\"S1\",\"subjects\":[\"s1\"],\"max_bytes\":1000}",
               400, 10027, "maximum number of streams reached");
    /* per-account API counters; this request is not counted yet */
    expect(nc, "$JS.API.INFO", NULL,
           "\"streams\":2,\"consumers\":0," L_LIMITS("2") ",\"api\":{\"total\":8,\"errors\":5}}");

    /* SIGHUP with max_streams = 3: the next create may go */
    limited_conf(text, sizeof text, 3);
    it_server_rewrite_conf(s, conf(text));
    it_server_signal(s, SIGHUP);
    bool seen = false;
    for (int i = 0; i < 500 && !seen; i++) {
        char *r = req(nc, "$JS.API.INFO", NULL);
        seen = field(r, "max_streams") == 3;
        free(r);
        if (!seen)
            usleep(10000);
    }
    assert_true(seen);
    expect(nc, "$JS.API.STREAM.CREATE.S2", "{\"name\":\"S2\",\"subjects\":[\"s2\"],\"max_bytes\":100}",
           "\"did_create\":true");
    it_nats_close(nc);
    it_ok();
}

/* Reservations against max_mem / max_file, consumers per stream,
 * max_ack_pending, and publishes past the account's storage. */
static void test_jsacct_storage_and_consumers(void **state)
{
    (void)state;
    char text[4096];
    limited_conf(text, sizeof text, 2);
    it_server *s = it_server_start(conf(text), NULL);
    natsConnection *nc = connect_user(s, "m");
    expect_err(nc, "$JS.API.STREAM.CREATE.S1", "{\"name\":\"S1\",\"subjects\":[\"s1\"],\"max_bytes\":5000}",
               500, 10047, "insufficient storage resources available");
    expect_err(nc, "$JS.API.STREAM.CREATE.M1",
               "{\"name\":\"M1\",\"subjects\":[\"m1\"],\"max_bytes\":5000,\"storage\":\"memory\"}", 500,
               10028, "insufficient memory resources available");
    expect(nc, "$JS.API.STREAM.CREATE.S1", "{\"name\":\"S1\",\"subjects\":[\"s1\"],\"max_bytes\":1500}",
           "\"did_create\":true");
    expect_err(nc, "$JS.API.STREAM.CREATE.S2", "{\"name\":\"S2\",\"subjects\":[\"s2\"],\"max_bytes\":1500}",
               500, 10047, "insufficient storage resources available");
    expect(nc, "$JS.API.STREAM.CREATE.S3", "{\"name\":\"S3\",\"subjects\":[\"s3\"]}", "\"did_create\":true");

    expect_err(nc, "$JS.API.CONSUMER.CREATE.S1.c1",
               "{\"stream_name\":\"S1\",\"config\":{\"durable_name\":\"c1\",\"ack_policy\":\"explicit\","
               "\"max_ack_pending\":10}}", 400, 10121, "consumer max ack pending exceeds system limit of 5");
    expect(nc, "$JS.API.CONSUMER.CREATE.S1.c1",
           "{\"stream_name\":\"S1\",\"config\":{\"durable_name\":\"c1\",\"ack_policy\":\"explicit\"}}",
           "\"max_ack_pending\":5,");
    expect_err(nc, "$JS.API.CONSUMER.CREATE.S1.c2",
               "{\"stream_name\":\"S1\",\"config\":{\"durable_name\":\"c2\",\"ack_policy\":\"explicit\"}}", 400,
               10026, "maximum consumers limit reached");
    /* the limit is per stream, as nats-server applies it */
    expect(nc, "$JS.API.CONSUMER.CREATE.S3.c1",
           "{\"stream_name\":\"S3\",\"config\":{\"durable_name\":\"c1\",\"ack_policy\":\"none\"}}",
           "\"name\":\"c1\"");

    /* S3 (no max_bytes) fills the account's 2048 bytes of file storage */
    char body[300];
    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = 0;
    int stored = 0;
    char *r = NULL;
    for (int i = 0; i < 20; i++) {
        free(r);
        r = req(nc, "s3", body);
        if (strstr(r, "\"error\""))
            break;
        stored++;
    }
    if (!strstr(r, "{\"error\":{\"code\":400,\"err_code\":10002,\"description\":\"resource limits exceeded for account\"}"))
        fail_msg("after %d messages: %s", stored, r);
    free(r);
    assert_true(stored >= 5 && stored <= 6);
    r = req(nc, "$JS.API.STREAM.INFO.S3", NULL);
    long long bytes = field(r, "bytes");
    assert_int_equal(field(r, "messages"), stored);
    free(r);
    assert_true(bytes > 0 && bytes <= 2048);
    r = req(nc, "$JS.API.INFO", NULL);
    assert_int_equal(field(r, "storage"), bytes);
    assert_int_equal(field(r, "memory"), 0);
    assert_int_equal(field(r, "streams"), 2);
    assert_int_equal(field(r, "consumers"), 2);
    free(r);
    it_nats_close(nc);
    it_ok();
}

/* A bad jetstream value in an account stops the server (modnats: with
 * file:line). */
static void test_jsacct_bad_settings(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text,
             "%saccounts = { A = { jetstream = \"maybe\"; users = ( { user = \"a\"; password = \"a\"; } ); }; };\n",
             js_block());
    it_expect_refused(conf(text), "expected \"enabled\" or \"disabled\" for jetstream");
    snprintf(text, sizeof text,
             "%saccounts = { A = { jetstream = { max_streams = \"lots\"; }; users = ( { user = \"a\"; password = \"a\"; } ); }; };\n",
             js_block());
    it_expect_refused(conf(text), "jetstream.max_streams must be a number");
    snprintf(text, sizeof text,
             "%saccounts = { A = { jetstream = { max_sreams = 1; }; users = ( { user = \"a\"; password = \"a\"; } ); }; };\n",
             js_block());
    it_expect_refused(conf(text), "unknown field \"max_sreams\"");
    it_ok();
}

/* Sizes written as strings (modnats only: nats-server wants them
 * unquoted there): "1G" is 10^9, "2KB" 2048, as its unquoted sizes. */
static void test_jsacct_size_strings(void **state)
{
    (void)state;
    if (it_is_nats_server()) {    /* it refuses quoted sizes in an account */
        it_ok();
        return;
    }
    char text[2048];
    snprintf(text, sizeof text,
             "%saccounts = { A = { jetstream = { max_mem = \"1G\"; max_file = \"2KB\"; };\n"
             "                     users = ( { user = \"a\"; password = \"a\"; } ); }; };\n",
             js_block());
    it_server *s = it_server_start(conf(text), NULL);
    natsConnection *nc = connect_user(s, "a");
    expect(nc, "$JS.API.INFO", NULL, "\"limits\":{\"max_memory\":1000000000,\"max_storage\":2048,");
    it_nats_close(nc);
    it_ok();
}

/* ------------------------------------------------ operator mode (JWTs) */

#if defined(MN_SRC_DIR) && defined(MN_GEN_BIN_DIR)
static char g_dir[512];

static void gen(void)
{
    snprintf(g_dir, sizeof g_dir, "%s/creds", it_tmpdir());
    it_gen_jwt_scenario(MN_SRC_DIR "/tests/gen/gen_jwt.sh", MN_GEN_BIN_DIR, g_dir);
}

static char *slurp(const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s", path);
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

/* libnats 3.4.1 now and then omits `sig` (see test_auth_jwt.c): retry. */
static natsConnection *connect_creds(const it_server *s, const char *creds)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", g_dir, creds);
    natsConnection *nc = NULL;
    natsStatus st = NATS_ERR;
    for (int i = 0; i < 3 && st != NATS_OK; i++) {
        natsOptions *o = it_nats_opts(s);
        IT_NATS_OK(natsOptions_SetUserCredentialsFromFiles(o, path, NULL));
        st = natsConnection_Connect(&nc, o);
        natsOptions_Destroy(o);
    }
    if (st != NATS_OK)
        fail_msg("login with %s: %s", creds, natsStatus_GetText(st));
    return nc;
}

/* Account J's JWT gives JetStream with limits; A's has none (disabled). */
static void test_jsacct_jwt_limits(void **state)
{
    (void)state;
    gen();
    char *base = slurp("js.conf");
    size_t len = strlen(base) + 4096;
    char *text = malloc(len);
    /* js.conf is in nats-server's own syntax (both servers read it) */
    snprintf(text, len, "%sjetstream {\n  store_dir: \"%s/js\"\n}\n", base, it_tmpdir());
    it_server *s = it_server_start(text, NULL);
    natsConnection *j = connect_creds(s, "j.creds");
    expect(j, "$JS.API.INFO", NULL,
           "\"limits\":{\"max_memory\":1024,\"max_storage\":4096,\"max_streams\":2,"
           "\"max_consumers\":1,\"max_ack_pending\":5,\"memory_max_stream_bytes\":512,"
           "\"storage_max_stream_bytes\":2048,\"max_bytes_required\":true}");
    expect_err(j, "$JS.API.STREAM.CREATE.S1", "{\"name\":\"S1\",\"subjects\":[\"s1\"]}", 400, 10113,
               "account requires a stream config to have max bytes set");
    expect_err(j, "$JS.API.STREAM.CREATE.S1", "{\"name\":\"S1\",\"subjects\":[\"s1\"],\"max_bytes\":2049}",
               400, 10122, "stream max bytes exceeds account limit max stream bytes");
    expect(j, "$JS.API.STREAM.CREATE.S1", "{\"name\":\"S1\",\"subjects\":[\"s1\"],\"max_bytes\":2048}",
           "\"did_create\":true");
    expect(j, "$JS.API.STREAM.CREATE.S2", "{\"name\":\"S2\",\"subjects\":[\"s2\"],\"max_bytes\":2047}",
           "\"did_create\":true");
    expect_err(j, "$JS.API.STREAM.CREATE.S3", "{\"name\":\"S3\",\"subjects\":[\"s3\"],\"max_bytes\":1}",
               400, 10027, "maximum number of streams reached");

    /* SIGHUP with J's JWT in resolver_preload replaced (3 streams, max
     * bytes no longer required): the next create goes */
    char *jpub = slurp("j.pub"), *jwt2 = slurp("j_limits2.jwt");
    jpub[strcspn(jpub, "\r\n")] = 0;
    jwt2[strcspn(jwt2, "\r\n")] = 0;
    char *at = strstr(base, jpub);
    assert_non_null(at);
    char *q1 = strchr(at, '"'), *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
    assert_non_null(q2);
    snprintf(text, len, "%.*s%s%sjetstream {\n  store_dir: \"%s/js\"\n}\n", (int)(q1 + 1 - base), base,
             jwt2, q2, it_tmpdir());
    free(jpub);
    free(jwt2);
    it_server_rewrite_conf(s, text);
    it_server_signal(s, SIGHUP);
    bool seen = false;
    for (int i = 0; i < 500 && !seen; i++) {
        char *r = req(j, "$JS.API.INFO", NULL);
        seen = field(r, "max_streams") == 3 && strstr(r, "\"max_bytes_required\":false");
        free(r);
        if (!seen)
            usleep(10000);
    }
    assert_true(seen);
    /* 2048 + 2047 bytes reserved of 4096: one more byte fits (a stream
     * without max_bytes reserves 1), then nothing */
    expect(j, "$JS.API.STREAM.CREATE.S3", "{\"name\":\"S3\",\"subjects\":[\"s3\"]}", "\"did_create\":true");
    expect_err(j, "$JS.API.STREAM.CREATE.S4", "{\"name\":\"S4\",\"subjects\":[\"s4\"]}", 400, 10027,
               "maximum number of streams reached");
    free(base);
    free(text);
    expect(j, "$JS.API.CONSUMER.CREATE.S1.c1",
           "{\"stream_name\":\"S1\",\"config\":{\"durable_name\":\"c1\",\"ack_policy\":\"explicit\"}}",
           "\"max_ack_pending\":5,");
    expect_err(j, "$JS.API.CONSUMER.CREATE.S1.c2",
               "{\"stream_name\":\"S1\",\"config\":{\"durable_name\":\"c2\",\"ack_policy\":\"explicit\"}}", 400,
               10026, "maximum consumers limit reached");
    natsConnection *a = connect_creds(s, "a.creds");
    expect(a, "$JS.API.INFO", NULL, T "account_info_response\"," DISABLED "}");
    it_nats_close(a);
    it_nats_close(j);
    it_ok();
}
#endif

int main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_jsacct_only_enabled_accounts, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_jsacct_global_without_accounts, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_jsacct_stream_limits, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_jsacct_storage_and_consumers, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_jsacct_bad_settings, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_jsacct_size_strings, it_setup, it_teardown),
#if defined(MN_SRC_DIR) && defined(MN_GEN_BIN_DIR)
        cmocka_unit_test_setup_teardown(test_jsacct_jwt_limits, it_setup, it_teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
