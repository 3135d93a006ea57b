/*
 * test_config.c - the config files (core/config.c): every key, sizes and
 * durations, the conf.d order and overrides, the command line's precedence,
 * the SIGHUP reload, and every error with its exact "file:line:" text.
 * Module settings (authorization, no_auth_user, `modules = [...]` groups)
 * are checked as the mn_cfg trees the core hands to the modules, with the
 * file and line of every node, and mn_opts_imply_modules() as main() runs
 * it.  Each test writes its files into its own mkdtemp() directory.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* nftw */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfgtree.h"
#include "opts.h"

typedef struct fixture {
    char    dir[64];
    char    main[128];      /* dir/main.conf */
    mn_opts o;
    char    err[512];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/mn_test_config.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->main, sizeof f->main, "%s/main.conf", f->dir);
    mn_opts_defaults(&f->o);
    *state = f;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    mn_opts_free(&f->o);
    free(f);
    return 0;
}

/* Writes dir/name (creating dir/conf.d if the name is inside it). */
static const char *put(fixture *f, const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700);
    *slash = '/';
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* Loads `text` as the main config file. */
static int load_main(fixture *f, const char *text)
{
    put(f, "main.conf", text);
    free(f->o.config_file);
    f->o.config_file = strdup(f->main);
    return mn_config_load(&f->o, f->err, sizeof f->err);
}

static void expect_err(fixture *f, const char *text, const char *msg)
{
    char want[512];
    snprintf(want, sizeof want, "%s:%s", f->main, msg);
    assert_int_equal(load_main(f, text), MN_EINVAL);
    assert_string_equal(f->err, want);
}

static int parse_cli(fixture *f, const char *first, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "modnats";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    return mn_opts_parse_args(&f->o, argc, argv, NULL, NULL, f->err, sizeof f->err);
}

/* A node of the tree: its type, and where it was written. */
static const mn_cfg *node(const mn_cfg *n, mn_cfg_type type, const char *file, int line)
{
    assert_non_null(n);
    assert_int_equal(n->type, type);
    assert_non_null(n->file);
    assert_string_equal(n->file, file);
    assert_int_equal(n->line, line);
    return n;
}

/* The settings group the core keeps for `module`, or NULL. */
static const mn_cfg *modcfg(const fixture *f, const char *module)
{
    const mn_cfg *g = mn_cfg_get(f->o.module_cfg, module);
    if (g)
        assert_int_equal(g->type, MN_CFG_GROUP);
    return g;
}

static void expect_modules(const mn_opts *o, const char *first, ...)
{
    va_list ap;
    int n = 0;
    va_start(ap, first);
    for (const char *m = first; m; m = va_arg(ap, const char *), n++) {
        assert_true(n < o->nmodules);
        assert_string_equal(o->modules[n], m);
    }
    va_end(ap);
    assert_int_equal(o->nmodules, n);
}

/* Path of dir/name, for what node() expects. */
static const char *path_of(const fixture *f, const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", f->dir, name);
    return buf;
}

static void test_no_files(void **state)
{
    fixture *f = *state;
    assert_int_equal(mn_config_load(&f->o, f->err, sizeof f->err), MN_OK);
    assert_int_equal(f->o.port, 4222);
    assert_int_equal(f->o.nconfig_files, 0);
}

static void test_all_keys(void **state)
{
    fixture *f = *state;
    int rc = load_main(f,
        "# the server\n"
        "host = \"127.0.0.1\";\n"
        "port = 4333;\n"
        "server_name = \"n1\";\n"
        "client_advertise = \"example.com:4222\";\n"
        "max_payload = \"2MB\";\n"
        "max_control_line = 8192;\n"
        "max_pending = \"128MB\";\n"
        "max_connections = 100;\n"
        "max_subscriptions = 1000;\n"
        "ping_interval = \"30s\";\n"
        "ping_max = 5;\n"
        "write_deadline = \"2s\";\n"
        "lame_duck_duration = \"1m\";\n"
        "lame_duck_grace_period = \"5s\";\n"
        "io_threads = 3;\n"
        "debug = true;\n"
        "trace = true;\n"
        "logtime = false;\n"
        "logtime_utc = true;\n"
        "log_file = \"/tmp/x.log\";\n"
        "pid_file = \"/tmp/x.pid\";\n"
        "ports_file_dir = \"/tmp\";\n"
        "max_traced_msg_len = 64;\n"
        "syslog = false;\n"
        "no_auth_user = \"a\";\n"
        "authorization = { timeout = 3; users = ( { user = \"a\"; password = \"pa\"; },\n"
        "                                          { username = \"b\"; pass = \"pb\"; } ); };\n");
    assert_int_equal(rc, MN_OK);
    mn_opts *o = &f->o;
    assert_string_equal(o->host, "127.0.0.1");
    assert_int_equal(o->port, 4333);
    assert_string_equal(o->server_name, "n1");
    assert_string_equal(o->client_advertise, "example.com:4222");
    assert_int_equal(o->max_payload, 2 << 20);
    assert_int_equal(o->max_control_line, 8192);
    assert_int_equal(o->max_pending, 128 << 20);
    assert_int_equal(o->max_connections, 100);
    assert_int_equal(o->max_subscriptions, 1000);
    assert_int_equal(o->ping_interval_ms, 30000);
    assert_int_equal(o->ping_max, 5);
    assert_int_equal(o->write_deadline_ms, 2000);
    assert_int_equal(o->lame_duck_duration_ms, 60000);
    assert_int_equal(o->lame_duck_grace_period_ms, 5000);
    assert_int_equal(o->io_threads, 3);
    assert_true(o->debug);
    assert_true(o->trace);
    assert_false(o->logtime);
    assert_true(o->logtime_utc);
    assert_string_equal(o->log_file, "/tmp/x.log");
    assert_string_equal(o->pid_file, "/tmp/x.pid");
    assert_string_equal(o->ports_file_dir, "/tmp");
    assert_int_equal(o->max_traced_msg_len, 64);
    assert_int_equal(o->auth_timeout_ms, 3000);
    assert_int_equal(o->nconfig_files, 1);
    assert_string_equal(o->config_files[0], f->main);

    /* no_auth_user and authorization { } are auth_basic's settings, as
     * written; the core keeps no credentials of its own. */
    assert_null(o->username);
    assert_null(o->password);
    assert_null(o->auth_token);
    assert_null(o->no_auth_user);
    assert_int_equal(o->nusers, 0);
    assert_int_equal(o->module_cfg->nkids, 1);
    const mn_cfg *ab = modcfg(f, "auth_basic");
    assert_non_null(ab);
    assert_int_equal(ab->nkids, 3);
    assert_string_equal(node(mn_cfg_get(ab, "no_auth_user"), MN_CFG_STRING, f->main, 26)->s, "a");
    assert_int_equal(node(mn_cfg_get(ab, "timeout"), MN_CFG_INT, f->main, 27)->i, 3);
    const mn_cfg *users = node(mn_cfg_get(ab, "users"), MN_CFG_LIST, f->main, 27);
    assert_int_equal(users->nkids, 2);
    const mn_cfg *u0 = node(users->kids[0], MN_CFG_GROUP, f->main, 27);
    const mn_cfg *u1 = node(users->kids[1], MN_CFG_GROUP, f->main, 28);
    assert_null(u0->name);
    assert_string_equal(node(mn_cfg_get(u0, "user"), MN_CFG_STRING, f->main, 27)->s, "a");
    assert_string_equal(mn_cfg_get(u0, "password")->s, "pa");
    assert_string_equal(node(mn_cfg_get(u1, "username"), MN_CFG_STRING, f->main, 28)->s, "b");
    assert_string_equal(mn_cfg_get(u1, "pass")->s, "pb");

    /* The module is loaded only once main() asks for it. */
    assert_int_equal(o->nmodules, 0);
    assert_int_equal(mn_opts_imply_modules(o), MN_OK);
    expect_modules(o, "auth_basic", NULL);
    assert_int_equal(mn_opts_validate(o, f->err, sizeof f->err), MN_OK);
}

