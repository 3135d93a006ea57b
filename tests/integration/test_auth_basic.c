/*
 * test_auth_basic.c - the auth_basic module against a real server: every
 * login mode (token, user/password, users list with plain and bcrypt
 * passwords, no_auth_user, the --user/--pass and --auth flags) and every
 * permission rule (publish and subscribe allow/deny, deny over allow,
 * default_permissions, allow_responses with its limits), plus settings
 * that must stop the server from starting.
 *
 * Configs are written once in libconfig syntax; for the reference
 * nats-server, lists of groups "( ... )" become "[ ... ]" and the
 * `modules` line (which nats-server rejects) is left out.
 */
#include "itnats.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* bcrypt (cost 4) of "bcrypt-pass" and "bcrypt-token" */
#define HASH_PASS  "$2a$04$VYRuqwZJvESRmY.kgSsZ4ul7IvPwZopc/03vNXrOCkx6SEL6N2B26"
#define HASH_TOKEN "$2a$04$s8D/KG9axwm4mXx4ZUvyl.iMSkSudRUYr7nQJwyTeVjfSQth/EUuC"

#define MODULES_LINE "modules = [\"auth_basic\"];\n"

/* The config for the server under test (static buffer). */
static const char *conf(const char *body)
{
    static char buf[8192];
    size_t n = 0;
    if (!it_is_nats_server())
        n = (size_t)snprintf(buf, sizeof buf, "%s", MODULES_LINE);
    bool quoted = false;
    for (const char *p = body; *p && n + 1 < sizeof buf; p++) {
        char ch = *p;
        if (ch == '"')
            quoted = !quoted;
        else if (!quoted && it_is_nats_server() && ch == '(')
            ch = '[';
        else if (!quoted && it_is_nats_server() && ch == ')')
            ch = ']';
        buf[n++] = ch;
    }
    buf[n] = '\0';
    return buf;
}

static void expect(it_raw *r, const char *needle, int ms)
{
    if (!it_raw_expect(r, needle, ms)) {
        it_raw_dump(r, "raw connection");
        fail_msg("expected \"%s\" from the server", needle);
    }
}

/* A raw client logged in with the given CONNECT fields (JSON members,
 * e.g. "\"user\":\"a\",\"pass\":\"b\""), checked with PING/PONG. */
static it_raw *login(const it_server *s, const char *fields)
{
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1%s%s}\r\nPING\r\n",
                fields[0] ? "," : "", fields);
    expect(r, "PONG\r\n", 5000);
    return r;
}

/* A raw client whose login must be refused. */
static void login_refused(const it_server *s, const char *fields)
{
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1%s%s}\r\nPING\r\n",
                fields[0] ? "," : "", fields);
    if (!it_raw_expect(r, "-ERR 'Authorization Violation'\r\n", 5000)) {
        it_raw_dump(r, "refused login");
        fail_msg("login with {%s} was not refused", fields);
    }
    if (!it_raw_wait_closed(r, 5000))
        fail_msg("refused login {%s}: connection not closed", fields);
    if (it_raw_count(r, "PONG"))
        fail_msg("refused login {%s} got a PONG", fields);
    it_raw_close(r);
}

/* PING, and the connection must answer: it is still open. */
static void still_open(it_raw *r)
{
    it_raw_send(r, "PING\r\n");
    expect(r, "PONG\r\n", 5000);
}

static void pub(it_raw *r, const char *subject, const char *reply, const char *data)
{
    if (reply)
        it_raw_send(r, "PUB %s %s %zu\r\n%s\r\n", subject, reply, strlen(data), data);
    else
        it_raw_send(r, "PUB %s %zu\r\n%s\r\n", subject, strlen(data), data);
}

static void pub_violation(it_raw *r, const char *subject)
{
    char want[256];
    snprintf(want, sizeof want, "-ERR 'Permissions Violation for Publish to \"%s\"'\r\n", subject);
    expect(r, want, 5000);
}

