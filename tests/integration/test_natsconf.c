/*
 * test_natsconf.c - nats-server configuration files handed to the server
 * as they are: several of nats-server's own test configs (its
 * test/configs and server/configs directories, Apache-2.0, copied
 * unchanged below), and one file that uses every construct of the format.
 * Each server is started from the file (the harness adds -a/-p, which win
 * over the file's listen as in nats-server) and must serve libnats clients
 * and raw protocol connections with the file's limits, users and
 * permissions.  Run against /usr/sbin/nats-server too (MN_TEST_SERVER),
 * the same assertions hold.
 *
 * Two files name fixed monitoring ports (8233, 8222): those tests skip
 * when the port is taken by something else.
 */
#include "itnats.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- nats-server's files, unchanged ------------------------------------- */

/* test/configs/override.conf */
static const char OVERRIDE_CONF[] =
    "# Config file to test overrides to client\n"
    "\n"
    "listen: 127.0.0.1:5224\n"
    "\n"
    "# maximum payload\n"
    "max_payload: 2222\n";

/* test/configs/multi_user.conf */
static const char MULTI_USER_CONF[] =
    "listen: 127.0.0.1:4233\n"
    "http: 127.0.0.1:8233\n"
    "\n"
    "authorization {\n"
    "    users = [\n"
    "      {user: alice, password: foo}\n"
    "      {user: bob,   password: bar}\n"
    "    ]\n"
    "}\n";

/* server/configs/multiple_users.conf */
static const char MULTIPLE_USERS_CONF[] =
    "listen: 127.0.0.1:4443\n"
    "\n"
    "authorization {\n"
    "    users = [\n"
    "      {user: alice, password: foo}\n"
    "      {user: bob,   password: bar}\n"
    "    ]\n"
    "    timeout: 0.5\n"
    "}\n";

/* server/configs/include_conf_check_{a,b,c}.conf */
static const char INCLUDE_A_CONF[] =
    "\n"
    "port = 4222\n"
    "\n"
    "include \"include_conf_check_b.conf\"\n"
    "\n"
    "http_port = $monitoring_port\n";
static const char INCLUDE_B_CONF[] =
    "monitoring_port = 8222\n"
    "\n"
    "include \"include_conf_check_c.conf\"\n";
static const char INCLUDE_C_CONF[] =
    "\n"
    "authorization {\n"
    "  user = \"foo\"\n"
    "  pass = \"bar\"\n"
    "}\n";

/* server/configs/new_style_authorization.conf */
static const char NEW_STYLE_CONF[] =
    "listen: 127.0.0.1:4222\n"
    "\n"
    "authorization {\n"
    "  # Our new style role based permissions.\n"
    "  # These support both allow and deny.\n"
    "\n"
    "  # If allow is empty it means all or \">\"\n"
    "  # If deny is empty it means none, or empty list.\n"
    "\n"
    "  normal_user = {\n"
    "    # Can send to foo, bar or baz only.\n"
    "    publish = {\n"
    "      allow = [\"foo\", \"bar\", \"baz\"]\n"
    "    }\n"
    "    # Can subscribe to everything but $SYS prefixed subjects.\n"
    "    subscribe = {\n"
    "      deny = \"$SYS.>\"\n"
    "    }\n"
    "  }\n"
    "\n"
    " admin_user = {\n"
    "   publish = \"$SYS.>\"\n"
    "   subscribe = {\n"
    "     deny = [\"foo\", \"bar\", \"baz\"]\n"
    "   }\n"
    " }\n"
    "\n"
    "  # Users listed with persmissions.\n"
    "  users = [\n"
    "    {user: alice, password: foo, permissions: $normal_user}\n"
    "    {user: bob, password: special, permissions: $admin_user}\n"
    "  ]\n"
    "}\n";

/* test/configs/authorization.conf and the auths.conf it includes: nats-server
 * 2.9 itself refuses this pair (auths.conf defines roles it never uses,
 * "unknown field"); modnats must refuse it too, naming the file and line. */
static const char AUTHORIZATION_CONF[] =
    "listen: 127.0.0.1:2442\n"
    "\n"
    "authorization {\n"
    "  # Authorizations\n"
    "  include \"auths.conf\"\n"
    "\n"
    "  # Just foo for testing\n"
    "  PASS: $2a$10$UHR6GhotWhpLsKtVP0/i6.Nh9.fuY73cWjLoJjb2sKT8KISBcUW5q\n"
    "\n"
    "  # Users listed with permissions.\n"
    "  users = [\n"
    "    {user: alice, password: $PASS, permissions: $ADMIN}\n"
    "    {user: bob,   password: $PASS, permissions: $REQUESTOR}\n"
    "    {user: bench, password: $PASS, permissions: $BENCH}\n"
    "    {user: joe,   password: $PASS}\n"
    "  ]\n"
    "}\n";