static void test_aliases_and_case(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_main(f,
        "Net: \"10.0.0.1\"\n"            /* ':' and no ';' are fine in libconfig */
        "PORT: 1\n"
        "max_pending_size: 1000\n"
        "max_conn: 7\n"
        "max_subs: 8\n"
        "ping_max_out: 9\n"
        "logfile: \"l\"\n"
        "pidfile: \"p\"\n"
        "monitor_port: 8222\n"
        "debug: \"yes\"\n"
        "trace: \"off\"\n"
        "authorization = { user: \"u\", password: \"p\", timeout: 0.5 }\n"), MN_OK);
    mn_opts *o = &f->o;
    assert_string_equal(o->host, "10.0.0.1");
    assert_int_equal(o->port, 1);
    assert_int_equal(o->max_pending, 1000);
    assert_int_equal(o->max_connections, 7);
    assert_int_equal(o->max_subscriptions, 8);
    assert_int_equal(o->ping_max, 9);
    assert_string_equal(o->log_file, "l");
    assert_string_equal(o->pid_file, "p");
    assert_int_equal(o->http_port, 8222);
    assert_true(o->debug);
    assert_false(o->trace);
    assert_int_equal(o->auth_timeout_ms, 500);
    const mn_cfg *ab = modcfg(f, "auth_basic");
    assert_string_equal(node(mn_cfg_get(ab, "user"), MN_CFG_STRING, f->main, 12)->s, "u");
    assert_string_equal(mn_cfg_get(ab, "PASSWORD")->s, "p");   /* lookups ignore case */
    assert_true(node(mn_cfg_get(ab, "timeout"), MN_CFG_FLOAT, f->main, 12)->d == 0.5);
    assert_null(o->username);
    assert_null(o->password);
}

static void test_listen_and_ports(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_main(f, "listen = \"127.0.0.2:5000\";\n"), MN_OK);
    assert_string_equal(f->o.host, "127.0.0.2");
    assert_int_equal(f->o.port, 5000);
    assert_int_equal(load_main(f, "listen = \"[::1]:5001\";\n"), MN_OK);
    assert_string_equal(f->o.host, "::1");
    assert_int_equal(f->o.port, 5001);
    assert_int_equal(load_main(f, "listen = \":5002\";\n"), MN_OK);
    assert_string_equal(f->o.host, "::1");      /* no host given: kept */
    assert_int_equal(f->o.port, 5002);
    assert_int_equal(load_main(f, "listen = 5003;\n"), MN_OK);
    assert_int_equal(f->o.port, 5003);
    assert_int_equal(load_main(f, "port = -1;\n"), MN_OK);
    assert_int_equal(f->o.port, -1);
    assert_int_equal(load_main(f, "port = \"RANDOM_PORT\";\n"), MN_OK);
    assert_int_equal(f->o.port, -1);
    assert_int_equal(load_main(f, "port = 0;\n"), MN_OK);
    assert_int_equal(f->o.port, 4222);
    assert_int_equal(load_main(f, "port = 4.0;\n"), MN_OK);   /* autoconvert */
    assert_int_equal(f->o.port, 4);
    assert_int_equal(load_main(f, "http = \"127.0.0.1:8222\";\n"), MN_OK);
    assert_string_equal(f->o.http_host, "127.0.0.1");
    assert_int_equal(f->o.http_port, 8222);
    assert_int_equal(load_main(f, "https_port = 8443;\n"), MN_OK);
    assert_int_equal(f->o.https_port, 8443);
    assert_int_equal(load_main(f, "https = 8444;\n"), MN_OK);
    assert_int_equal(f->o.https_port, 8444);
}

static void test_sizes(void **state)
{
    fixture *f = *state;
    static const struct { const char *v; int64_t want; } t[] = {
        {"1048576", 1048576}, {"\"1MB\"", 1 << 20}, {"\"64KB\"", 64 << 10},
        {"\"64kb\"", 64 << 10}, {"\"1k\"", 1000}, {"\"1K\"", 1000}, {"\"2 mb\"", 2 << 20},
        {"\"3M\"", 3000000}, {"\"1KiB\"", 1024}, {"\"1mi\"", 1 << 20}, {"\"10\"", 10},
        {"\"1GB\"", 1LL << 30}, {"\"1G\"", 1000000000}, {"\"2TB\"", 2LL << 40},
        {"5000000000L", 5000000000LL}, {"1e6", 1000000},
    };
    char text[128];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        snprintf(text, sizeof text, "max_pending = %s;\n", t[i].v);
        assert_int_equal(load_main(f, text), MN_OK);
        assert_int_equal(f->o.max_pending, t[i].want);
    }
    assert_int_equal(load_main(f, "max_payload = \"64MB\";\n"), MN_OK);
    assert_int_equal(f->o.max_payload, 64 << 20);

    const char *bad[] = {"\"1XB\"", "\"MB\"", "\"1.5MB\"", "\"\"", "\"1 MB x\"",
                         "\"99999999999PB\"", "true"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "\nmax_pending = %s;\n", bad[i]);
        expect_err(f, text, bad[i][0] == '"'
            ? "2: \"max_pending\" must be a size: an integer or a string such as "
              "\"64KB\", \"1MB\", \"1GB\""
            : "2: \"max_pending\" must be an integer");
    }
    expect_err(f, "max_pending = \"-1KB\";\n",
               "1: \"max_pending\" must be between 1 and 9223372036854775807 bytes");
    expect_err(f, "max_payload = \"65MB\";\n",
               "1: \"max_payload\" must be between 1 and 67108864 bytes");
    expect_err(f, "max_payload = 0;\n", "1: \"max_payload\" must be between 1 and 67108864");
    expect_err(f, "max_control_line = 1.5;\n", "1: \"max_control_line\" must be an integer");
}

