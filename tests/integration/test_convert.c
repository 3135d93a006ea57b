/*
 * test_convert.c - `modnats --convert` keeps a configuration's meaning.
 *
 * Each scenario is a nats-server format file (and what it includes).  The
 * server is started once from that file and once from the libconfig text
 * `modnats --convert` prints for it; the same client script runs against
 * both (raw protocol connections for the exact -ERR texts and INFO
 * fields, libnats for logins and max_payload as a real client sees them),
 * every observation is written down as text, and the two records must be
 * identical.  Each record is also checked for a few things it must hold,
 * so that two equally broken servers do not pass.  A third run starts
 * from the conf.d layout `modnats --convert FILE --confd DIR` writes
 * (`modnats --confd DIR`, no main file) and must observe the same.
 * modnats only: the reference server has no --convert.
 */
#include "itnats.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CONNS 4

/* A file of the scenario, written to the test's temp dir. */
typedef struct conv_file {
    const char *name, *text;
} conv_file;

/* One step of the raw script: connection conn sends text. */
typedef struct conv_op {
    int         conn;
    const char *text;
} conv_op;

typedef struct conv_login {
    const char *user, *pass;
} conv_login;

typedef struct conv_scenario {
    const conv_file  *files;      /* files[0] is the one given to the server */
    size_t            nfiles;
    const conv_login *logins;     /* raw connections c0.. (and libnats logins) */
    size_t            nlogins;
    const conv_op    *ops;
    size_t            nops;
    bool              auth_timeout;   /* watch a client that never sends CONNECT */
} conv_scenario;

/* ---- the record ---------------------------------------------------------- */

typedef struct record {
    char  *s;
    size_t len, cap;
} record;