static void sub_violation(it_raw *r, const char *subject)
{
    char want[256];
    snprintf(want, sizeof want, "-ERR 'Permissions Violation for Subscription to \"%s\"'\r\n", subject);
    expect(r, want, 5000);
}

/* libnats connect attempts */
static natsStatus nats_try(const it_server *s, const char *user, const char *pass, const char *token)
{
    natsOptions *o = it_nats_opts(s);
    if (user)
        IT_NATS_OK(natsOptions_SetUserInfo(o, user, pass));
    if (token)
        IT_NATS_OK(natsOptions_SetToken(o, token));
    natsConnection *nc = NULL;
    natsStatus st = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    if (st == NATS_OK) {
        /* a round trip proves the login stuck */
        st = natsConnection_FlushTimeout(nc, 5000);
        it_nats_close(nc);
    }
    return st;
}

/* ------------------------------------------------------------ logins */

static void test_token(void **state)
{
    it_server *s = it_server_start(conf("authorization = { token = \"s3cr3t\"; };\n"), NULL);
    it_raw *r = login(s, "\"auth_token\":\"s3cr3t\"");
    assert_non_null(strstr(it_raw_info(r), "\"auth_required\":true"));
    it_raw_close(r);
    login_refused(s, "\"auth_token\":\"wrong\"");
    login_refused(s, "");
    login_refused(s, "\"user\":\"s3cr3t\",\"pass\":\"s3cr3t\"");
    assert_int_equal(nats_try(s, NULL, NULL, "s3cr3t"), NATS_OK);
    assert_int_not_equal(nats_try(s, NULL, NULL, "nope"), NATS_OK);
    it_ok();
}

static void test_token_bcrypt(void **state)
{
    it_server *s = it_server_start(conf("authorization = { token = \"" HASH_TOKEN "\"; };\n"), NULL);
    it_raw_close(login(s, "\"auth_token\":\"bcrypt-token\""));
    login_refused(s, "\"auth_token\":\"" HASH_TOKEN "\"");
    login_refused(s, "\"auth_token\":\"bcrypt-tokeN\"");
    it_ok();
}

static void test_user_password(void **state)
{
    it_server *s = it_server_start(
        conf("authorization = { user = \"derek\"; password = \"T0pS3cr3t\"; timeout = 2; };\n"), NULL);
    it_raw_close(login(s, "\"user\":\"derek\",\"pass\":\"T0pS3cr3t\""));
    login_refused(s, "\"user\":\"derek\",\"pass\":\"wrong\"");
    login_refused(s, "\"user\":\"derek\"");
    login_refused(s, "\"user\":\"other\",\"pass\":\"T0pS3cr3t\"");
    login_refused(s, "\"auth_token\":\"T0pS3cr3t\"");
    login_refused(s, "");
    assert_int_equal(nats_try(s, "derek", "T0pS3cr3t", NULL), NATS_OK);
    assert_int_not_equal(nats_try(s, "derek", "x", NULL), NATS_OK);
    it_ok();
}

static void test_users_plain_and_bcrypt(void **state)
{
    it_server *s = it_server_start(conf(
        "authorization = {\n"
        "  users = (\n"
        "    { user = \"alice\"; password = \"alice-pass\"; },\n"
        "    { user = \"bob\"; password = \"" HASH_PASS "\"; }\n"
        "  );\n"
        "};\n"), NULL);
    it_raw_close(login(s, "\"user\":\"alice\",\"pass\":\"alice-pass\""));
    it_raw_close(login(s, "\"user\":\"bob\",\"pass\":\"bcrypt-pass\""));
    login_refused(s, "\"user\":\"alice\",\"pass\":\"bcrypt-pass\"");
    login_refused(s, "\"user\":\"bob\",\"pass\":\"alice-pass\"");
    login_refused(s, "\"user\":\"bob\",\"pass\":\"" HASH_PASS "\"");
    login_refused(s, "\"user\":\"carol\",\"pass\":\"alice-pass\"");
    login_refused(s, "");
    assert_int_equal(nats_try(s, "bob", "bcrypt-pass", NULL), NATS_OK);
    assert_int_not_equal(nats_try(s, "bob", "bcrypt-pasS", NULL), NATS_OK);

    /* several bcrypt logins at once all finish */
    enum { N = 8 };
    it_raw *rs[N];
    for (int i = 0; i < N; i++) {
        rs[i] = it_raw_open(s->port, 0);
        it_raw_send(rs[i], "CONNECT {\"verbose\":false,\"user\":\"bob\",\"pass\":\"%s\"}\r\nPING\r\n",
                    i % 2 ? "bcrypt-pass" : "wrong");
    }
    for (int i = 0; i < N; i++) {
        expect(rs[i], i % 2 ? "PONG\r\n" : "-ERR 'Authorization Violation'\r\n", 10000);
        it_raw_close(rs[i]);
    }
    it_ok();
}