static void test_wide_integers(void **state)
{
    fixture *f = *state;
    /* libconfig 1.5 would wrap these silently. */
    expect_err(f, "# 5000000000 in a comment is fine\ns = \"5000000000\";\n"
                  "max_pending = 5000000000;\n",
               "3: the integer 5000000000 does not fit in 32 bits: write 5000000000L, "
               "or a size string such as \"5GB\"");
    expect_err(f, "/* multi\nline */ port = -99999999999;\n",
               "2: the integer -99999999999 does not fit in 32 bits: write -99999999999L, "
               "or a size string such as \"5GB\"");
    expect_err(f, "max_pending = 0x100000000;\n",
               "1: the integer 0x100000000 does not fit in 32 bits: write 0x100000000L");
    assert_int_equal(load_main(f, "max_pending = 2147483647; a2147483648 = 1;\n"),
                     MN_EINVAL);   /* names with digits are not numbers */
    assert_non_null(strstr(f->err, "unknown option \"a2147483648\""));
    assert_int_equal(load_main(f, "max_pending = 0x7fffffff; max_payload = 1.0e6;\n"), MN_OK);
}

static void test_durations(void **state)
{
    fixture *f = *state;
    static const struct { const char *v; int64_t ms; } t[] = {
        {"30", 30000}, {"\"2m\"", 120000}, {"\"30s\"", 30000}, {"\"500ms\"", 500},
        {"\"1h30m\"", 5400000}, {"\"1.5s\"", 1500}, {"\"250us\"", 1}, {"\"1000000ns\"", 1},
        {"\"2\xc2\xb5s\"", 1}, {"0.25", 250}, {"\"+10s\"", 10000}, {"\"1m0.5s\"", 60500},
    };
    char text[128];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        snprintf(text, sizeof text, "ping_interval = %s;\n", t[i].v);
        assert_int_equal(load_main(f, text), MN_OK);
        assert_int_equal(f->o.ping_interval_ms, t[i].ms);
    }
    assert_int_equal(load_main(f, "lame_duck_grace_period = \"0\";\n"), MN_OK);
    assert_int_equal(f->o.lame_duck_grace_period_ms, 0);

    const char *dur = "1: \"ping_interval\" must be a duration: a number of seconds or a "
                      "string such as \"2m\", \"30s\", \"500ms\"";
    const char *bad[] = {"\"5\"", "\"abc\"", "\"1x\"", "\"s\"", "\"1e3s\"", "\"\"",
                         "\"1 s\"", "\"99999999h\"", "true", "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "ping_interval = %s;\n", bad[i]);
        expect_err(f, text, dur);
    }
    expect_err(f, "ping_interval = \"-1s\";\n", "1: \"ping_interval\" must be a positive duration");
    expect_err(f, "write_deadline = 0;\n", "1: \"write_deadline\" must be a positive duration");
    expect_err(f, "lame_duck_grace_period = -5;\n",
               "1: \"lame_duck_grace_period\" must not be negative");
}

static void test_type_errors(void **state)
{
    fixture *f = *state;
    expect_err(f, "# c\n\n\n\nport = \"4222\";\n", "5: \"port\" must be an integer");
    expect_err(f, "port = 70000;\n", "1: \"port\" must be between -1 and 65535");
    expect_err(f, "host = 1;\n", "1: \"host\" must be a string");
    expect_err(f, "debug = 1;\n", "1: \"debug\" must be a boolean (true or false)");
    expect_err(f, "debug = \"maybe\";\n", "1: \"debug\" must be a boolean (true or false)");
    expect_err(f, "server_name = [\"a\"];\n", "1: \"server_name\" must be a string");
    expect_err(f, "max_connections = 0;\n", "1: \"max_connections\" must be between 1 and 2147483647");
    expect_err(f, "io_threads = 2000;\n", "1: \"io_threads\" must be between 0 and 1024");
    expect_err(f, "listen = \"nohost\";\n", "1: \"listen\" must be \"host:port\", got \"nohost\"");
    expect_err(f, "listen = \"h:99999\";\n", "1: \"listen\": bad port in \"h:99999\"");
    expect_err(f, "listen = \"h:\";\n", "1: \"listen\": bad port in \"h:\"");
    expect_err(f, "listen = \"::1:4222\";\n",
               "1: \"listen\": an IPv6 host needs brackets: \"[::1]:port\"");
    expect_err(f, "listen = true;\n", "1: \"listen\" must be \"host:port\" or a port number");
    expect_err(f, "authorization = 1;\n",
               "1: \"authorization\" must be a group: authorization = { ... }");
}

static void test_unknown_and_syntax(void **state)
{
    fixture *f = *state;
    expect_err(f, "port = 1;\n\nprot = 2;\n", "3: unknown option \"prot\"");
    expect_err(f, "port = ;\n", "1: syntax error");
    expect_err(f, "port = 1;\nport = 2;\n", "2: duplicate setting name");
    expect_err(f, "a = {\n", "2: syntax error");
    /* nats-server's "name { }" gets a hint */
    expect_err(f, "port = 1;\nauthorization {\n  user = \"u\";\n}\n",
               "2: syntax error (libconfig needs \"=\" or \":\" before a group: name = { ... })");
    expect_err(f, "@include \"missing.conf\"\n", "1: cannot open include file");
    expect_err(f, "some_group = { port = 1; }\n", "1: unknown option \"some_group\"");
}

