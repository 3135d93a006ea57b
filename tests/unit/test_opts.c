/*
 * test_opts.c - the command line (core/opts.c): every flag in each of the
 * forms Go's flag package accepts, the errors with their exact text, the
 * cli_set bits, mn_opts_validate()'s refusals, and the modules that
 * flags imply (mn_opts_imply_modules: --user/--pass/--auth give
 * auth_basic, -m gives monitor).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgtree.h"
#include "opts.h"

typedef struct run {
    mn_opts       o;
    mn_cli_action action;
    char         *signal;
    char          err[256];
    int           rc;
} run;

/* Parses a NULL-terminated argument list (program name added). */
static run *parse(const char *first, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "modnats";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;

    run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    mn_opts_defaults(&r->o);
    r->rc = mn_opts_parse_args(&r->o, argc, argv, &r->action, &r->signal,
                               r->err, sizeof r->err);
    return r;
}

static void done(run *r)
{
    mn_opts_free(&r->o);
    free(r->signal);
    free(r);
}

static void expect_error(run *r, const char *msg)
{
    assert_int_equal(r->rc, MN_EINVAL);
    assert_string_equal(r->err, msg);
    done(r);
}

static void test_defaults(void **state)
{
    (void)state;
    mn_opts o;
    mn_opts_defaults(&o);
    assert_string_equal(o.host, "0.0.0.0");
    assert_int_equal(o.port, 4222);
    assert_int_equal(o.max_payload, 1024 * 1024);
    assert_int_equal(o.max_control_line, 4096);
    assert_int_equal(o.max_pending, 64 * 1024 * 1024);
    assert_int_equal(o.max_connections, 65536);
    assert_int_equal(o.max_subscriptions, 0);
    assert_int_equal(o.ping_interval_ms, 120000);
    assert_int_equal(o.ping_max, 2);
    assert_int_equal(o.auth_timeout_ms, 2000);
    assert_int_equal(o.write_deadline_ms, 10000);
    assert_int_equal(o.lame_duck_duration_ms, 120000);
    assert_int_equal(o.lame_duck_grace_period_ms, 10000);
    assert_true(o.logtime);
    assert_false(o.debug);
    assert_false(o.trace);
    assert_int_equal(o.http_port, 0);
    assert_int_equal(o.cli_set, 0);
    assert_int_equal(mn_opts_validate(&o, NULL, 0), MN_OK);
    mn_opts_free(&o);
    mn_opts_free(&o);   /* freeing twice is harmless: the struct is zeroed */
}