static void rec(record *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rec(record *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    if (r->len + (size_t)n + 1 > r->cap) {
        r->cap = (r->len + (size_t)n + 1) * 2;
        r->s = realloc(r->s, r->cap);
        assert_non_null(r->s);
    }
    va_start(ap, fmt);
    vsnprintf(r->s + r->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    r->len += (size_t)n;
}

/* Every line conn received after its INFO, except PING/PONG (keepalive and
 * our own barriers), as "c<i>: line". */
static void rec_lines(record *out, int i, const it_raw *r)
{
    const char *p = r->buf ? strstr(r->buf, "\r\n") : NULL;
    if (!p)
        return;
    p += 2;
    while (*p) {
        const char *e = strstr(p, "\r\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (!(n == 4 && (strncmp(p, "PONG", 4) == 0 || strncmp(p, "PING", 4) == 0)))
            rec(out, "c%d: %.*s\n", i, (int)n, p);
        p += n + (e ? 2 : 0);
    }
}

/* The value of "key":<number> in an INFO JSON, or -1. */
static long long info_number(const char *info, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = info ? strstr(info, pat) : NULL;
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

static bool info_true(const char *info, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":true", key);
    return info && strstr(info, pat) != NULL;
}

/* ---- the client script --------------------------------------------------- */

/* Wait until r has answered our PING (PONG) or refused us (-ERR, then the
 * close); true when logged in. */
static bool raw_wait_login(it_raw *r)
{
    long long end = it_now_ms() + 5000;
    while (it_now_ms() < end) {
        if (r->buf && strstr(r->buf, "\r\nPONG\r\n"))
            return it_raw_expect(r, "PONG\r\n", 100);
        if (r->closed)
            return false;
        it_raw_drain(r, 50);
    }
    it_raw_dump(r, "login");
    fail_msg("no answer to CONNECT+PING");
    return false;
}

static void observe(const it_server *s, const conv_scenario *sc, record *out)
{
    it_raw *c[MAX_CONNS] = {0};
    bool alive[MAX_CONNS] = {0};
    assert_true(sc->nlogins <= MAX_CONNS);

    for (size_t i = 0; i < sc->nlogins; i++) {
        c[i] = it_raw_open(s->port, 0);
        const char *info = it_raw_info(c[i]);
        rec(out, "c%zu info: max_payload=%lld auth_required=%d\n", i,
            info_number(info, "max_payload"), info_true(info, "auth_required"));
        if (sc->logins[i].user)
            it_raw_send(c[i], "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1,"
                        "\"user\":\"%s\",\"pass\":\"%s\"}\r\nPING\r\n",
                        sc->logins[i].user, sc->logins[i].pass);
        else
            it_raw_send(c[i], "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}"
                        "\r\nPING\r\n");
        alive[i] = raw_wait_login(c[i]);
        if (!alive[i])
            it_raw_wait_closed(c[i], 3000);
        rec(out, "c%zu login: %s%s\n", i, alive[i] ? "ok" : "refused",
            c[i]->closed ? ", closed" : "");
    }

    /* One step at a time, each followed by a PING/PONG barrier on every
     * live connection, so that what each receives comes in a fixed order. */
    for (size_t k = 0; k < sc->nops; k++) {
        const conv_op *op = &sc->ops[k];
        assert_true(op->conn >= 0 && (size_t)op->conn < sc->nlogins);
        if (!alive[op->conn])
            continue;
        it_raw_send(c[op->conn], "%s", op->text);
        for (size_t i = 0; i < sc->nlogins; i++) {
            if (!alive[i])
                continue;
            it_raw_send(c[i], "PING\r\n");
            if (!it_raw_expect(c[i], "PONG\r\n", 5000)) {
                alive[i] = false;
                rec(out, "c%zu: no PONG after step %zu%s\n", i, k,
                    c[i]->closed ? " (closed)" : "");
            }
        }
    }
    for (size_t i = 0; i < sc->nlogins; i++) {
        rec_lines(out, (int)i, c[i]);
        it_raw_close(c[i]);
    }

    /* The same logins through libnats: status, max_payload, and a payload
     * one byte over it. */
    for (size_t i = 0; i < sc->nlogins; i++) {
        natsOptions *o = it_nats_opts(s);
        if (sc->logins[i].user)
            IT_NATS_OK(natsOptions_SetUserInfo(o, sc->logins[i].user, sc->logins[i].pass));
        natsConnection *nc = NULL;
        natsStatus st = natsConnection_Connect(&nc, o);
        natsOptions_Destroy(o);
        rec(out, "nats %zu: connect %s", i, natsStatus_GetText(st));
        if (st == NATS_OK) {
            int64_t mp = natsConnection_GetMaxPayload(nc);
            size_t big = (size_t)mp + 1;
            char *buf = calloc(1, big);
            assert_non_null(buf);
            st = natsConnection_Publish(nc, "convert.big", buf, (int)big);
            free(buf);
            rec(out, ", max_payload %lld, over it: %s", (long long)mp, natsStatus_GetText(st));
        }
        rec(out, "\n");
        it_nats_close(nc);
    }

    if (sc->auth_timeout) {
        it_raw *r = it_raw_open(s->port, 0);
        long long t0 = it_now_ms();
        bool closed = it_raw_wait_closed(r, 6000);
        long long ms = it_now_ms() - t0;
        rec(out, "silent client: %s within %s\n", closed ? "closed" : "open",
            ms < 1500 ? "1.5s" : ms < 6000 ? "6s" : "-");
        rec_lines(out, 9, r);
        it_raw_close(r);
    }
}

/* ---- running a scenario twice -------------------------------------------- */

/* modnats --convert path [--confd dir] > out_path; fails the test unless
 * it exits 0. */
static void convert_to(const char *path, const char *out_path, const char *confd)
{
    char err_path[512];
    snprintf(err_path, sizeof err_path, "%s/convert.err", it_tmpdir());
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || fe < 0)
            _exit(126);
        dup2(fd, 1);
        dup2(fe, 2);
        if (confd)
            execl(it_server_binary(), it_server_binary(), "--convert", path, "--confd", confd,
                  (char *)NULL);
        else
            execl(it_server_binary(), it_server_binary(), "--convert", path, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char msg[2048] = "";
        FILE *f = fopen(err_path, "r");
        if (f) {
            msg[fread(msg, 1, sizeof msg - 1, f)] = '\0';
            fclose(f);
        }
        fail_msg("modnats --convert %s%s%s failed (status %d): %s", path,
                 confd ? " --confd " : "", confd ? confd : "", st, msg);
    }
}

static void convert(const char *path, const char *out_path)
{
    convert_to(path, out_path, NULL);
}

/* modnats --convert path --confd dir; false (with a note) when this build's
 * command line does not write the layout yet (it printed the one file). */
static bool convert_confd(const char *path, const char *dir)
{
    char out_path[512], first[600];
    snprintf(out_path, sizeof out_path, "%s/convert-confd.out", it_tmpdir());
    convert_to(path, out_path, dir);
    snprintf(first, sizeof first, "%s/00-server.conf", dir);
    if (access(first, F_OK) == 0)
        return true;
    struct stat st;
    if (stat(out_path, &st) == 0 && st.st_size > 0) {
        print_message("note: this modnats printed --convert to stdout instead of writing "
                      "%s (--confd not wired in main.c); the conf.d run is skipped\n", dir);
        return false;
    }
    fail_msg("modnats --convert %s --confd %s wrote no %s", path, dir, first);
    return false;
}

static void run_scenario(const conv_scenario *sc, record *from_nats, record *from_conv)
{
    if (it_is_nats_server())
        skip();
    char path[512], main_path[512] = "";
    /* Every file in a subdirectory, so the converted file (outside it)
     * cannot lean on an include that still happens to be there. */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/nats", it_tmpdir());
    mkdir(dir, 0700);
    for (size_t i = 0; i < sc->nfiles; i++) {
        char name[256];
        snprintf(name, sizeof name, "nats/%s", sc->files[i].name);
        it_write_file(name, sc->files[i].text, path, sizeof path);
        if (i == 0)
            snprintf(main_path, sizeof main_path, "%s", path);
    }

    const char *const extra_nats[] = {"-c", main_path, NULL};
    it_server *s = it_server_start(NULL, extra_nats);
    observe(s, sc, from_nats);
    assert_true(it_server_stop(s));

    char conv_path[512];
    snprintf(conv_path, sizeof conv_path, "%s/converted.conf", it_tmpdir());
    convert(main_path, conv_path);
    const char *const extra_conv[] = {"-c", conv_path, NULL};
    s = it_server_start(NULL, extra_conv);
    observe(s, sc, from_conv);
    assert_true(it_server_stop(s));

    if (strcmp(from_nats->s, from_conv->s) != 0) {
        print_error("from the nats-server file:\n%s\nfrom its --convert output:\n%s\n",
                    from_nats->s, from_conv->s);
        fail_msg("the converted configuration behaves differently");
    }

    /* The conf.d layout, alone: no main file, so nothing but DIR counts. */
    char confd[512];
    snprintf(confd, sizeof confd, "%s/conf.d.out", it_tmpdir());
    if (!convert_confd(main_path, confd))
        return;
    record from_confd = {0};
    const char *const extra_confd[] = {"--confd", confd, NULL};
    s = it_server_start(NULL, extra_confd);
    observe(s, sc, &from_confd);
    assert_true(it_server_stop(s));
    if (strcmp(from_nats->s, from_confd.s) != 0) {
        print_error("from the nats-server file:\n%s\nfrom its --convert --confd layout:\n%s\n",
                    from_nats->s, from_confd.s);
        free(from_confd.s);
        fail_msg("the conf.d layout behaves differently");
    }
    free(from_confd.s);
}

static void must_hold(const record *r, const char *needle)
{
    if (!strstr(r->s, needle))
        fail_msg("expected \"%s\" in the observations:\n%s", needle, r->s);
}

static void records_free(record *a, record *b)
{
    free(a->s);
    free(b->s);
}

/* ---- the scenarios ------------------------------------------------------- */

/* Users whose password and permissions are variables, the permissions
 * from an included file; max_payload as a size; a short auth timeout. */
static void test_convert_users_include(void **state)
{
    (void)state;
    static const conv_file files[] = {
        {"main.conf",
         "listen: 127.0.0.1:4222\n"
         "max_payload: 2KB\n"
         "include \"roles.conf\"\n"
         "authorization {\n"
         "  PASS = \"s3cret\"\n"
         "  users = [\n"
         "    {user: alice, password: $PASS, permissions: $WORKER}\n"
         "    {user: bob, password: b0b, permissions: $WATCHER}\n"
         "  ]\n"
         "  timeout: 0.5\n"
         "}\n"},
        {"roles.conf",
         "WORKER = {\n"
         "  publish = { allow = [\"job.>\", \"_INBOX.>\"], deny = \"job.secret\" }\n"
         "  subscribe = { deny = \"$SYS.>\" }\n"
         "}\n"
         "WATCHER = { publish = \"nothing\", subscribe = [\"job.*\", \"watch.>\"] }\n"},
    };
    static const conv_login logins[] = {
        {"alice", "s3cret"}, {"bob", "b0b"}, {"alice", "b0b"}, {NULL, NULL},
    };
    static const conv_op ops[] = {
        {0, "SUB job.a 1\r\n"},
        {1, "SUB job.* 7\r\n"},
        {0, "PUB job.a 2\r\nhi\r\n"},
        {0, "PUB job.secret 2\r\nno\r\n"},
        {0, "PUB other 2\r\nno\r\n"},
        {0, "SUB $SYS.x 2\r\n"},
        {1, "PUB job.a 2\r\nno\r\n"},
        {1, "SUB other 8\r\n"},
        {1, "SUB watch.deep.down 9\r\n"},
    };
    static const conv_scenario sc = {files, 2, logins, 4, ops, 9, true};
    record a = {0}, b = {0};
    run_scenario(&sc, &a, &b);
    must_hold(&a, "c0 info: max_payload=2048 auth_required=1\n");
    must_hold(&a, "c0 login: ok\n");
    must_hold(&a, "c1 login: ok\n");
    must_hold(&a, "c2 login: refused, closed\n");
    must_hold(&a, "c3 login: refused, closed\n");
    must_hold(&a, "nats 2: connect Authentication Violation\n");
    must_hold(&a, "c0: MSG job.a 1 2\nc0: hi\nc0: -ERR 'Permissions Violation for Publish "
                  "to \"job.secret\"'\nc0: -ERR 'Permissions Violation for Publish to "
                  "\"other\"'\nc0: -ERR 'Permissions Violation for Subscription to \"$SYS.x\"'\n");
    must_hold(&a, "c1: MSG job.a 7 2\nc1: hi\nc1: -ERR 'Permissions Violation for Publish to "
                  "\"job.a\"'\nc1: -ERR 'Permissions Violation for Subscription to \"other\"'\n");
    must_hold(&a, "c2: -ERR 'Authorization Violation'\n");
    must_hold(&a, "nats 0: connect OK, max_payload 2048, over it: Maximum Payload Exceeded\n");
    must_hold(&a, "silent client: closed within 1.5s\n");
    records_free(&a, &b);
    it_ok();
}

/* Accounts with users: logins, permissions inside an account, and no
 * traffic between accounts; max_payload as a size in MB. */
static void test_convert_accounts(void **state)
{
    (void)state;
    static const conv_file files[] = {
        {"accounts.conf",
         "port: 4222\n"
         "max_payload = 1MB\n"
         "accounts {\n"
         "  SALES: {\n"
         "    users: [\n"
         "      {user: sam, password: pw1, permissions: {publish: \"orders.>\", subscribe: \">\"}}\n"
         "      {user: sue, password: pw2}\n"
         "    ]\n"
         "  }\n"
         "  OPS: { users: [ {user: oz, password: pw3} ] }\n"
         "}\n"},
    };
    static const conv_login logins[] = {
        {"sam", "pw1"}, {"sue", "pw2"}, {"oz", "pw3"}, {"oz", "pw1"},
    };
    static const conv_op ops[] = {
        {1, "SUB orders.new 1\r\n"},
        {2, "SUB orders.new 2\r\n"},
        {0, "PUB orders.new 3\r\nabc\r\n"},
        {0, "PUB billing.x 1\r\nz\r\n"},
        {2, "PUB orders.new 2\r\noz\r\n"},
    };
    static const conv_scenario sc = {files, 1, logins, 4, ops, 5, false};
    record a = {0}, b = {0};
    run_scenario(&sc, &a, &b);
    must_hold(&a, "c0 info: max_payload=1048576 auth_required=1\n");
    must_hold(&a, "c3 login: refused, closed\n");
    must_hold(&a, "c0: -ERR 'Permissions Violation for Publish to \"billing.x\"'\n");
    must_hold(&a, "c1: MSG orders.new 1 3\nc1: abc\n");
    must_hold(&a, "c2: MSG orders.new 2 2\nc2: oz\n");
    must_hold(&a, "nats 2: connect OK, max_payload 1048576");
    if (strstr(a.s, "c1: oz") || strstr(a.s, "c2: abc"))
        fail_msg("traffic crossed accounts:\n%s", a.s);
    records_free(&a, &b);
    it_ok();
}

/* A single user with a variable password, default permissions, a plain
 * number for max_payload and a whole-second auth timeout. */
static void test_convert_single_user(void **state)
{
    (void)state;
    static const conv_file files[] = {
        {"single.conf",
         "SECRET: \"t0ps3cret\"\n"
         "max_payload: 100000\n"
         "authorization: {\n"
         "  user: admin\n"
         "  password: $SECRET\n"
         "  timeout: 3\n"
         "}\n"},
    };
    static const conv_login logins[] = {{"admin", "t0ps3cret"}, {"admin", "nope"}};
    static const conv_op ops[] = {
        {0, "SUB any.thing 1\r\nPUB any.thing 2\r\nok\r\n"},
    };
    static const conv_scenario sc = {files, 1, logins, 2, ops, 1, true};
    record a = {0}, b = {0};
    run_scenario(&sc, &a, &b);
    must_hold(&a, "c0 info: max_payload=100000 auth_required=1\nc0 login: ok\n");
    must_hold(&a, "c1 login: refused, closed\n");
    must_hold(&a, "c0: MSG any.thing 1 2\nc0: ok\n");
    must_hold(&a, "silent client: closed within 6s\n");
    records_free(&a, &b);
    it_ok();
}

int main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_convert_users_include, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_convert_accounts, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_convert_single_user, it_setup, it_teardown),
    };
    int rc = cmocka_run_group_tests_name("integration.convert", tests, NULL, NULL);
    nats_Close();
    return rc;
}