/* authorization { } reaches auth_basic as written: the core checks only
 * the group's shape and the timeout it keeps; users, permissions and
 * their combinations are the module's to refuse (modules/auth_basic). */
static void test_authorization_tree(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_main(f,
        "# users\n"
        "authorization = {\n"
        "  users = (\n"
        "    { user = \"a\"; password = \"b\";\n"
        "      permissions = { publish = { allow = [\"x.>\"]; deny = \"x.y\"; };\n"
        "                      subscribe = \"_INBOX.>\"; }; },\n"
        "    { user = \"a\"; nkey = \"N\"; }\n"
        "  );\n"
        "  pasword = \"typo\";\n"
        "  token = \"t\";\n"
        "};\n"), MN_OK);
    assert_int_equal(f->o.auth_timeout_ms, 2000);     /* untouched: no timeout */
    const mn_cfg *ab = node(modcfg(f, "auth_basic"), MN_CFG_GROUP, f->main, 2);
    assert_int_equal(ab->nkids, 3);
    const mn_cfg *users = node(mn_cfg_get(ab, "users"), MN_CFG_LIST, f->main, 3);
    assert_int_equal(users->nkids, 2);
    const mn_cfg *perms = node(mn_cfg_get(users->kids[0], "permissions"), MN_CFG_GROUP,
                               f->main, 5);
    const mn_cfg *pub = node(mn_cfg_get(perms, "publish"), MN_CFG_GROUP, f->main, 5);
    const mn_cfg *allow = node(mn_cfg_get(pub, "allow"), MN_CFG_LIST, f->main, 5);
    assert_int_equal(allow->nkids, 1);
    assert_string_equal(allow->kids[0]->s, "x.>");
    assert_null(allow->kids[0]->name);
    assert_string_equal(mn_cfg_get(pub, "deny")->s, "x.y");
    assert_string_equal(node(mn_cfg_get(perms, "subscribe"), MN_CFG_STRING, f->main, 6)->s,
                        "_INBOX.>");
    assert_string_equal(node(mn_cfg_get(users->kids[1], "nkey"), MN_CFG_STRING,
                             f->main, 7)->s, "N");
    assert_string_equal(node(mn_cfg_get(ab, "pasword"), MN_CFG_STRING, f->main, 9)->s, "typo");
    assert_string_equal(node(mn_cfg_get(ab, "token"), MN_CFG_STRING, f->main, 10)->s, "t");
    assert_null(f->o.auth_token);

    /* Loading into the same options again merges key by key, as a later
     * conf.d file does. */
    assert_int_equal(load_main(f, "authorization = {\n timeout = \"250ms\";\n token = \"u\";\n}\n"),
                     MN_OK);
    assert_int_equal(f->o.auth_timeout_ms, 250);
    ab = modcfg(f, "auth_basic");
    assert_string_equal(node(mn_cfg_get(ab, "token"), MN_CFG_STRING, f->main, 3)->s, "u");
    assert_string_equal(node(mn_cfg_get(ab, "timeout"), MN_CFG_STRING, f->main, 2)->s, "250ms");
    assert_non_null(mn_cfg_get(ab, "users"));   /* from the first load */

    /* An empty block still means "the auth_basic module". */
    mn_opts_free(&f->o);
    mn_opts_defaults(&f->o);
    assert_int_equal(load_main(f, "authorization = { };\n"), MN_OK);
    assert_int_equal(modcfg(f, "auth_basic")->nkids, 0);
    assert_int_equal(mn_opts_imply_modules(&f->o), MN_OK);
    expect_modules(&f->o, "auth_basic", NULL);
}

/* What the core itself still refuses in the auth settings. */
static void test_authorization_errors(void **state)
{
    fixture *f = *state;
    expect_err(f, "authorization = { timeout = \"never\"; }\n",
               "1: \"authorization.timeout\" must be a duration: a number of seconds or a "
               "string such as \"2m\", \"30s\", \"500ms\"");
    expect_err(f, "authorization = {\n user = \"u\";\n timeout = 0;\n}\n",
               "3: \"authorization.timeout\" must be a positive duration");
    expect_err(f, "authorization = {\n TIMEOUT = -1;\n}\n",
               "2: \"authorization.TIMEOUT\" must be a positive duration");
    expect_err(f, "authorization = ( 1 );\n",
               "1: \"authorization\" must be a group: authorization = { ... }");
    expect_err(f, "\nno_auth_user = 5;\n", "2: \"no_auth_user\" must be a string");
    expect_err(f, "no_auth_user = { user = \"a\"; };\n", "1: \"no_auth_user\" must be a string");
}