static void test_no_auth_user(void **state)
{
    it_server *s = it_server_start(conf(
        "authorization = {\n"
        "  users = (\n"
        "    { user = \"alice\"; password = \"alice-pass\"; },\n"
        "    { user = \"guest\"; password = \"guest-pass\";\n"
        "      permissions = { publish = [\"public.>\"]; }; }\n"
        "  );\n"
        "};\n"
        "no_auth_user = \"guest\";\n"), NULL);
    /* no credentials: logged in as guest, with guest's permissions */
    it_raw *g = login(s, "");
    pub(g, "public.news", NULL, "hi");
    pub(g, "private", NULL, "no");
    pub_violation(g, "private");
    still_open(g);
    it_raw_close(g);
    /* credentials that fail are refused, not mapped to guest */
    login_refused(s, "\"user\":\"alice\",\"pass\":\"wrong\"");
    login_refused(s, "\"user\":\"nobody\",\"pass\":\"x\"");
    it_raw *a = login(s, "\"user\":\"alice\",\"pass\":\"alice-pass\"");
    pub(a, "private", NULL, "yes");
    still_open(a);
    if (it_raw_count(a, "Permissions Violation"))
        fail_msg("alice got guest's permissions");
    it_raw_close(a);
    assert_int_equal(nats_try(s, NULL, NULL, NULL), NATS_OK);
    it_ok();
}

static const char *const cli_user[] = { "--user", "cliu", "--pass", "clip", NULL };
static const char *const cli_auth[] = { "--auth", "clitok", NULL };

static void test_cli_user_pass(void **state)
{
    it_server *s = it_server_start(it_is_nats_server() ? NULL : MODULES_LINE, cli_user);
    it_raw_close(login(s, "\"user\":\"cliu\",\"pass\":\"clip\""));
    login_refused(s, "\"user\":\"cliu\",\"pass\":\"nope\"");
    login_refused(s, "");
    it_ok();
}

static void test_cli_auth(void **state)
{
    it_server *s = it_server_start(it_is_nats_server() ? NULL : MODULES_LINE, cli_auth);
    it_raw_close(login(s, "\"auth_token\":\"clitok\""));
    login_refused(s, "\"auth_token\":\"nope\"");
    login_refused(s, "");
    it_ok();
}

/* ------------------------------------------------------------ permissions */

#define WATCHER "{ user = \"watch\"; password = \"w\"; }"

/* Publish allow/deny: denied messages get the -ERR, are not delivered,
 * and the connection stays open; deny wins over allow. */