static const char AUTHS_CONF[] =
    "# Our role based permissions.\n"
    "\n"
    "# Admin can do anything.\n"
    "ADMIN = {\n"
    "  publish = \">\"\n"
    "  subscribe = \">\"\n"
    "}\n"
    "\n"
    "# Can do requests on req.foo or req.bar, and subscribe to anything\n"
    "# that is a response, e.g. _INBOX.*\n"
    "#\n"
    "# Notice that authorization filters can be singletons or arrays.\n"
    "\n"
    "REQUESTOR = {\n"
    "  publish = [\"req.foo\", \"req.bar\"]\n"
    "  subscribe = \"_INBOX.*\"\n"
    "}\n"
    "\n"
    "# Default permissions if none presented. e.g. Joe below.\n"
    "DEFAULT_PERMISSIONS = {\n"
    "   publish = \"SANDBOX.*\"\n"
    "   subscribe = [\"PUBLIC.>\", \"_INBOX.>\"]\n"
    "}\n"
    "\n"
    "# This is to benchmark pub performance.\n"
    "BENCH = {\n"
    "   publish = \"a\"\n"
    "}\n"
    "\n"
    "# New Style Permissions\n"
    "\n"
    "NEW_STYLE = {\n"
    "  publish = {\n"
    "    allow = \"*.*\"\n"
    "    deny = [\"SYS.*\", \"bar.baz\", \"foo.*\"]\n"
    "  }\n"
    "  subscribe = {\n"
    "    allow = \"foo.*\"\n"
    "    deny = \"foo.baz\"\n"
    "  }\n"
    "}\n"
    "\n"
    "NS_PUB = {\n"
    "  publish = \"foo.baz\"\n"
    "  subscribe = \"foo.baz\"\n"
    "}\n"
    "\n"
    "BENCH_DENY = {\n"
    "   subscribe = {\n"
    "    allow = [\"foo\", \"*\"]\n"
    "    deny = \"foo.bar\"\n"
    "  }\n"
    "}";

/* ---- helpers ------------------------------------------------------------ */

static void expect(it_raw *r, const char *needle, int ms)
{
    if (!it_raw_expect(r, needle, ms)) {
        it_raw_dump(r, "raw connection");
        fail_msg("expected \"%s\" from the server", needle);
    }
}

/* A raw client that sent CONNECT with these fields and a PING. */
static it_raw *raw_login(const it_server *s, const char *fields)
{
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1%s%s}\r\nPING\r\n",
                fields[0] ? "," : "", fields);
    return r;
}

static natsConnection *connect_user(const it_server *s, const char *user, const char *pass,
                                    natsStatus *st)
{
    natsOptions *o = it_nats_opts(s);
    if (user)
        IT_NATS_OK(natsOptions_SetUserInfo(o, user, pass));
    natsConnection *nc = NULL;
    *st = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    return nc;
}

/* Publish on subj and receive it back on a subscription of the same
 * connection. */
static void round_trip(natsConnection *nc, const char *subj)
{
    natsSubscription *sub = NULL;
    natsMsg *m = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, nc, subj));
    IT_NATS_OK(natsConnection_PublishString(nc, subj, "hello"));
    IT_NATS_OK(natsSubscription_NextMsg(&m, sub, 5000));
    assert_string_equal(natsMsg_GetData(m), "hello");
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
}

static bool port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* GET path from 127.0.0.1:port; the reply (static buffer). */
static const char *http_get(int port, const char *path)
{
    static char buf[16384];
    buf[0] = '\0';
    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            close(fd);
            it_sleep_ms(100);
            continue;
        }
        char req[256];
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
        if (write(fd, req, (size_t)n) != n) {
            close(fd);
            continue;
        }
        size_t len = 0;
        ssize_t got;
        while (len + 1 < sizeof buf && (got = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
            len += (size_t)got;
        buf[len] = '\0';
        close(fd);
        return buf;
    }
    fail_msg("nothing listens on 127.0.0.1:%d", port);
    return buf;
}