static void test_placeholders(void **state)
{
    fixture *f = *state;
    char err[256];
    assert_int_equal(load_main(f, "jetstream = true;\n"), MN_OK);
    assert_true(f->o.jetstream);
    /* Refused where the jetstream module is missing; this binary may sit
     * beside a build that has jetstream.so. */
    if (!mn_module_available(&f->o, "jetstream")) {
        assert_int_equal(mn_opts_validate(&f->o, err, sizeof err), MN_EINVAL);
        assert_string_equal(err, "jetstream (-js, jetstream) needs the jetstream module, "
                            "which this build does not have");
    } else {
        assert_int_equal(mn_opts_validate(&f->o, err, sizeof err), MN_OK);
    }
    assert_int_equal(load_main(f, "jetstream = \"disabled\";\n"), MN_OK);
    assert_false(f->o.jetstream);
    assert_int_equal(load_main(f, "jetstream = { store_dir = \"/data\"; max_mem = \"1G\"; }\n"),
                     MN_OK);
    assert_true(f->o.jetstream);
    assert_string_equal(f->o.store_dir, "/data");
    assert_int_equal(load_main(f, "jetstream = { enabled = false; }\n"), MN_OK);
    assert_false(f->o.jetstream);
    expect_err(f, "jetstream = 3;\n", "1: \"jetstream\" must be a boolean (true or false)");

    assert_int_equal(load_main(f, "cluster = { name = \"c1\"; listen = \"0.0.0.0:6222\";\n"
                                  "  routes = [\"nats://a:6222\", \"nats://b:6222\"]; }\n"),
                     MN_OK);
    assert_string_equal(f->o.cluster_name, "c1");
    assert_string_equal(f->o.cluster_url, "0.0.0.0:6222");
    assert_string_equal(f->o.routes, "nats://a:6222,nats://b:6222");
    if (mn_module_available(&f->o, "cluster")) {
        assert_int_equal(mn_opts_validate(&f->o, err, sizeof err), MN_OK);
    } else {
        assert_int_equal(mn_opts_validate(&f->o, err, sizeof err), MN_EINVAL);
        assert_string_equal(err, "clustering (--cluster, --routes, cluster) needs the cluster "
                            "module, which this build does not have");
    }
    mn_opts_free(&f->o);
    mn_opts_defaults(&f->o);
    assert_int_equal(load_main(f, "cluster = { port = 6222; }\n"), MN_OK);
    assert_string_equal(f->o.cluster_url, "0.0.0.0:6222");
    expect_err(f, "cluster = { routes = \"x\"; }\n", "1: \"cluster.routes\" must be a list of URLs");
    expect_err(f, "cluster = true;\n", "1: \"cluster\" must be a group: cluster = { ... }");

    mn_opts_free(&f->o);
    mn_opts_defaults(&f->o);
    assert_int_equal(load_main(f, "tls = { cert_file = \"c\"; key_file = \"k\"; ca_file = \"ca\";"
                                  " verify = true; timeout = 2; }\n"), MN_OK);
    assert_true(f->o.tls && f->o.tls_set.verify);
    assert_string_equal(f->o.tls_set.cert_file, "c");
    assert_string_equal(f->o.tls_set.key_file, "k");
    assert_string_equal(f->o.tls_set.ca_file, "ca");
    assert_int_equal(f->o.tls_set.timeout_ms, 2000);
    assert_int_equal(mn_opts_validate(&f->o, err, sizeof err), MN_OK);
    mn_opts_free(&f->o);
    mn_opts_defaults(&f->o);
    assert_int_equal(load_main(f, "tls = { cert_file = \"c\"; key_file = \"k\"; timeout = 0.5;"
                                  " verify_and_map = true; handshake_first = true;"
                                  " cipher_suites = [\"TLS_AES_128_GCM_SHA256\"];"
                                  " curve_preferences = [\"X25519\"]; min_version = \"1.3\"; }\n"),
                     MN_OK);
    assert_true(f->o.tls_set.verify && f->o.tls_set.verify_and_map && f->o.tls_set.handshake_first);
    assert_int_equal(f->o.tls_set.timeout_ms, 500);
    assert_string_equal(f->o.tls_set.curve_preferences, "X25519");
    expect_err(f, "tls = { cert_file = \"c\"; colour = 1; }\n",
               "1: \"tls.colour\": unknown TLS setting (known: cert_file, "
               "key_file, ca_file, verify, verify_and_map, insecure, timeout, cipher_suites, "
               "curve_preferences, min_version, handshake_first)");
    expect_err(f, "tls = { verify = 3; }\n", "1: \"tls.verify\" must be a boolean (true or false)");
    expect_err(f, "tls = { curve_preferences = [\"P999\"]; }\n",
               "1: \"tls.curve_preferences\": unknown curve \"P999\" "
               "(CurveP256, CurveP384, CurveP521, X25519)");
    expect_err(f, "tls = { min_version = \"1.0\"; }\n",
               "1: \"tls.min_version\" must be \"1.2\" or \"1.3\"");
}

static void test_modules(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_main(f,
        "auth_basic = { realm = \"x\"; anything = [1, 2]; }\n"   /* before the list */
        "modules = [\"auth_basic\", \"stats\"];\n"
        "stats = { interval = \"10s\"; }\n"), MN_OK);
    assert_int_equal(f->o.nmodules, 2);
    assert_string_equal(f->o.modules[0], "auth_basic");
    assert_string_equal(f->o.modules[1], "stats");
    const mn_cfg *ab = node(modcfg(f, "auth_basic"), MN_CFG_GROUP, f->main, 1);
    assert_string_equal(node(mn_cfg_get(ab, "realm"), MN_CFG_STRING, f->main, 1)->s, "x");
    const mn_cfg *any = node(mn_cfg_get(ab, "anything"), MN_CFG_LIST, f->main, 1);
    assert_int_equal(any->nkids, 2);
    assert_int_equal(any->kids[0]->type, MN_CFG_INT);
    assert_int_equal(any->kids[0]->i, 1);
    assert_int_equal(node(mn_cfg_get(modcfg(f, "stats"), "interval"), MN_CFG_STRING,
                          f->main, 3)->type, MN_CFG_STRING);
    assert_null(modcfg(f, "modules"));
    expect_err(f, "modules = [\"stats\"];\nstats = 1;\n",
               "2: \"stats\" must be a group: stats = { ... }");
    expect_err(f, "modules = [\"stats\"];\nother = { };\n", "2: unknown option \"other\"");
    expect_err(f, "modules = 5;\n", "1: \"modules\" must be a list of module names: [\"a\", \"b\"]");
    expect_err(f, "modules = (\"a\", 5);\n", "1: \"modules\" must be a list of module names: [\"a\", \"b\"]");
    expect_err(f, "modules = [\"../evil\"];\n",
               "1: \"modules\": \"../evil\" is not a valid module name (letters, digits, "
               "'_' and '-', starting with a letter)");
}

static void test_confd_order_and_override(void **state)
{
    fixture *f = *state;
    put(f, "conf.d/10-a.conf", "port = 2; server_name = \"a\";\nmodules = \"m1\";\n");
    put(f, "conf.d/9-b.conf", "port = 3;\n");   /* byte order: after 10-a */
    put(f, "conf.d/20-c.conf", "modules = [\"m2\", \"m1\"];\nm1 = { x = 1; };\n");
    put(f, "conf.d/.hidden.conf", "garbage ===");
    put(f, "conf.d/notes.txt", "garbage ===");
    put(f, "conf.d/x.conf.bak", "garbage ===");
    char sub[200];
    snprintf(sub, sizeof sub, "%s/conf.d/dir.conf", f->dir);
    mkdir(sub, 0700);                           /* not a regular file: skipped */
    assert_int_equal(load_main(f, "port = 1; server_name = \"main\"; debug = true;\n"), MN_OK);
    assert_int_equal(f->o.port, 3);
    assert_string_equal(f->o.server_name, "a");
    assert_true(f->o.debug);
    assert_int_equal(f->o.nconfig_files, 4);
    assert_string_equal(f->o.config_files[0], f->main);
    assert_non_null(strstr(f->o.config_files[1], "/conf.d/10-a.conf"));
    assert_non_null(strstr(f->o.config_files[2], "/conf.d/20-c.conf"));
    assert_non_null(strstr(f->o.config_files[3], "/conf.d/9-b.conf"));
    assert_int_equal(f->o.nmodules, 2);
    assert_string_equal(f->o.modules[0], "m1");
    assert_string_equal(f->o.modules[1], "m2");

    /* An error in a conf.d file names that file; no option is applied
     * from any file when one does not parse. */
    char bad[256], want[512];
    snprintf(bad, sizeof bad, "%s", put(f, "conf.d/30-bad.conf", "\nport = ;\n"));
    snprintf(want, sizeof want, "%s:2: syntax error", bad);
    mn_opts_free(&f->o);
    mn_opts_defaults(&f->o);
    assert_int_equal(load_main(f, "port = 1;\n"), MN_EINVAL);
    assert_string_equal(f->err, want);
    assert_int_equal(f->o.port, 4222);
    put(f, "conf.d/30-bad.conf", "port = 5;\n\n\nprot = 1;\n");
    assert_int_equal(load_main(f, "port = 1;\n"), MN_EINVAL);
    snprintf(want, sizeof want, "%s:4: unknown option \"prot\"", bad);
    assert_string_equal(f->err, want);
}