static void test_publish_permissions(void **state)
{
    it_server *s = it_server_start(conf(
        "authorization = {\n"
        "  users = (\n"
        "    " WATCHER ",\n"
        "    { user = \"p\"; password = \"p\";\n"
        "      permissions = { publish = { allow = [\"foo.>\", \"one\"]; deny = [\"foo.secret\"]; }; }; }\n"
        "  );\n"
        "};\n"), NULL);
    it_raw *w = login(s, "\"user\":\"watch\",\"pass\":\"w\"");
    it_raw_send(w, "SUB > 1\r\n");
    still_open(w);

    it_raw *p = login(s, "\"user\":\"p\",\"pass\":\"p\"");
    pub(p, "foo.ok", NULL, "ok1");
    pub(p, "foo.secret", NULL, "bad1");
    pub_violation(p, "foo.secret");
    pub(p, "bar", NULL, "bad2");
    pub_violation(p, "bar");
    pub(p, "one", NULL, "ok2");
    pub(p, "one.two", NULL, "bad3");
    pub_violation(p, "one.two");
    still_open(p);

    expect(w, "MSG foo.ok 1 3\r\nok1\r\n", 5000);
    expect(w, "MSG one 1 3\r\nok2\r\n", 5000);
    still_open(w);
    if (it_raw_count(w, "bad"))
        fail_msg("a denied publish was delivered");
    it_raw_close(p);
    it_raw_close(w);

    /* libnats sees the error asynchronously and keeps the connection */
    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetUserInfo(o, "p", "p"));
    natsConnection *nc = it_nats_connect_opts(o);
    IT_NATS_OK(natsConnection_PublishString(nc, "bar", "x"));
    natsConnection_FlushTimeout(nc, 2000);
    IT_NATS_OK(natsConnection_PublishString(nc, "foo.x", "y"));
    IT_NATS_OK(natsConnection_FlushTimeout(nc, 5000));
    assert_false(natsConnection_IsClosed(nc));
    it_nats_close(nc);
    it_ok();
}

/* Subscribe allow/deny, deny over allow; a wildcard subscription that
 * overlaps a denied subject does not receive messages on it. */
static void test_subscribe_permissions(void **state)
{
    it_server *s = it_server_start(conf(
        "authorization = {\n"
        "  users = (\n"
        "    " WATCHER ",\n"
        "    { user = \"s\"; password = \"s\";\n"
        "      permissions = { subscribe = { allow = [\"ok.>\", \"solo\"]; deny = [\"ok.secret\"]; }; }; }\n"
        "  );\n"
        "};\n"), NULL);
    it_raw *c = login(s, "\"user\":\"s\",\"pass\":\"s\"");
    it_raw_send(c, "SUB nope 1\r\n");
    sub_violation(c, "nope");
    it_raw_send(c, "SUB ok.secret 2\r\n");
    sub_violation(c, "ok.secret");
    it_raw_send(c, "SUB ok.x 3\r\nSUB solo 4\r\nSUB ok.> 5\r\n");
    still_open(c);
    if (it_raw_count(c, "Permissions Violation") != 2)
        fail_msg("allowed subscriptions were refused");

    it_raw *w = login(s, "\"user\":\"watch\",\"pass\":\"w\"");
    pub(w, "nope", NULL, "n1");
    pub(w, "ok.secret", NULL, "n2");
    pub(w, "ok.x", NULL, "y1");
    pub(w, "solo", NULL, "y2");
    still_open(w);
    expect(c, "MSG ok.x 3 2\r\ny1\r\n", 5000);
    expect(c, "MSG solo 4 2\r\ny2\r\n", 5000);
    still_open(c);
    if (it_raw_count(c, "n1"))
        fail_msg("a message on \"nope\" was delivered though its SUB was refused");
    /* nats-server keeps ok.> but filters out what its deny list covers */
    if (it_raw_count(c, "n2"))
        fail_msg("a message on the denied \"ok.secret\" was delivered to the \"ok.>\" "
                 "subscription (deliveries to a wildcard subscription must skip denied subjects)");
    it_raw_close(w);
    it_raw_close(c);

    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetUserInfo(o, "s", "s"));
    natsConnection *nc = it_nats_connect_opts(o);
    natsSubscription *sub = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&sub, nc, "ok.lib"));
    IT_NATS_OK(natsConnection_FlushTimeout(nc, 5000));
    natsSubscription_Destroy(sub);
    assert_false(natsConnection_IsClosed(nc));
    it_nats_close(nc);
    it_ok();
}