static void test_port_forms(void **state)
{
    (void)state;
    const char *forms[][3] = {
        {"-p", "5222", NULL}, {"--p", "5222", NULL}, {"-port", "5222", NULL},
        {"--port", "5222", NULL}, {"-p=5222", NULL, NULL}, {"--port=5222", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        run *r = parse(forms[i][0], forms[i][1], NULL);
        assert_int_equal(r->rc, MN_OK);
        assert_int_equal(r->o.port, 5222);
        assert_true(r->o.cli_set & MN_OPT_PORT);
        assert_int_equal(r->action, MN_CLI_RUN);
        done(r);
    }
}

static void test_random_and_zero_port(void **state)
{
    (void)state;
    run *r = parse("-p", "-1", NULL);
    assert_int_equal(r->rc, MN_OK);
    assert_int_equal(r->o.port, -1);
    done(r);
    r = parse("--port", "RANDOM_PORT", NULL);
    assert_int_equal(r->o.port, -1);
    done(r);
    r = parse("-p", "0", NULL);      /* nats-server: 0 means the default */
    assert_int_equal(r->o.port, 4222);
    done(r);
    r = parse("-p", "0x10", NULL);   /* Go's base prefixes */
    assert_int_equal(r->o.port, 16);
    done(r);
}

static void test_string_flags(void **state)
{
    (void)state;
    static const struct {
        const char *flag;
        size_t off;
        uint32_t bit;
    } t[] = {
        {"a", offsetof(mn_opts, host), MN_OPT_HOST},
        {"addr", offsetof(mn_opts, host), MN_OPT_HOST},
        {"net", offsetof(mn_opts, host), MN_OPT_HOST},
        {"n", offsetof(mn_opts, server_name), MN_OPT_NAME},
        {"name", offsetof(mn_opts, server_name), MN_OPT_NAME},
        {"server_name", offsetof(mn_opts, server_name), MN_OPT_NAME},
        {"client_advertise", offsetof(mn_opts, client_advertise), MN_OPT_ADVERTISE},
        {"c", offsetof(mn_opts, config_file), 0},
        {"config", offsetof(mn_opts, config_file), 0},
        {"confd", offsetof(mn_opts, confd_dir), 0},
        {"l", offsetof(mn_opts, log_file), MN_OPT_LOGFILE},
        {"log", offsetof(mn_opts, log_file), MN_OPT_LOGFILE},
        {"P", offsetof(mn_opts, pid_file), MN_OPT_PIDFILE},
        {"pid", offsetof(mn_opts, pid_file), MN_OPT_PIDFILE},
        {"ports_file_dir", offsetof(mn_opts, ports_file_dir), MN_OPT_PORTSDIR},
        {"user", offsetof(mn_opts, username), MN_OPT_USER},
        {"pass", offsetof(mn_opts, password), MN_OPT_PASS},
        {"auth", offsetof(mn_opts, auth_token), MN_OPT_AUTH},
        {"sd", offsetof(mn_opts, store_dir), MN_OPT_SD},
        {"store_dir", offsetof(mn_opts, store_dir), MN_OPT_SD},
        {"tlscert", offsetof(mn_opts, tls_set.cert_file), MN_OPT_TLS},
        {"tlskey", offsetof(mn_opts, tls_set.key_file), MN_OPT_TLS},
        {"tlscacert", offsetof(mn_opts, tls_set.ca_file), MN_OPT_TLS},
        {"cluster", offsetof(mn_opts, cluster_url), MN_OPT_CLUSTER},
        {"cluster_listen", offsetof(mn_opts, cluster_url), MN_OPT_CLUSTER},
        {"cluster_advertise", offsetof(mn_opts, cluster_advertise), MN_OPT_CLUSTER},
        {"cluster_name", offsetof(mn_opts, cluster_name), MN_OPT_CLUSTERNAME},
        {"routes", offsetof(mn_opts, routes), MN_OPT_ROUTES},
        {"r", offsetof(mn_opts, remote_syslog), MN_OPT_RSYSLOG},
        {"remote_syslog", offsetof(mn_opts, remote_syslog), MN_OPT_RSYSLOG},
        {"module_path", offsetof(mn_opts, module_path), MN_OPT_MODPATH},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        for (int form = 0; form < 4; form++) {
            char f[64];
            run *r;
            snprintf(f, sizeof f, "%s%s%s", form & 1 ? "--" : "-", t[i].flag,
                     form & 2 ? "=val-ue" : "");
            r = form & 2 ? parse(f, NULL) : parse(f, "val-ue", NULL);
            assert_int_equal(r->rc, MN_OK);
            char *got = *(char **)((char *)&r->o + t[i].off);
            assert_non_null(got);
            assert_string_equal(got, "val-ue");
            assert_int_equal(r->o.cli_set, t[i].bit);
            done(r);
        }
    }
}

static void test_empty_value_clears_but_shields(void **state)
{
    (void)state;
    run *r = parse("--cluster=", NULL);
    assert_int_equal(r->rc, MN_OK);
    assert_null(r->o.cluster_url);
    assert_true(r->o.cli_set & MN_OPT_CLUSTER);
    done(r);
    r = parse("-a", "", NULL);
    assert_string_equal(r->o.host, "0.0.0.0");
    done(r);
}

static void test_int_flags(void **state)
{
    (void)state;
    run *r = parse("-m", "8222", "--io_threads", "4", "-ms=8443",
                   "--profile", "6060", "--max_traced_msg_len", "100",
                   "--log_size_limit", "1000000", "--connect_retries", "3", NULL);
    assert_int_equal(r->rc, MN_OK);
    assert_int_equal(r->o.http_port, 8222);
    assert_int_equal(r->o.io_threads, 4);
    assert_int_equal(r->o.https_port, 8443);
    assert_int_equal(r->o.prof_port, 6060);
    assert_int_equal(r->o.max_traced_msg_len, 100);
    assert_int_equal(r->o.log_size_limit, 1000000);
    assert_int_equal(r->o.cluster_connect_retries, 3);
    assert_int_equal(r->o.cli_set, MN_OPT_HTTP | MN_OPT_THREADS | MN_OPT_HTTPS |
                     MN_OPT_PROFILE | MN_OPT_TRACELEN | MN_OPT_LOGSIZE | MN_OPT_CLUSTER);
    done(r);
    r = parse("--http_port", "-1", NULL);
    assert_int_equal(r->o.http_port, -1);
    done(r);
}

static void test_bool_flags(void **state)
{
    (void)state;
    run *r = parse("-D", "-V", "-s", "-js", "--tls", "--tlsverify", "--no_advertise",
                   "--logtime_utc", "-t", NULL);
    assert_int_equal(r->rc, MN_OK);
    assert_true(r->o.debug);
    assert_true(r->o.trace);
    assert_true(r->o.syslog);
    assert_true(r->o.jetstream);
    assert_true(r->o.tls);
    assert_true(r->o.tls_set.verify);
    assert_true(r->o.cluster_no_advertise);
    assert_true(r->o.logtime_utc);
    assert_true(r->o.check_config);
    assert_int_equal(r->o.cli_set, MN_OPT_DEBUG | MN_OPT_TRACE | MN_OPT_SYSLOG |
                     MN_OPT_JS | MN_OPT_TLS | MN_OPT_CLUSTER | MN_OPT_LOGTIMEUTC);
    done(r);

    r = parse("--debug", "--trace", "--syslog", "--jetstream", NULL);
    assert_true(r->o.debug && r->o.trace && r->o.syslog && r->o.jetstream);
    done(r);

    /* Values only after "=", in any of Go's spellings. */
    r = parse("-D=true", "-V=1", "--syslog=T", "-js=TRUE", NULL);
    assert_int_equal(r->rc, MN_OK);
    assert_true(r->o.debug && r->o.trace && r->o.syslog && r->o.jetstream);
    done(r);
    r = parse("-D", "-D=false", "--trace=0", "-T=F", NULL);
    assert_int_equal(r->rc, MN_OK);
    assert_false(r->o.debug);
    assert_false(r->o.trace);
    assert_false(r->o.logtime);
    assert_true(r->o.cli_set & MN_OPT_DEBUG);   /* false was set explicitly */
    assert_true(r->o.cli_set & MN_OPT_LOGTIME);
    done(r);
    r = parse("--logtime=false", NULL);
    assert_false(r->o.logtime);
    done(r);
    r = parse("-T", NULL);
    assert_true(r->o.logtime);
    done(r);
}

static void test_combined_log_flags(void **state)
{
    (void)state;
    run *r = parse("-DV", NULL);
    assert_true(r->o.debug && r->o.trace && !r->o.trace_verbose);
    assert_int_equal(r->o.cli_set, MN_OPT_DEBUG | MN_OPT_TRACE);
    done(r);
    r = parse("-VV", NULL);
    assert_true(!r->o.debug && r->o.trace && r->o.trace_verbose);
    done(r);
    r = parse("--DVV", NULL);
    assert_true(r->o.debug && r->o.trace && r->o.trace_verbose);
    done(r);
    r = parse("-DV", "-DV=false", NULL);
    assert_false(r->o.debug || r->o.trace);
    done(r);
}

static void test_last_one_wins(void **state)
{
    (void)state;
    run *r = parse("-p", "1", "--port=2", "-p", "3", "-n", "a", "-n", "b", NULL);
    assert_int_equal(r->o.port, 3);
    assert_string_equal(r->o.server_name, "b");
    done(r);
}

static void test_actions(void **state)
{
    (void)state;
    const char *help[] = {"-h", "--help", "-help", "help", "HELP"};
    for (size_t i = 0; i < 5; i++) {
        run *r = parse(help[i], NULL);
        assert_int_equal(r->rc, MN_OK);
        assert_int_equal(r->action, MN_CLI_HELP);
        done(r);
    }
    const char *ver[] = {"-v", "--version", "-version", "version", "Version"};
    for (size_t i = 0; i < 5; i++) {
        run *r = parse(ver[i], NULL);
        assert_int_equal(r->action, MN_CLI_VERSION);
        done(r);
    }
    run *r = parse("-h", "-v", NULL);   /* version first, as nats-server */
    assert_int_equal(r->action, MN_CLI_VERSION);
    done(r);
    r = parse("-h=false", NULL);
    assert_int_equal(r->action, MN_CLI_RUN);
    done(r);
    assert_non_null(strstr(mn_opts_usage(), "--port"));
}

static void test_signal(void **state)
{
    (void)state;
    const char *cmds[] = {"stop", "quit", "term", "reopen", "reload", "ldm"};
    for (size_t i = 0; i < 6; i++) {
        run *r = parse("-sl", cmds[i], NULL);
        assert_int_equal(r->rc, MN_OK);
        assert_int_equal(r->action, MN_CLI_SIGNAL);
        assert_string_equal(r->signal, cmds[i]);
        done(r);
    }
    run *r = parse("--signal=reload=/var/run/modnats.pid", NULL);
    assert_int_equal(r->action, MN_CLI_SIGNAL);
    assert_string_equal(r->signal, "reload=/var/run/modnats.pid");
    done(r);
    r = parse("--signal", "stop=123", "-sl", "quit", NULL);
    assert_string_equal(r->signal, "quit");
    done(r);
    r = parse("-sl", "stop", "-h", NULL);   /* help wins, no signal handed out */
    assert_int_equal(r->action, MN_CLI_HELP);
    assert_null(r->signal);
    done(r);
    expect_error(parse("-sl", "kill", NULL),
                 "unknown signal \"kill\" (ldm, stop, quit, term, reopen, reload)");
    expect_error(parse("-sl", "stop=1=2", NULL), "invalid signal parameters: 1=2");
}

static void test_stop_at_non_flag(void **state)
{
    (void)state;
    /* A boolean flag never eats the next argument. */
    expect_error(parse("-D", "false", NULL), "unrecognized command: \"false\"");
    expect_error(parse("-p", "1", "foo", "-p", "2", NULL), "unrecognized command: \"foo\"");
    /* "--" ends the flags; what follows is a command, as in nats-server. */
    expect_error(parse("-p", "1", "--", "-p", "2", NULL), "unrecognized command: \"-p\"");
    run *r = parse("-p", "1", "--", "version", NULL);
    assert_int_equal(r->action, MN_CLI_VERSION);
    done(r);
    expect_error(parse("-", NULL), "unrecognized command: \"-\"");
}

static void test_errors(void **state)
{
    (void)state;
    expect_error(parse("-foo", NULL), "flag provided but not defined: -foo");
    expect_error(parse("--foo=bar", NULL), "flag provided but not defined: -foo");
    expect_error(parse("--max_payload", "1", NULL),
                 "flag provided but not defined: -max_payload");
    expect_error(parse("--http_host", "x", NULL),
                 "flag provided but not defined: -http_host");
    expect_error(parse("-d", NULL), "flag provided but not defined: -d");
    expect_error(parse("---p", "1", NULL), "bad flag syntax: ---p");
    expect_error(parse("-=1", NULL), "bad flag syntax: -=1");
    expect_error(parse("-p", NULL), "flag needs an argument: -p");
    expect_error(parse("--config", NULL), "flag needs an argument: -config");
    expect_error(parse("-p", "abc", NULL), "invalid value \"abc\" for flag -p: parse error");
    expect_error(parse("-p", "12x", NULL), "invalid value \"12x\" for flag -p: parse error");
    expect_error(parse("-p", "", NULL), "invalid value \"\" for flag -p: parse error");
    expect_error(parse("-p", " 1", NULL), "invalid value \" 1\" for flag -p: parse error");
    expect_error(parse("--port=99999999999999999999", NULL),
                 "invalid value \"99999999999999999999\" for flag -port: value out of range");
    expect_error(parse("-p", "65536", NULL),
                 "invalid value \"65536\" for flag -p: out of range (-1..65535)");
    expect_error(parse("-m", "-2", NULL),
                 "invalid value \"-2\" for flag -m: out of range (-1..65535)");
    expect_error(parse("--io_threads", "5000", NULL),
                 "invalid value \"5000\" for flag -io_threads: out of range (0..1024)");
    expect_error(parse("-D=maybe", NULL), "invalid boolean value \"maybe\" for -D: parse error");
    expect_error(parse("--tls=yes", NULL), "invalid boolean value \"yes\" for -tls: parse error");
    expect_error(parse("--help_tls", NULL),
                 "TLS: --tls, --tlscert FILE, --tlskey FILE, --tlscacert FILE, --tlsverify; "
                 "or a tls { } block (docs/configuration.md)");
}

static void test_argv_copied(void **state)
{
    (void)state;
    char a0[] = "modnats", a1[] = "-p", a2[] = "1234";
    char *argv[] = {a0, a1, a2, NULL};
    mn_opts o;
    mn_opts_defaults(&o);
    assert_int_equal(mn_opts_parse_args(&o, 3, argv, NULL, NULL, NULL, 0), MN_OK);
    a2[0] = '9';
    assert_int_equal(o.argc, 3);
    assert_string_equal(o.argv[2], "1234");
    assert_ptr_not_equal(o.argv[2], a2);
    /* Replaying the stored copy must work too (mn_config_reload does). */
    assert_int_equal(mn_opts_parse_args(&o, o.argc, o.argv, NULL, NULL, NULL, 0), MN_OK);
    assert_int_equal(o.port, 1234);
    mn_opts_free(&o);
}

static run *validated(const char *first, ...)
{
    /* parse(), then run mn_opts_validate into r->err/r->rc. */
    char *argv[64];
    int argc = 0;
    argv[argc++] = "modnats";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    run *r = calloc(1, sizeof *r);
    mn_opts_defaults(&r->o);
    assert_int_equal(mn_opts_parse_args(&r->o, argc, argv, &r->action, &r->signal,
                                        r->err, sizeof r->err), MN_OK);
    r->rc = mn_opts_validate(&r->o, r->err, sizeof r->err);
    return r;
}

static void test_validate_unbuilt(void **state)
{
    (void)state;
    const char *js = "jetstream (-js, jetstream) needs the jetstream module, "
                     "which this build does not have";
    /* JetStream likewise, where the jetstream module is missing. */
    static const char *const js_args[][4] = {
        { "-js", NULL, NULL, NULL }, { "--jetstream", "-sd", "/tmp/x", NULL },
    };
    for (size_t i = 0; i < sizeof js_args / sizeof js_args[0]; i++) {
        run *r = validated(js_args[i][0], js_args[i][1], js_args[i][2], NULL);
        if (mn_module_available(&r->o, "jetstream")) {
            assert_int_equal(r->rc, MN_OK);
            done(r);
        } else {
            expect_error(r, js);
        }
    }
    /* Clustering is refused only where the cluster module is missing
     * (this test binary may sit beside a build that has cluster.so). */
    const char *cl = "clustering (--cluster, --routes, cluster) needs the cluster "
                     "module, which this build does not have";
    static const char *const cluster_args[][3] = {
        { "--cluster", "nats://0.0.0.0:6222", NULL }, { "--routes", "nats://a:6222", NULL },
        { "--no_advertise", NULL, NULL }, { "--cluster_advertise", "x:1", NULL },
    };
    for (size_t i = 0; i < sizeof cluster_args / sizeof cluster_args[0]; i++) {
        run *r = validated(cluster_args[i][0], cluster_args[i][1], NULL);
        if (mn_module_available(&r->o, "cluster")) {
            assert_int_equal(r->rc, MN_OK);
            done(r);
        } else {
            expect_error(r, cl);
        }
    }
    /* TLS is core: it needs a certificate and its key. */
    const char *tls = "TLS needs a certificate and its key: tls { cert_file, key_file } or "
                      "--tlscert and --tlskey";
    expect_error(validated("--tls", NULL), tls);
    expect_error(validated("--tlsverify", NULL), tls);
    expect_error(validated("--tls", "--tlscert", "c.pem", NULL), tls);
    run *t = validated("--tls", "--tlscert", "c.pem", "--tlskey", "k.pem", NULL);
    assert_int_equal(t->rc, MN_OK);
    assert_true(t->o.tls);
    done(t);
    t = validated("--tlscacert", "ca.pem", NULL);   /* inert without --tls */
    assert_int_equal(t->rc, MN_OK);
    done(t);
    expect_error(validated("-ms", "8443", NULL),
                 "HTTPS monitoring (-ms, https_port) needs the monitoring module, "
                 "which this build does not have");
    expect_error(validated("--profile", "6060", NULL),
                 "profiling (--profile, prof_port) is not supported by modnats");
    expect_error(validated("-r", "udp://localhost:514", NULL),
                 "remote syslog (-r, remote_syslog) is not supported by modnats");
    expect_error(validated("--log_size_limit", "100", NULL),
                 "log rotation by size (--log_size_limit, log_size_limit) is not "
                 "supported by modnats");

    /* Inert without their feature, as in nats-server. */
    run *r = validated("-sd", "/tmp/x", "--cluster_name", "c", "-js=false",
                       "--tls=false", NULL);
    assert_int_equal(r->rc, MN_OK);
    done(r);
    /* Monitoring is the monitor module's now: -m loads it. */
    r = validated("-m", "8222", NULL);
    assert_int_equal(r->rc, MN_OK);
    done(r);
}

static void test_validate_cross(void **state)
{
    (void)state;
    expect_error(validated("-t", NULL),
                 "-t needs a configuration to check: give -c FILE or --confd DIR");
    expect_error(validated("--pass", "p", NULL), "a password (--pass) needs a user (--user)");
    run *r = validated("--user", "u", "--pass", "p", "-c", "x.conf", "-t", NULL);
    assert_int_equal(r->rc, MN_OK);
    done(r);
    /* Combinations of credentials are auth_basic's to refuse, at load. */
    r = validated("--user", "u", "--auth", "t", NULL);
    assert_int_equal(r->rc, MN_OK);
    done(r);

    mn_opts o;
    char err[256];
    mn_opts_defaults(&o);
    o.max_payload = o.max_pending + 1;
    assert_int_equal(mn_opts_validate(&o, err, sizeof err), MN_EINVAL);
    assert_string_equal(err, "max_payload (67108865) cannot be larger than max_pending "
                        "(67108864)");
    o.max_payload = 1024;
    o.lame_duck_grace_period_ms = o.lame_duck_duration_ms;
    assert_int_equal(mn_opts_validate(&o, err, sizeof err), MN_EINVAL);
    assert_string_equal(err, "lame_duck_grace_period (120000ms) must be shorter than "
                        "lame_duck_duration (120000ms)");
    o.lame_duck_grace_period_ms = 0;
    assert_int_equal(mn_opts_validate(&o, err, sizeof err), MN_OK);
    mn_opts_free(&o);
}

static void test_list_modules_and_module_path(void **state)
{
    (void)state;
    const char *on[] = {"--list-modules", "-list-modules", "--list_modules",
                        "--list-modules=true"};
    for (size_t i = 0; i < sizeof on / sizeof on[0]; i++) {
        run *r = parse(on[i], NULL);
        assert_int_equal(r->rc, MN_OK);
        assert_true(r->o.list_modules);
        assert_int_equal(r->action, MN_CLI_RUN);     /* main() lists, then exits */
        assert_int_equal(r->o.cli_set, 0);
        done(r);
    }
    run *r = parse("--list-modules", "--list-modules=false", NULL);
    assert_false(r->o.list_modules);
    done(r);
    r = parse(NULL);
    assert_false(r->o.list_modules);
    assert_null(r->o.module_path);
    done(r);
    r = parse("--module_path", "/a", "--module_path=/b", "-c", "x.conf", "--list-modules", NULL);
    assert_int_equal(r->rc, MN_OK);
    assert_string_equal(r->o.module_path, "/b");
    assert_true(r->o.cli_set & MN_OPT_MODPATH);
    assert_true(r->o.list_modules);
    done(r);
    expect_error(parse("--module_path", NULL), "flag needs an argument: -module_path");
    expect_error(parse("--list-modules=maybe", NULL),
                 "invalid boolean value \"maybe\" for -list-modules: parse error");
    expect_error(parse("--module-path", "/x", NULL),
                 "flag provided but not defined: -module-path");
}

/* The value and origin of setting key in module's group, or NULL. */
static const mn_cfg *setting(const mn_opts *o, const char *module, const char *key)
{
    const mn_cfg *g = mn_cfg_get(o->module_cfg, module);
    if (!g)
        return NULL;
    assert_int_equal(g->type, MN_CFG_GROUP);
    const mn_cfg *v = mn_cfg_get(g, key);
    if (v) {
        assert_string_equal(v->file, "command line");
        assert_int_equal(v->line, 0);
    }
    return v;
}

static void test_imply_modules(void **state)
{
    (void)state;
    run *r = parse("-p", "1", "-m", "0", NULL);
    assert_int_equal(mn_opts_imply_modules(&r->o), MN_OK);
    assert_int_equal(r->o.nmodules, 0);
    assert_null(mn_cfg_get(r->o.module_cfg, "monitor"));
    assert_null(mn_cfg_get(r->o.module_cfg, "auth_basic"));
    done(r);

    r = parse("--user", "u", "--pass", "p", NULL);
    assert_int_equal(mn_opts_imply_modules(&r->o), MN_OK);
    assert_int_equal(r->o.nmodules, 1);
    assert_string_equal(r->o.modules[0], "auth_basic");
    assert_string_equal(setting(&r->o, "auth_basic", "user")->s, "u");
    assert_string_equal(setting(&r->o, "auth_basic", "password")->s, "p");
    assert_null(setting(&r->o, "auth_basic", "token"));
    assert_int_equal(mn_cfg_get(r->o.module_cfg, "auth_basic")->nkids, 2);
    done(r);

    r = parse("--auth", "s3cret", "-m", "8222", NULL);
    assert_int_equal(mn_opts_imply_modules(&r->o), MN_OK);
    assert_int_equal(mn_opts_imply_modules(&r->o), MN_OK);   /* idempotent */
    assert_int_equal(r->o.nmodules, 2);
    assert_string_equal(r->o.modules[0], "auth_basic");
    assert_string_equal(r->o.modules[1], "monitor");
    assert_string_equal(setting(&r->o, "auth_basic", "token")->s, "s3cret");
    assert_int_equal(mn_cfg_get(r->o.module_cfg, "auth_basic")->nkids, 1);
    const mn_cfg *port = setting(&r->o, "monitor", "port");
    assert_int_equal(port->type, MN_CFG_INT);
    assert_int_equal(port->i, 8222);
    assert_null(setting(&r->o, "monitor", "host"));
    assert_int_equal(r->o.module_cfg->nkids, 2);
    done(r);

    /* -m -1: any free port, still the monitor. */
    r = parse("--http_port=-1", NULL);
    assert_int_equal(mn_opts_imply_modules(&r->o), MN_OK);
    assert_int_equal(r->o.nmodules, 1);
    assert_int_equal(setting(&r->o, "monitor", "port")->i, -1);
    done(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_port_forms),
        cmocka_unit_test(test_random_and_zero_port),
        cmocka_unit_test(test_string_flags),
        cmocka_unit_test(test_empty_value_clears_but_shields),
        cmocka_unit_test(test_int_flags),
        cmocka_unit_test(test_bool_flags),
        cmocka_unit_test(test_combined_log_flags),
        cmocka_unit_test(test_last_one_wins),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_signal),
        cmocka_unit_test(test_stop_at_non_flag),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_argv_copied),
        cmocka_unit_test(test_validate_unbuilt),
        cmocka_unit_test(test_validate_cross),
        cmocka_unit_test(test_list_modules_and_module_path),
        cmocka_unit_test(test_imply_modules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