static void test_confd_explicit(void **state)
{
    fixture *f = *state;
    /* --confd without -c; the main file is not read twice when it sits in
     * the conf.d directory. */
    const char *p = put(f, "etc/00-server.conf", "port = 7;\nmodules = \"m\";\n");
    char mainpath[256];
    snprintf(mainpath, sizeof mainpath, "%s", p);
    put(f, "etc/10-more.conf", "server_name = \"x\";\n");
    char dir[200];
    snprintf(dir, sizeof dir, "%s/etc", f->dir);
    assert_int_equal(parse_cli(f, "--confd", dir, NULL), MN_OK);
    assert_int_equal(mn_config_load(&f->o, f->err, sizeof f->err), MN_OK);
    assert_int_equal(f->o.port, 7);
    assert_int_equal(f->o.nconfig_files, 2);

    f->o.config_file = strdup(mainpath);
    assert_int_equal(mn_config_load(&f->o, f->err, sizeof f->err), MN_OK);
    assert_int_equal(f->o.nconfig_files, 2);

    char missing[256], want[512];
    snprintf(missing, sizeof missing, "%s/nope", f->dir);
    free(f->o.confd_dir);
    f->o.confd_dir = strdup(missing);
    assert_int_equal(mn_config_load(&f->o, f->err, sizeof f->err), MN_EINVAL);
    snprintf(want, sizeof want, "%s: cannot read the conf.d directory: No such file or directory",
             missing);
    assert_string_equal(f->err, want);
}

static void test_missing_main(void **state)
{
    fixture *f = *state;
    char want[512];
    f->o.config_file = strdup("/nonexistent/modnats.conf");
    assert_int_equal(mn_config_load(&f->o, f->err, sizeof f->err), MN_EINVAL);
    assert_string_equal(f->err, "/nonexistent/modnats.conf: cannot open the config file: "
                        "No such file or directory");
    free(f->o.config_file);
    f->o.config_file = strdup(f->dir);
    assert_int_equal(mn_config_load(&f->o, f->err, sizeof f->err), MN_EINVAL);
    snprintf(want, sizeof want, "%s: cannot open the config file: it is a directory", f->dir);
    assert_string_equal(f->err, want);
}

static void test_include(void **state)
{
    fixture *f = *state;
    const char *inc = put(f, "inc/limits.conf", "\nmax_payload = \"bad\";\n");
    char incpath[256], want[512];
    snprintf(incpath, sizeof incpath, "%s", inc);
    /* relative to the including file, not the working directory */
    assert_int_equal(load_main(f, "@include \"inc/limits.conf\"\n"), MN_EINVAL);
    snprintf(want, sizeof want, "%s:2: \"max_payload\" must be a size: an integer or a string "
             "such as \"64KB\", \"1MB\", \"1GB\"", incpath);
    assert_string_equal(f->err, want);
    put(f, "inc/limits.conf", "max_payload = \"2KB\";\n");
    assert_int_equal(load_main(f, "@include \"inc/limits.conf\"\n"), MN_OK);
    assert_int_equal(f->o.max_payload, 2048);
}

static void test_cli_precedence(void **state)
{
    fixture *f = *state;
    assert_int_equal(parse_cli(f, "-p", "9999", "-D=false", "--user", "cu", "-n", "cli",
                               "--io_threads", "2", "-T=false", "-l", "cli.log",
                               "--cluster_name", "cc", "-js=false", "--module_path", "/cli",
                               NULL), MN_OK);
    assert_int_equal(load_main(f,
        "listen = \"127.0.0.9:1111\";\n"
        "debug = true; trace = true; logtime = true;\n"
        "server_name = \"file\"; io_threads = 7; log_file = \"file.log\";\n"
        "authorization = { user = \"fu\"; password = \"fp\"; }\n"
        "jetstream = true;\n"
        "cluster = { name = \"fc\"; }\n"
        "module_path = \"/file\";\n"), MN_OK);
    mn_opts *o = &f->o;
    assert_string_equal(o->host, "127.0.0.9");  /* not on the command line */
    assert_int_equal(o->port, 9999);
    assert_false(o->debug);                       /* -D=false still wins */
    assert_true(o->trace);
    assert_false(o->logtime);
    assert_string_equal(o->server_name, "cli");
    assert_int_equal(o->io_threads, 2);
    assert_string_equal(o->log_file, "cli.log");
    assert_string_equal(o->cluster_name, "cc");
    assert_false(o->jetstream);
    assert_string_equal(o->module_path, "/cli");
    /* --user is kept aside until mn_opts_imply_modules() puts it over the
     * file's user; the file's password stays. */
    assert_string_equal(o->username, "cu");
    assert_null(o->password);
    assert_int_equal(mn_opts_imply_modules(o), MN_OK);
    const mn_cfg *ab = modcfg(f, "auth_basic");
    assert_int_equal(ab->nkids, 2);
    assert_string_equal(node(mn_cfg_get(ab, "user"), MN_CFG_STRING, "command line", 0)->s, "cu");
    assert_string_equal(node(mn_cfg_get(ab, "password"), MN_CFG_STRING, f->main, 4)->s, "fp");
    expect_modules(o, "auth_basic", NULL);
    /* the file is still checked even where the command line wins */
    expect_err(f, "port = \"x\";\n", "1: \"port\" must be an integer");
    expect_err(f, "module_path = 5;\n", "1: \"module_path\" must be a string");
}