/* default_permissions apply to users without their own. */
static void test_default_permissions(void **state)
{
    it_server *s = it_server_start(conf(
        "authorization = {\n"
        "  default_permissions = { publish = [\"def.>\"]; subscribe = [\"def.>\"]; };\n"
        "  users = (\n"
        "    { user = \"d\"; password = \"d\"; },\n"
        "    { user = \"own\"; password = \"o\"; permissions = { publish = [\"own.>\"]; }; }\n"
        "  );\n"
        "};\n"), NULL);
    it_raw *d = login(s, "\"user\":\"d\",\"pass\":\"d\"");
    pub(d, "def.a", NULL, "1");
    pub(d, "own.a", NULL, "2");
    pub_violation(d, "own.a");
    it_raw_send(d, "SUB other 1\r\n");
    sub_violation(d, "other");
    still_open(d);
    it_raw *o = login(s, "\"user\":\"own\",\"pass\":\"o\"");
    pub(o, "def.a", NULL, "1");
    pub_violation(o, "def.a");
    it_raw_send(o, "SUB anything 1\r\n");   /* own permissions replace the defaults */
    still_open(o);
    if (it_raw_count(o, "Subscription"))
        fail_msg("the defaults were applied to a user with its own permissions");
    it_raw_close(d);
    it_raw_close(o);
    it_ok();
}

/* allow_responses: a responder may publish to the reply subject of a
 * request it received, max times within expires, and nowhere else. */
static void test_allow_responses(void **state)
{
    it_server *s = it_server_start(conf(
        "authorization = {\n"
        "  users = (\n"
        "    { user = \"cli\"; password = \"c\"; },\n"
        "    { user = \"svc\"; password = \"s\";\n"
        "      permissions = { subscribe = [\"svc.echo\"]; allow_responses = true; }; },\n"
        "    { user = \"svc2\"; password = \"s\";\n"
        "      permissions = { subscribe = [\"svc.two\"];\n"
        "                      allow_responses = { max = 2; expires = \"1s\"; }; }; }\n"
        "  );\n"
        "};\n"), NULL);
    it_raw *svc = login(s, "\"user\":\"svc\",\"pass\":\"s\"");
    it_raw_send(svc, "SUB svc.echo 1\r\n");
    still_open(svc);
    it_raw *cli = login(s, "\"user\":\"cli\",\"pass\":\"c\"");
    it_raw_send(cli, "SUB reply.> 9\r\n");
    still_open(cli);

    /* no request yet: publishing to the future reply subject is denied */
    pub(svc, "reply.a", NULL, "early");
    pub_violation(svc, "reply.a");
    pub(svc, "anything", NULL, "x");
    pub_violation(svc, "anything");

    pub(cli, "svc.echo", "reply.a", "req");
    expect(svc, "MSG svc.echo 1 reply.a 3\r\nreq\r\n", 5000);
    pub(svc, "reply.a", NULL, "resp1");
    pub(svc, "reply.a", NULL, "resp2");   /* max 1 */
    pub_violation(svc, "reply.a");
    still_open(svc);
    expect(cli, "MSG reply.a 9 5\r\nresp1\r\n", 5000);
    still_open(cli);
    if (it_raw_count(cli, "resp2") || it_raw_count(cli, "early"))
        fail_msg("a response beyond the permission was delivered");

    /* max = 2, expires = 1s */
    it_raw *svc2 = login(s, "\"user\":\"svc2\",\"pass\":\"s\"");
    it_raw_send(svc2, "SUB svc.two 1\r\n");
    still_open(svc2);
    pub(cli, "svc.two", "reply.b", "req");
    pub(cli, "svc.two", "reply.c", "req");
    expect(svc2, "MSG svc.two 1 reply.b 3\r\n", 5000);
    expect(svc2, "MSG svc.two 1 reply.c 3\r\n", 5000);
    pub(svc2, "reply.b", NULL, "b1");
    pub(svc2, "reply.b", NULL, "b2");
    pub(svc2, "reply.b", NULL, "b3");
    pub_violation(svc2, "reply.b");
    still_open(svc2);
    it_sleep_ms(1600);
    pub(svc2, "reply.c", NULL, "c1");   /* expired */
    pub_violation(svc2, "reply.c");
    still_open(svc2);
    expect(cli, "MSG reply.b 9 2\r\nb1\r\n", 5000);
    expect(cli, "MSG reply.b 9 2\r\nb2\r\n", 5000);
    still_open(cli);
    if (it_raw_count(cli, "b3") || it_raw_count(cli, "c1"))
        fail_msg("a response beyond max or after expires was delivered");

    /* a libnats request through the responder works */
    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetUserInfo(o, "cli", "c"));
    natsConnection *nc = it_nats_connect_opts(o);
    natsMsg *reply = NULL;
    it_raw_send(svc, "SUB svc.echo 2\r\n");
    still_open(svc);
    /* answer the request from the raw responder in the background: send
     * the request asynchronously and reply once it shows up */
    natsInbox *inbox = NULL;
    IT_NATS_OK(natsInbox_Create(&inbox));
    natsSubscription *rs = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&rs, nc, inbox));
    IT_NATS_OK(natsConnection_PublishRequestString(nc, "svc.echo", inbox, "ping"));
    IT_NATS_OK(natsConnection_FlushTimeout(nc, 5000));
    char want[256];
    snprintf(want, sizeof want, "MSG svc.echo 2 %s 4\r\nping\r\n", inbox);
    expect(svc, want, 5000);
    pub(svc, inbox, NULL, "pong");
    IT_NATS_OK(natsSubscription_NextMsg(&reply, rs, 5000));
    assert_string_equal(natsMsg_GetData(reply), "pong");
    natsMsg_Destroy(reply);
    natsSubscription_Destroy(rs);
    natsInbox_Destroy(inbox);
    it_nats_close(nc);

    it_raw_close(svc);
    it_raw_close(svc2);
    it_raw_close(cli);
    it_ok();
}