/* Run the server binary with args, wait; exit status, output in out. */
static int run_binary(const char *const *args, char *out, size_t outlen)
{
    char log[512];
    snprintf(log, sizeof log, "%s/run.log", it_tmpdir());
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        const char *argv[16] = {it_server_binary()};
        int n = 1;
        for (; args[n - 1] && n < 15; n++)
            argv[n] = args[n - 1];
        argv[n] = NULL;
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    FILE *f = fopen(log, "r");
    size_t len = f ? fread(out, 1, outlen - 1, f) : 0;
    out[len] = '\0';
    if (f)
        fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* ---- the tests ---------------------------------------------------------- */

/* override.conf: the file's max_payload reaches the clients. */
static void test_override_conf(void **state)
{
    (void)state;
    it_server *s = it_server_start(OVERRIDE_CONF, NULL);
    natsConnection *nc = it_nats_connect(s);
    assert_int_equal(natsConnection_GetMaxPayload(nc), 2222);
    round_trip(nc, "override.test");
    char big[3000];
    memset(big, 'x', sizeof big);
    assert_int_not_equal(natsConnection_Publish(nc, "override.test", big, sizeof big), NATS_OK);
    it_nats_close(nc);
    it_ok();
}

/* multi_user.conf: its users, and the monitor on the file's http port. */
static void test_multi_user_conf(void **state)
{
    (void)state;
    if (!port_free(8233))
        skip();
    it_server *s = it_server_start(MULTI_USER_CONF, NULL);
    natsStatus st;
    natsConnection *a = connect_user(s, "alice", "foo", &st);
    IT_NATS_OK(st);
    natsConnection *b = connect_user(s, "bob", "bar", &st);
    IT_NATS_OK(st);
    round_trip(a, "mu.a");
    round_trip(b, "mu.b");
    natsConnection *bad = connect_user(s, "alice", "bar", &st);
    assert_int_not_equal(st, NATS_OK);
    assert_null(bad);
    bad = connect_user(s, NULL, NULL, &st);
    assert_int_not_equal(st, NATS_OK);
    const char *varz = http_get(8233, "/varz");
    assert_non_null(strstr(varz, "200 OK"));
    assert_non_null(strstr(varz, "\"server_id\""));
    it_nats_close(a);
    it_nats_close(b);
    it_ok();
}

/* multiple_users.conf: users and a fractional auth timeout. */
static void test_multiple_users_conf(void **state)
{
    (void)state;
    it_server *s = it_server_start(MULTIPLE_USERS_CONF, NULL);
    natsStatus st;
    natsConnection *a = connect_user(s, "bob", "bar", &st);
    IT_NATS_OK(st);
    round_trip(a, "mus");
    it_nats_close(a);
    /* timeout: 0.5 - a connection that never sends CONNECT is closed soon. */
    it_raw *r = it_raw_open(s->port, 0);
    long long t0 = it_now_ms();
    assert_true(it_raw_wait_closed(r, 5000));
    assert_true(it_now_ms() - t0 < 3000);
    it_raw_close(r);
    it_ok();
}

/* include_conf_check_a.conf: includes two levels deep, a variable defined in
 * an included file used after the include, authorization from the last. */
static void test_include_conf(void **state)
{
    (void)state;
    if (!port_free(8222))
        skip();
    char path[512];
    it_write_file("include_conf_check_b.conf", INCLUDE_B_CONF, path, sizeof path);
    it_write_file("include_conf_check_c.conf", INCLUDE_C_CONF, path, sizeof path);
    it_write_file("include_conf_check_a.conf", INCLUDE_A_CONF, path, sizeof path);
    const char *const extra[] = {"-c", path, NULL};
    it_server *s = it_server_start(NULL, extra);
    natsStatus st;
    natsConnection *nc = connect_user(s, "foo", "bar", &st);
    IT_NATS_OK(st);
    round_trip(nc, "inc.check");
    it_nats_close(nc);
    connect_user(s, "foo", "wrong", &st);
    assert_int_not_equal(st, NATS_OK);
    assert_non_null(strstr(http_get(8222, "/varz"), "\"server_id\""));
    it_ok();
}

/* new_style_authorization.conf: permissions given as variables, allow and
 * deny lists, "$SYS.>" subjects. */
static void test_new_style_authorization_conf(void **state)
{
    (void)state;
    it_server *s = it_server_start(NEW_STYLE_CONF, NULL);
    it_raw *alice = raw_login(s, "\"user\":\"alice\",\"pass\":\"foo\"");
    expect(alice, "PONG\r\n", 5000);
    it_raw_send(alice, "SUB foo 1\r\nPUB foo 2\r\nhi\r\nPING\r\n");
    expect(alice, "MSG foo 1 2\r\nhi\r\n", 5000);
    it_raw_send(alice, "PUB other 2\r\nhi\r\n");
    expect(alice, "-ERR 'Permissions Violation for Publish to \"other\"'", 5000);
    it_raw_send(alice, "SUB $SYS.x 2\r\n");
    expect(alice, "-ERR 'Permissions Violation for Subscription to \"$SYS.x\"'", 5000);

    it_raw *bob = raw_login(s, "\"user\":\"bob\",\"pass\":\"special\"");
    expect(bob, "PONG\r\n", 5000);
    it_raw_send(bob, "SUB foo 1\r\n");
    expect(bob, "-ERR 'Permissions Violation for Subscription to \"foo\"'", 5000);
    it_raw_send(bob, "SUB $SYS.a 2\r\nPUB $SYS.a 1\r\nx\r\n");
    expect(bob, "MSG $SYS.a 2 1\r\nx\r\n", 5000);
    it_raw_close(alice);
    it_raw_close(bob);
    it_ok();
}

/* authorization.conf + auths.conf: refused by both servers, with the
 * included file and the line of the first key nobody uses. */
static void test_authorization_conf_refused(void **state)
{
    (void)state;
    char path[512], out[4096];
    it_write_file("auths.conf", AUTHS_CONF, path, sizeof path);
    it_write_file("authorization.conf", AUTHORIZATION_CONF, path, sizeof path);
    const char *const args[] = {"-c", path, "-p", "-1", "-a", "127.0.0.1", NULL};
    int rc = run_binary(args, out, sizeof out);
    assert_int_not_equal(rc, 0);
    if (!strstr(out, "auths.conf:32") && !strstr(out, "auths.conf:43") &&
        !strstr(out, "auths.conf:48"))
        fail_msg("no place in: %s", out);
    if (!strstr(out, "NEW_STYLE") && !strstr(out, "NS_PUB") && !strstr(out, "BENCH_DENY"))
        fail_msg("no key in: %s", out);
    it_ok();
}

/* Every construct of the format in one file, served by both servers. */
static void test_all_constructs(void **state)
{
    (void)state;
    char path[512];
    setenv("MN_IT_NC_PAYLOAD", "4k", 1);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/inc", it_tmpdir());
    mkdir(dir, 0700);
    it_write_file("inc/roles.conf",
                  "// roles, included relative to the including file\n"
                  "ROLE: { publish: [\"ok.>\", \"_INBOX.>\"], subscribe = \">\" }\n",
                  path, sizeof path);
    const char *text =
        "# nats-server syntax, every construct\n"
        "listen 127.0.0.1:4222\n"
        "server_name: 'constructs'\n"
        "max_payload = $MN_IT_NC_PAYLOAD\n"
        "max_pending: 64MB\n"
        "max_control_line: 4KB; ping_interval: \"2m\", write_deadline 10s\n"
        "lame_duck_duration: \"30s\"\n"
        "authorization {\n"
        "  include inc/roles.conf\n"
        "  SECRET = \"s3cr\\x65t\"\n"
        "  users [\n"
        "    {user: \"dave\", password: $SECRET, permissions: $ROLE},\n"
        "    {user: erin\n     password: plain}\n"
        "  ]\n"
        "  timeout: 1\n"
        "}\n"
        "debug: false\n"
        "trace off\n"
        "}\n";
    it_server *s = it_server_start(text, NULL);
    natsStatus st;
    natsConnection *nc = connect_user(s, "dave", "s3cret", &st);
    IT_NATS_OK(st);
    assert_int_equal(natsConnection_GetMaxPayload(nc), 4000);
    round_trip(nc, "ok.constructs");
    it_nats_close(nc);
    nc = connect_user(s, "erin", "plain", &st);
    IT_NATS_OK(st);
    round_trip(nc, "erin.anything");
    it_nats_close(nc);
    it_raw *r = raw_login(s, "\"user\":\"dave\",\"pass\":\"s3cret\"");
    expect(r, "PONG\r\n", 5000);
    it_raw_send(r, "PUB no.way 1\r\nx\r\n");
    expect(r, "-ERR 'Permissions Violation for Publish to \"no.way\"'", 5000);
    it_raw_close(r);
    unsetenv("MN_IT_NC_PAYLOAD");
    it_ok();
}

/* A broken file: both refuse to start; modnats says file:line:col. */
static void test_syntax_error(void **state)
{
    (void)state;
    char path[512], out[4096];
    it_write_file("broken.conf", "listen: 127.0.0.1:4222\nauthorization {\n  users = [\n"
                  "    {user: a, password: b}\n", path, sizeof path);
    const char *const args[] = {"-c", path, "-t", NULL};
    assert_int_not_equal(run_binary(args, out, sizeof out), 0);
    if (!it_is_nats_server()) {
        char want[600];
        snprintf(want, sizeof want, "%s:3:11: list not terminated (missing ']')", path);
        if (!strstr(out, want))
            fail_msg("expected \"%s\" in: %s", want, out);
    }
    it_ok();
}

int main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_override_conf, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_multi_user_conf, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_multiple_users_conf, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_include_conf, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_new_style_authorization_conf, it_setup,
                                        it_teardown),
        cmocka_unit_test_setup_teardown(test_authorization_conf_refused, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_all_constructs, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error, it_setup, it_teardown),
    };
    int rc = cmocka_run_group_tests_name("integration.natsconf", tests, NULL, NULL);
    nats_Close();
    return rc;
}