static void test_module_path(void **state)
{
    fixture *f = *state;
    assert_int_equal(load_main(f, "module_path = \"/opt/modnats/modules\";\n"), MN_OK);
    assert_string_equal(f->o.module_path, "/opt/modnats/modules");
    put(f, "conf.d/10.conf", "module_path = \"/later\";\n");
    assert_int_equal(load_main(f, "module_path = \"/first\";\n"), MN_OK);
    assert_string_equal(f->o.module_path, "/later");
    assert_false(f->o.cli_set & MN_OPT_MODPATH);
}

/* mn_opts_imply_modules(): the flags and nats-server keys served by a
 * module add it to the list, with the settings group it needs. */
static void test_imply_modules(void **state)
{
    fixture *f = *state;
    mn_opts *o = &f->o;

    /* Nothing asked for: nothing added. */
    assert_int_equal(load_main(f, "port = 1;\n"), MN_OK);
    assert_int_equal(mn_opts_imply_modules(o), MN_OK);
    assert_int_equal(o->nmodules, 0);
    assert_null(mn_cfg_get(o->module_cfg, "auth_basic"));
    assert_null(mn_cfg_get(o->module_cfg, "monitor"));

    /* http = "host:port" gives monitor both; modules listed in a file come
     * first, then auth_basic, then monitor; running twice adds nothing. */
    mn_opts_free(o);
    mn_opts_defaults(o);
    assert_int_equal(load_main(f,
        "modules = [\"stats\"];\n"
        "stats = { every = 5; };\n"
        "http = \"127.0.0.1:8333\";\n"
        "no_auth_user = \"guest\";\n"), MN_OK);
    assert_int_equal(mn_opts_imply_modules(o), MN_OK);
    assert_int_equal(mn_opts_imply_modules(o), MN_OK);
    expect_modules(o, "stats", "auth_basic", "monitor", NULL);
    const mn_cfg *mon = modcfg(f, "monitor");
    assert_int_equal(mon->nkids, 2);
    assert_int_equal(node(mn_cfg_get(mon, "port"), MN_CFG_INT, "command line", 0)->i, 8333);
    assert_string_equal(node(mn_cfg_get(mon, "host"), MN_CFG_STRING, "command line", 0)->s,
                        "127.0.0.1");
    assert_string_equal(node(mn_cfg_get(modcfg(f, "auth_basic"), "no_auth_user"),
                             MN_CFG_STRING, f->main, 4)->s, "guest");
    assert_int_equal(node(mn_cfg_get(modcfg(f, "stats"), "every"), MN_CFG_INT, f->main, 2)->i,
                     5);

    /* -m on the command line wins over http_port in a file; a port alone
     * gives no host. */
    mn_opts_free(o);
    mn_opts_defaults(o);
    assert_int_equal(parse_cli(f, "-m", "-1", NULL), MN_OK);
    assert_int_equal(load_main(f, "http = \"10.0.0.1:8222\";\n"), MN_OK);
    assert_int_equal(mn_opts_imply_modules(o), MN_OK);
    expect_modules(o, "monitor", NULL);
    mon = modcfg(f, "monitor");
    assert_int_equal(mon->nkids, 1);
    assert_int_equal(mn_cfg_get(mon, "port")->i, -1);

    /* A monitor group of its own keeps its other keys; the port of
     * http_port is put over it. */
    mn_opts_free(o);
    mn_opts_defaults(o);
    assert_int_equal(load_main(f,
        "modules = [\"monitor\"];\n"
        "monitor = { port = 1; host = \"h\"; };\n"
        "http_port = 8222;\n"), MN_OK);
    assert_int_equal(mn_opts_imply_modules(o), MN_OK);
    expect_modules(o, "monitor", NULL);
    mon = modcfg(f, "monitor");
    assert_int_equal(mn_cfg_get(mon, "port")->i, 8222);
    assert_string_equal(node(mn_cfg_get(mon, "host"), MN_CFG_STRING, f->main, 2)->s, "h");

    /* auth_basic listed by hand and authorization { } share one group. */
    mn_opts_free(o);
    mn_opts_defaults(o);
    assert_int_equal(load_main(f,
        "modules = [\"auth_basic\"];\n"
        "auth_basic = { token = \"a\"; user = \"x\"; };\n"
        "authorization = { token = \"b\"; };\n"), MN_OK);
    assert_int_equal(mn_opts_imply_modules(o), MN_OK);
    expect_modules(o, "auth_basic", NULL);
    const mn_cfg *ab = modcfg(f, "auth_basic");
    assert_int_equal(ab->nkids, 2);
    assert_string_equal(node(mn_cfg_get(ab, "token"), MN_CFG_STRING, f->main, 3)->s, "b");
    assert_string_equal(node(mn_cfg_get(ab, "user"), MN_CFG_STRING, f->main, 2)->s, "x");
}

/* A module's group written in several files: later files win key by key,
 * and every key remembers the file it came from. */
static void test_module_groups_merge(void **state)
{
    fixture *f = *state;
    put(f, "conf.d/10-a.conf", "m1 = {\n  b = \"y\";\n  c = true;\n};\n"
                               "authorization = { password = \"q\"; };\n");
    put(f, "conf.d/20-b.conf", "\nm1 = { c = false; d = [1, 2]; };\nmodules = \"m2\";\n"
                               "m2 = { z = 1.5; };\n");
    assert_int_equal(load_main(f,
        "modules = [\"m1\"];\n"
        "m1 = {\n"
        "  a = 1;\n"
        "  b = \"x\";\n"
        "  sub = { k = 1; };\n"
        "};\n"
        "authorization = { user = \"u\"; password = \"p\"; timeout = 1; };\n"), MN_OK);
    const char *fa = strdup(path_of(f, "conf.d/10-a.conf"));
    const char *fb = strdup(path_of(f, "conf.d/20-b.conf"));
    assert_non_null(fa);
    assert_non_null(fb);
    expect_modules(&f->o, "m1", "m2", NULL);

    const mn_cfg *m1 = node(modcfg(f, "m1"), MN_CFG_GROUP, f->main, 2);
    assert_int_equal(m1->nkids, 5);
    assert_int_equal(node(mn_cfg_get(m1, "a"), MN_CFG_INT, f->main, 3)->i, 1);
    assert_string_equal(node(mn_cfg_get(m1, "b"), MN_CFG_STRING, fa, 2)->s, "y");
    assert_false(node(mn_cfg_get(m1, "c"), MN_CFG_BOOL, fb, 2)->b);
    const mn_cfg *sub = node(mn_cfg_get(m1, "sub"), MN_CFG_GROUP, f->main, 5);
    assert_int_equal(mn_cfg_get(sub, "k")->i, 1);
    const mn_cfg *d = node(mn_cfg_get(m1, "d"), MN_CFG_LIST, fb, 2);
    assert_int_equal(d->nkids, 2);
    assert_int_equal(d->kids[1]->i, 2);
    assert_true(node(mn_cfg_get(modcfg(f, "m2"), "z"), MN_CFG_FLOAT, fb, 4)->d == 1.5);

    const mn_cfg *ab = modcfg(f, "auth_basic");
    assert_string_equal(node(mn_cfg_get(ab, "user"), MN_CFG_STRING, f->main, 7)->s, "u");
    assert_string_equal(node(mn_cfg_get(ab, "password"), MN_CFG_STRING, fa, 5)->s, "q");
    assert_int_equal(f->o.auth_timeout_ms, 1000);
    free((void *)fa);
    free((void *)fb);
}