/* ------------------------------------------------------ refused settings */

static void test_refused_settings(void **state)
{
    it_expect_refused(conf("authorization = { users = ( { user = \"a\"; password = \"x\"; },\n"
                        "  { user = \"a\"; password = \"y\"; } ); };\n"),
                   "user \"a\" is listed twice");
    it_expect_refused(conf("authorization = { users = ( { user = \"a\"; password = \"x\"; } ); };\n"
                        "no_auth_user = \"zz\";\n"),
                   "no_auth_user \"zz\"");
    it_expect_refused(conf("authorization = { token = \"t\"; users = ( { user = \"a\"; password = \"x\"; } ); };\n"),
                   "a token cannot be combined with a users list");
    it_expect_refused(conf("authorization = { users = ( { user = \"a\"; password = \"x\";\n"
                        "  permissions = { publish = [\"foo..bar\"]; }; } ); };\n"),
                   "subject \"foo..bar\" is not a valid subject");
    {
        /* A user without a password is one that only a TLS certificate
         * names (verify_and_map, test_tls.c): both servers start.
         * nats-server 2.9 then lets anyone log in as that user with an
         * empty password; modnats refuses every password login for it. */
        it_server *s = it_server_start(conf("authorization = { users = ( { user = \"a\"; } ); };\n"),
                                       NULL);
        if (!it_is_nats_server()) {
            login_refused(s, "\"user\":\"a\"");
            login_refused(s, "\"user\":\"a\",\"pass\":\"\"");
        }
        it_server_stop(s);
    }
    if (!it_is_nats_server()) {
        /* nats-server accepts this and fails every login later */
        it_expect_refused(conf("authorization = { users = ( { user = \"a\"; password = \"$2a$10$tooshort\"; } ); };\n"),
                       "looks like a bcrypt hash");
    }
    it_ok();
}

int main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_token, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_token_bcrypt, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_user_password, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_users_plain_and_bcrypt, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_no_auth_user, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_cli_user_pass, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_cli_auth, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_publish_permissions, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_subscribe_permissions, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_default_permissions, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_allow_responses, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_refused_settings, it_setup, it_teardown),
    };
    int rc = cmocka_run_group_tests_name("integration.auth_basic", tests, NULL, NULL);
    nats_Close();
    return rc;
}