/* A module group in an @included file names that file in a form the user
 * can open, as error messages do. */
static void test_module_group_include(void **state)
{
    fixture *f = *state;
    put(f, "inc/m.conf", "\nm1 = { a = 1; };\n\nno_auth_user = \"g\";\n");
    assert_int_equal(load_main(f, "modules = [\"m1\"];\n@include \"inc/m.conf\"\n"), MN_OK);
    const mn_cfg *a = mn_cfg_get(modcfg(f, "m1"), "a");
    assert_non_null(a);
    assert_int_equal(a->line, 2);
    assert_string_equal(a->file, path_of(f, "inc/m.conf"));
    const mn_cfg *nau = mn_cfg_get(modcfg(f, "auth_basic"), "no_auth_user");
    assert_non_null(nau);
    assert_int_equal(nau->line, 4);
    assert_string_equal(nau->file, path_of(f, "inc/m.conf"));
}

static void test_reload(void **state)
{
    fixture *f = *state;
    put(f, "main.conf", "port = 1; debug = true; server_name = \"one\";\n");
    assert_int_equal(parse_cli(f, "-c", f->main, "-p", "5555", NULL), MN_OK);
    assert_int_equal(mn_config_load(&f->o, f->err, sizeof f->err), MN_OK);
    assert_int_equal(f->o.port, 5555);
    assert_string_equal(f->o.server_name, "one");

    put(f, "main.conf", "port = 2; debug = false; server_name = \"two\";\n");
    put(f, "conf.d/50.conf", "max_payload = \"4KB\";\n");
    mn_opts fresh;
    assert_int_equal(mn_config_reload(&f->o, &fresh, f->err, sizeof f->err), MN_OK);
    assert_int_equal(fresh.port, 5555);
    assert_false(fresh.debug);
    assert_string_equal(fresh.server_name, "two");
    assert_int_equal(fresh.max_payload, 4096);
    assert_int_equal(fresh.nconfig_files, 2);
    assert_true(fresh.cli_set & MN_OPT_PORT);
    assert_string_equal(f->o.server_name, "one");   /* current is untouched */
    mn_opts_free(&fresh);

    /* Module groups are read again too. */
    f->o.module_cfg = mn_cfg_new(NULL, MN_CFG_GROUP, NULL, 0);
    assert_non_null(f->o.module_cfg);
    put(f, "main.conf", "modules = [\"m1\"];\nm1 = { a = 2; };\n");
    assert_int_equal(mn_config_reload(&f->o, &fresh, f->err, sizeof f->err), MN_OK);
    assert_int_equal(node(mn_cfg_get(mn_cfg_get(fresh.module_cfg, "m1"), "a"), MN_CFG_INT,
                          f->main, 2)->i, 2);
    assert_int_equal(f->o.module_cfg->nkids, 0);
    mn_opts_free(&fresh);

    put(f, "main.conf", "port = 2;\nbogus = 1;\n");
    char want[512];
    snprintf(want, sizeof want, "%s:2: unknown option \"bogus\"", f->main);
    memset(&fresh, 0x5a, sizeof fresh);
    assert_int_equal(mn_config_reload(&f->o, &fresh, f->err, sizeof f->err), MN_EINVAL);
    assert_string_equal(f->err, want);
    assert_null(fresh.host);    /* nothing left to free */
    mn_opts_free(&fresh);

    /* options built without a command line */
    mn_opts bare, fresh2;
    mn_opts_defaults(&bare);
    bare.config_file = strdup(f->main);
    put(f, "main.conf", "port = 3;\n");
    assert_int_equal(mn_config_reload(&bare, &fresh2, f->err, sizeof f->err), MN_OK);
    assert_int_equal(fresh2.port, 3);
    mn_opts_free(&fresh2);
    mn_opts_free(&bare);
}

static void test_shipped_confd(void **state)
{
    /* The repo's conf.d/ must load and validate as shipped.  The source tree
     * is found from this file's path (absolute in CMake builds). */
    fixture *f = *state;
    char path[512];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *cut = strstr(path, "tests/unit/test_config.c");
    assert_non_null(cut);
    strcpy(cut, "conf.d");
    if (cut == path)
        strcpy(path, "conf.d");
    f->o.confd_dir = strdup(path);
    assert_int_equal(mn_config_load(&f->o, f->err, sizeof f->err), MN_OK);
    assert_true(f->o.nconfig_files >= 1);
    assert_int_equal(mn_opts_validate(&f->o, f->err, sizeof f->err), MN_OK);
    assert_int_equal(f->o.port, 4222);
    assert_string_equal(f->o.host, "0.0.0.0");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_no_files),
        T(test_all_keys),
        T(test_aliases_and_case),
        T(test_listen_and_ports),
        T(test_sizes),
        T(test_wide_integers),
        T(test_durations),
        T(test_type_errors),
        T(test_unknown_and_syntax),
        T(test_authorization_tree),
        T(test_authorization_errors),
        T(test_placeholders),
        T(test_modules),
        T(test_confd_order_and_override),
        T(test_confd_explicit),
        T(test_missing_main),
        T(test_include),
        T(test_cli_precedence),
        T(test_module_path),
        T(test_imply_modules),
        T(test_module_groups_merge),
        T(test_module_group_include),
        T(test_reload),
        T(test_shipped_confd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
