/*
 * opts.c - server options: nats-server's defaults, its command line, and the
 * cross-option checks run before the server starts.
 *
 * The command line follows Go's flag package as nats-server uses it, so that
 * scripts and test harnesses written for nats-server work unchanged: one or
 * two dashes, "-p 4222" or "-p=4222", boolean flags take a value only after
 * "=", parsing stops at the first non-flag argument or "--", and the errors
 * read like Go's ("flag provided but not defined: -foo").  Every flag given
 * sets its bit in cli_set so that config files never override it.
 *
 * Config files are read by config.c; this file only knows the flags.
 */
#include "opts.h"
#include "cfgtree.h"
#include "natsconf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MiB (1024 * 1024)

void mn_opts_defaults(mn_opts *o)
{
    memset(o, 0, sizeof *o);
    o->host = strdup("0.0.0.0");
    o->port = 4222;
    o->max_payload = 1 * MiB;
    o->max_control_line = 4096;
    o->max_pending = 64 * MiB;
    o->max_connections = 64 * 1024;
    o->max_subscriptions = 0;
    o->ping_interval_ms = 2 * 60 * 1000;
    o->ping_max = 2;
    o->auth_timeout_ms = 2000;
    o->write_deadline_ms = 10 * 1000;
    o->lame_duck_duration_ms = 2 * 60 * 1000;
    o->lame_duck_grace_period_ms = 10 * 1000;
    o->logtime = true;
    mn_tls_settings_init(&o->tls_set);
}

static void free_strv(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void mn_opts_free(mn_opts *o)
{
    if (!o)
        return;
    free(o->host);
    free(o->server_name);
    free(o->client_advertise);
    free(o->username);
    free(o->password);
    free(o->auth_token);
    for (int i = 0; i < o->nusers; i++) {
        free(o->users[i].user);
        free(o->users[i].password);
    }
    free(o->users);
    free(o->no_auth_user);
    free(o->log_file);
    free(o->pid_file);
    free(o->ports_file_dir);
    free(o->http_host);
    free(o->store_dir);
    free(o->cluster_url);
    free(o->cluster_name);
    free(o->routes);
    mn_tls_settings_free(&o->tls_set);
    free(o->config_file);
    free(o->confd_dir);
    free(o->module_path);
    mn_cfg_free(o->module_cfg);
    free(o->remote_syslog);
    free(o->cluster_advertise);
    free_strv(o->server_tags, o->nserver_tags);
    free_strv(o->modules, o->nmodules);
    free_strv(o->config_files, o->nconfig_files);
    free_strv(o->argv, o->argc);
    memset(o, 0, sizeof *o);
}

/* ---- the flag table ---------------------------------------------------- */

typedef enum {
    F_HELP, F_VERSION, F_PORT, F_ADDR, F_NAME, F_ADVERTISE,
    F_DEBUG, F_TRACE, F_DV, F_VV, F_DVV, F_LOGTIME, F_LOGTIME_UTC,
    F_USER, F_PASS, F_AUTH, F_HTTP, F_HTTPS, F_CONFIG, F_CONFD, F_TEST,
    F_SIGNAL, F_PID, F_PORTSDIR, F_LOG, F_LOGSIZE, F_SYSLOG, F_RSYSLOG,
    F_PROFILE, F_ROUTES, F_CLUSTER, F_CLUSTER_ADV, F_NO_ADV, F_RETRIES,
    F_CLUSTER_NAME, F_HELP_TLS, F_TLS, F_TLSVERIFY, F_TLSCERT, F_TLSKEY,
    F_TLSCACERT, F_TRACELEN, F_JS, F_SD, F_THREADS, F_LIST_MODULES, F_MODULE_PATH,
    F_CONVERT,
} flag_id;

typedef enum { K_BOOL, K_INT, K_STR } flag_kind;

typedef struct flag_def {
    const char *name;
    flag_id     id;
    flag_kind   kind;
} flag_def;

/* Names and kinds are nats-server's (server/opts.go, ConfigureOptions);
 * the modnats-only flags (--confd, --io_threads) have long names that
 * nats-server does not use. */
static const flag_def flags[] = {
    {"h", F_HELP, K_BOOL},            {"help", F_HELP, K_BOOL},
    {"v", F_VERSION, K_BOOL},         {"version", F_VERSION, K_BOOL},
    {"p", F_PORT, K_INT},             {"port", F_PORT, K_INT},
    {"a", F_ADDR, K_STR},             {"addr", F_ADDR, K_STR},
    {"net", F_ADDR, K_STR},
    {"n", F_NAME, K_STR},             {"name", F_NAME, K_STR},
    {"server_name", F_NAME, K_STR},
    {"client_advertise", F_ADVERTISE, K_STR},
    {"D", F_DEBUG, K_BOOL},           {"debug", F_DEBUG, K_BOOL},
    {"V", F_TRACE, K_BOOL},           {"trace", F_TRACE, K_BOOL},
    {"DV", F_DV, K_BOOL},             {"VV", F_VV, K_BOOL},
    {"DVV", F_DVV, K_BOOL},
    {"T", F_LOGTIME, K_BOOL},         {"logtime", F_LOGTIME, K_BOOL},
    {"logtime_utc", F_LOGTIME_UTC, K_BOOL},
    {"user", F_USER, K_STR},          {"pass", F_PASS, K_STR},
    {"auth", F_AUTH, K_STR},
    {"m", F_HTTP, K_INT},             {"http_port", F_HTTP, K_INT},
    {"ms", F_HTTPS, K_INT},           {"https_port", F_HTTPS, K_INT},
    {"c", F_CONFIG, K_STR},           {"config", F_CONFIG, K_STR},
    {"confd", F_CONFD, K_STR},
    {"t", F_TEST, K_BOOL},
    {"sl", F_SIGNAL, K_STR},          {"signal", F_SIGNAL, K_STR},
    {"P", F_PID, K_STR},              {"pid", F_PID, K_STR},
    {"ports_file_dir", F_PORTSDIR, K_STR},
    {"l", F_LOG, K_STR},              {"log", F_LOG, K_STR},
    {"log_size_limit", F_LOGSIZE, K_INT},
    {"s", F_SYSLOG, K_BOOL},          {"syslog", F_SYSLOG, K_BOOL},
    {"r", F_RSYSLOG, K_STR},          {"remote_syslog", F_RSYSLOG, K_STR},
    {"profile", F_PROFILE, K_INT},
    {"routes", F_ROUTES, K_STR},
    {"cluster", F_CLUSTER, K_STR},    {"cluster_listen", F_CLUSTER, K_STR},
    {"cluster_advertise", F_CLUSTER_ADV, K_STR},
    {"no_advertise", F_NO_ADV, K_BOOL},
    {"connect_retries", F_RETRIES, K_INT},
    {"cluster_name", F_CLUSTER_NAME, K_STR},
    {"help_tls", F_HELP_TLS, K_BOOL},
    {"tls", F_TLS, K_BOOL},           {"tlsverify", F_TLSVERIFY, K_BOOL},
    {"tlscert", F_TLSCERT, K_STR},    {"tlskey", F_TLSKEY, K_STR},
    {"tlscacert", F_TLSCACERT, K_STR},
    {"max_traced_msg_len", F_TRACELEN, K_INT},
    {"js", F_JS, K_BOOL},             {"jetstream", F_JS, K_BOOL},
    {"sd", F_SD, K_STR},              {"store_dir", F_SD, K_STR},
    {"io_threads", F_THREADS, K_INT},
    {"list-modules", F_LIST_MODULES, K_BOOL}, {"list_modules", F_LIST_MODULES, K_BOOL},
    {"module_path", F_MODULE_PATH, K_STR},
    {"convert", F_CONVERT, K_STR},
};

static const flag_def *find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strlen(flags[i].name) == len && memcmp(flags[i].name, name, len) == 0)
            return &flags[i];
    return NULL;
}

static int errf(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int errf(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return MN_EINVAL;
}

/* Go's strconv.ParseBool. */
static int parse_go_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(s, yes[i]) == 0) { *out = true; return MN_OK; }
        if (strcmp(s, no[i]) == 0) { *out = false; return MN_OK; }
    }
    return MN_EINVAL;
}

/* Go's strconv.ParseInt(s, 0, 64) for the forms people type: decimal, 0x
 * hex, 0 octal, optional sign.  *why gets Go's reason on failure. */
static int parse_go_int(const char *s, int64_t *out, const char **why)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9') {
        *why = "parse error";
        return MN_EINVAL;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (*end != '\0') {
        *why = "parse error";
        return MN_EINVAL;
    }
    if (errno == ERANGE) {
        *why = "value out of range";
        return MN_EINVAL;
    }
    *out = v;
    return MN_OK;
}

static void set_str(char **dst, const char *val)
{
    free(*dst);
    /* An empty value clears the option, but its cli_set bit still keeps
     * the config files from setting it (as nats-server's "--cluster ''"). */
    *dst = (val && *val) ? strdup(val) : NULL;
}

static bool valid_signal(const char *cmd, size_t len)
{
    static const char *const cmds[] = {"stop", "quit", "term", "reopen",
                                       "reload", "ldm"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strlen(cmds[i]) == len && memcmp(cmds[i], cmd, len) == 0)
            return true;
    return false;
}

/* State of one parse that is not an option: what to do besides running. */
typedef struct cli_state {
    bool  help, version;
    char *signal;
} cli_state;

/* Applies one flag whose value has been read; `shown` is the flag name as
 * typed (without dashes) for messages. */
static int apply_flag(mn_opts *o, cli_state *st, const flag_def *f,
                      const char *shown, const char *sval, bool bval,
                      int64_t ival, char *errbuf, size_t errlen)
{
#define RANGE(lo, hi)                                                        \
    do {                                                                     \
        if (ival < (lo) || ival > (hi))                                      \
            return errf(errbuf, errlen,                                      \
                        "invalid value \"%s\" for flag -%s: out of range "   \
                        "(%lld..%lld)", sval, shown, (long long)(lo),        \
                        (long long)(hi));                                    \
    } while (0)

    switch (f->id) {
    case F_HELP:    st->help = bval; break;
    case F_VERSION: st->version = bval; break;
    case F_PORT:
        RANGE(-1, 65535);
        /* nats-server: 0 means the default port, -1 a random one. */
        o->port = ival == 0 ? 4222 : (int)ival;
        o->cli_set |= MN_OPT_PORT;
        break;
    case F_ADDR:
        set_str(&o->host, sval);
        if (!o->host)
            o->host = strdup("0.0.0.0");
        o->cli_set |= MN_OPT_HOST;
        break;
    case F_NAME:      set_str(&o->server_name, sval); o->cli_set |= MN_OPT_NAME; break;
    case F_ADVERTISE: set_str(&o->client_advertise, sval); o->cli_set |= MN_OPT_ADVERTISE; break;
    case F_DEBUG:   o->debug = bval; o->cli_set |= MN_OPT_DEBUG; break;
    case F_TRACE:   o->trace = bval; o->cli_set |= MN_OPT_TRACE; break;
    case F_DV:
        o->debug = o->trace = bval;
        o->cli_set |= MN_OPT_DEBUG | MN_OPT_TRACE;
        break;
    case F_VV:
        o->trace = o->trace_verbose = bval;
        o->cli_set |= MN_OPT_TRACE;
        break;
    case F_DVV:
        o->debug = o->trace = o->trace_verbose = bval;
        o->cli_set |= MN_OPT_DEBUG | MN_OPT_TRACE;
        break;
    case F_LOGTIME:     o->logtime = bval; o->cli_set |= MN_OPT_LOGTIME; break;
    case F_LOGTIME_UTC: o->logtime_utc = bval; o->cli_set |= MN_OPT_LOGTIMEUTC; break;
    case F_USER: set_str(&o->username, sval); o->cli_set |= MN_OPT_USER; break;
    case F_PASS: set_str(&o->password, sval); o->cli_set |= MN_OPT_PASS; break;
    case F_AUTH: set_str(&o->auth_token, sval); o->cli_set |= MN_OPT_AUTH; break;
    case F_HTTP:
        RANGE(-1, 65535);
        o->http_port = (int)ival;
        o->cli_set |= MN_OPT_HTTP;
        break;
    case F_HTTPS:
        RANGE(-1, 65535);
        o->https_port = (int)ival;
        o->cli_set |= MN_OPT_HTTPS;
        break;
    case F_CONFIG: set_str(&o->config_file, sval); break;
    case F_CONFD:  set_str(&o->confd_dir, sval); break;
    case F_LIST_MODULES: o->list_modules = bval; break;
    case F_MODULE_PATH: set_str(&o->module_path, sval); o->cli_set |= MN_OPT_MODPATH; break;
    case F_TEST:   o->check_config = bval; break;
    case F_CONVERT:
        /* main() prints the file as libconfig instead of running. */
        set_str(&o->config_file, sval);
        o->cli_set |= MN_OPT_CONVERT;
        break;
    case F_SIGNAL: {
        const char *eq = strchr(sval, '=');
        size_t clen = eq ? (size_t)(eq - sval) : strlen(sval);
        if (eq && strchr(eq + 1, '='))
            return errf(errbuf, errlen, "invalid signal parameters: %s", eq + 1);
        if (!valid_signal(sval, clen))
            return errf(errbuf, errlen,
                        "unknown signal \"%.*s\" (ldm, stop, quit, term, reopen, reload)",
                        (int)clen, sval);
        free(st->signal);
        st->signal = strdup(sval);
        break;
    }
    case F_PID:      set_str(&o->pid_file, sval); o->cli_set |= MN_OPT_PIDFILE; break;
    case F_PORTSDIR: set_str(&o->ports_file_dir, sval); o->cli_set |= MN_OPT_PORTSDIR; break;
    case F_LOG:      set_str(&o->log_file, sval); o->cli_set |= MN_OPT_LOGFILE; break;
    case F_LOGSIZE:
        RANGE(0, INT64_MAX);
        o->log_size_limit = ival;
        o->cli_set |= MN_OPT_LOGSIZE;
        break;
    case F_SYSLOG:  o->syslog = bval; o->cli_set |= MN_OPT_SYSLOG; break;
    case F_RSYSLOG: set_str(&o->remote_syslog, sval); o->cli_set |= MN_OPT_RSYSLOG; break;
    case F_PROFILE:
        RANGE(0, 65535);
        o->prof_port = (int)ival;
        o->cli_set |= MN_OPT_PROFILE;
        break;
    case F_ROUTES:  set_str(&o->routes, sval); o->cli_set |= MN_OPT_ROUTES; break;
    case F_CLUSTER: set_str(&o->cluster_url, sval); o->cli_set |= MN_OPT_CLUSTER; break;
    case F_CLUSTER_ADV:
        set_str(&o->cluster_advertise, sval);
        o->cli_set |= MN_OPT_CLUSTER;
        break;
    case F_NO_ADV:  o->cluster_no_advertise = bval; o->cli_set |= MN_OPT_CLUSTER; break;
    case F_RETRIES:
        RANGE(0, INT_MAX);
        o->cluster_connect_retries = (int)ival;
        o->cli_set |= MN_OPT_CLUSTER;
        break;
    case F_CLUSTER_NAME:
        set_str(&o->cluster_name, sval);
        o->cli_set |= MN_OPT_CLUSTERNAME;
        break;
    case F_HELP_TLS:
        return errf(errbuf, errlen,
                    "TLS: --tls, --tlscert FILE, --tlskey FILE, --tlscacert FILE, --tlsverify; "
                    "or a tls { } block (docs/configuration.md)");
    case F_TLS:       o->tls = bval; o->cli_set |= MN_OPT_TLS; break;
    case F_TLSVERIFY:
        o->tls_set.verify = bval;
        if (bval)
            o->tls = true;   /* as nats-server: --tlsverify implies --tls */
        o->cli_set |= MN_OPT_TLS;
        break;
    case F_TLSCERT:   set_str(&o->tls_set.cert_file, sval); o->cli_set |= MN_OPT_TLS; break;
    case F_TLSKEY:    set_str(&o->tls_set.key_file, sval); o->cli_set |= MN_OPT_TLS; break;
    case F_TLSCACERT: set_str(&o->tls_set.ca_file, sval); o->cli_set |= MN_OPT_TLS; break;
    case F_TRACELEN:
        RANGE(0, INT_MAX);
        o->max_traced_msg_len = (int)ival;
        o->cli_set |= MN_OPT_TRACELEN;
        break;
    case F_JS: o->jetstream = bval; o->cli_set |= MN_OPT_JS; break;
    case F_SD: set_str(&o->store_dir, sval); o->cli_set |= MN_OPT_SD; break;
    case F_THREADS:
        RANGE(0, 1024);
        o->io_threads = (int)ival;
        o->cli_set |= MN_OPT_THREADS;
        break;
    }
    return MN_OK;
#undef RANGE
}

static char **copy_argv(int argc, char **argv)
{
    char **v = calloc((size_t)argc + 1, sizeof *v);
    if (!v)
        return NULL;
    for (int i = 0; i < argc; i++) {
        v[i] = strdup(argv[i] ? argv[i] : "");
        if (!v[i]) {
            free_strv(v, i);
            return NULL;
        }
    }
    return v;
}

int mn_opts_parse_args(mn_opts *o, int argc, char **argv, mn_cli_action *action,
                       char **signal_cmd, char *errbuf, size_t errlen)
{
    cli_state st = {0};
    int rc = MN_OK;
    int i = 1;

    if (action)
        *action = MN_CLI_RUN;
    if (signal_cmd)
        *signal_cmd = NULL;

    while (i < argc) {
        const char *arg = argv[i];
        /* Go's flag stops at "-" and at the first non-flag argument. */
        if (arg[0] != '-' || arg[1] == '\0')
            break;
        i++;
        const char *name = arg + 1;
        if (*name == '-') {
            name++;
            if (*name == '\0')  /* "--" ends the flags */
                break;
        }
        if (*name == '-' || *name == '=') {
            rc = errf(errbuf, errlen, "bad flag syntax: %s", arg);
            goto out;
        }
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const char *val = eq ? eq + 1 : NULL;
        char shown[64];
        snprintf(shown, sizeof shown, "%.*s", (int)nlen, name);

        const flag_def *f = find_flag(name, nlen);
        if (!f) {
            rc = errf(errbuf, errlen, "flag provided but not defined: -%.*s",
                      (int)nlen, name);
            goto out;
        }

        bool bval = true;
        int64_t ival = 0;
        if (f->kind == K_BOOL) {
            if (val && parse_go_bool(val, &bval) != MN_OK) {
                rc = errf(errbuf, errlen,
                          "invalid boolean value \"%s\" for -%s: parse error",
                          val, shown);
                goto out;
            }
        } else {
            if (!val) {
                if (i >= argc) {
                    rc = errf(errbuf, errlen, "flag needs an argument: -%s", shown);
                    goto out;
                }
                val = argv[i++];
            }
            if (f->kind == K_INT) {
                const char *why = NULL;
                if (f->id == F_PORT && strcmp(val, "RANDOM_PORT") == 0) {
                    ival = -1;
                } else if (parse_go_int(val, &ival, &why) != MN_OK) {
                    rc = errf(errbuf, errlen, "invalid value \"%s\" for flag -%s: %s",
                              val, shown, why);
                    goto out;
                }
            }
        }
        rc = apply_flag(o, &st, f, shown, val, bval, ival, errbuf, errlen);
        if (rc != MN_OK)
            goto out;
    }

    /* Like nats-server, a leading "version" or "help" word is a command;
     * anything else left over is a mistake worth reporting. */
    if (i < argc) {
        if (strcasecmp(argv[i], "version") == 0) {
            st.version = true;
        } else if (strcasecmp(argv[i], "help") == 0) {
            st.help = true;
        } else {
            rc = errf(errbuf, errlen, "unrecognized command: \"%s\"", argv[i]);
            goto out;
        }
    }

    if (o->argv != argv) {
        char **copy = copy_argv(argc, argv);
        if (!copy) {
            rc = errf(errbuf, errlen, "out of memory");
            rc = MN_ENOMEM;
            goto out;
        }
        free_strv(o->argv, o->argc);
        o->argv = copy;
        o->argc = argc;
    }

    if (action) {
        if (st.version)
            *action = MN_CLI_VERSION;
        else if (st.help)
            *action = MN_CLI_HELP;
        else if (st.signal)
            *action = MN_CLI_SIGNAL;
    }
    if (signal_cmd && st.signal && !st.version && !st.help) {
        *signal_cmd = st.signal;
        st.signal = NULL;
    }
out:
    free(st.signal);
    return rc;
}

/* ---- validation --------------------------------------------------------- */

static bool want_jetstream(const mn_opts *o)
{
    return o->jetstream && !mn_module_available(o, "jetstream");
}
static bool want_cluster(const mn_opts *o)
{
    return (o->cluster_url || o->routes || o->cluster_advertise ||
            o->cluster_no_advertise || o->cluster_connect_retries) &&
           !mn_module_available(o, "cluster");
}
static bool want_https(const mn_opts *o) { return o->https_port != 0; }
static bool want_profile(const mn_opts *o) { return o->prof_port != 0; }
static bool want_rsyslog(const mn_opts *o) { return o->remote_syslog != NULL; }
static bool want_logsize(const mn_opts *o) { return o->log_size_limit != 0; }

/* Features this build cannot serve.  When a module lands, delete its row
 * (or guard it with the module's CMake option): nothing else refuses them.
 * A row without a module is a feature modnats does not offer at all. */
static const struct {
    const char *feature;
    const char *module;
    bool (*wanted)(const mn_opts *o);
} unbuilt[] = {
    {"jetstream (-js, jetstream)", "jetstream", want_jetstream},
    {"clustering (--cluster, --routes, cluster)", "cluster", want_cluster},
    {"HTTPS monitoring (-ms, https_port)", "monitoring", want_https},
    {"profiling (--profile, prof_port)", NULL, want_profile},
    {"remote syslog (-r, remote_syslog)", NULL, want_rsyslog},
    {"log rotation by size (--log_size_limit, log_size_limit)", NULL, want_logsize},
};

int mn_opts_validate(const mn_opts *o, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < sizeof unbuilt / sizeof unbuilt[0]; i++) {
        if (!unbuilt[i].wanted(o))
            continue;
        if (unbuilt[i].module)
            return errf(errbuf, errlen,
                        "%s needs the %s module, which this build does not have",
                        unbuilt[i].feature, unbuilt[i].module);
        return errf(errbuf, errlen, "%s is not supported by modnats",
                    unbuilt[i].feature);
    }

    if (o->check_config && !o->config_file && !o->confd_dir)
        return errf(errbuf, errlen,
                    "-t needs a configuration to check: give -c FILE or --confd DIR");
    if (o->max_payload > o->max_pending)
        return errf(errbuf, errlen,
                    "max_payload (%lld) cannot be larger than max_pending (%lld)",
                    (long long)o->max_payload, (long long)o->max_pending);
    if (o->lame_duck_grace_period_ms >= o->lame_duck_duration_ms)
        return errf(errbuf, errlen,
                    "lame_duck_grace_period (%lldms) must be shorter than "
                    "lame_duck_duration (%lldms)",
                    (long long)o->lame_duck_grace_period_ms,
                    (long long)o->lame_duck_duration_ms);
    if (o->tls && (!o->tls_set.cert_file || !o->tls_set.key_file))
        return errf(errbuf, errlen, "TLS needs a certificate and its key: tls { cert_file, "
                    "key_file } or --tlscert and --tlskey");
    if (o->tls && o->allow_non_tls && o->tls_set.handshake_first)
        return errf(errbuf, errlen, "allow_non_tls cannot be combined with tls.handshake_first "
                    "(a plain-text client would wait for INFO forever)");
    if (o->password && !o->username)
        return errf(errbuf, errlen, "a password (--pass) needs a user (--user)");
    return MN_OK;
}

/* ---- usage -------------------------------------------------------------- */

const char *mn_opts_usage(void)
{
    return
"Usage: modnats [options]   (flags take one or two dashes, e.g. -p or --port)\n"
"\n"
"Server:\n"
"  -a, --addr, --net HOST        listen address (default 0.0.0.0)\n"
"  -p, --port PORT               client port (default 4222; -1 = random)\n"
"  -n, --name, --server_name N   server name\n"
"      --client_advertise URL    client URL advertised to other servers\n"
"  -P, --pid FILE                write the process id to FILE\n"
"      --ports_file_dir DIR      write <name>_<pid>.ports into DIR\n"
"  -c, --config FILE             configuration file (libconfig or nats-server\n"
"                                syntax, told apart by its content)\n"
"      --convert FILE            print FILE (either syntax) as libconfig, exit\n"
"      --confd DIR               also read DIR/*.conf in sorted order\n"
"                                (default: conf.d beside the -c file)\n"
"  -t                            check the configuration and exit\n"
"  -sl, --signal CMD[=PID]       send stop|quit|term|reopen|reload|ldm to a\n"
"                                running server (PID or a pid file)\n"
"      --io_threads N            I/O threads (default 0 = one per core)\n"
"      --module_path DIR         look for modules (NAME.so) in DIR first\n"
"      --list-modules            load the configured modules, list them, exit\n"
"\n"
"Logging:\n"
"  -l, --log FILE                log to FILE (appending) instead of stderr\n"
"  -T, --logtime=BOOL            timestamps on log lines (default true)\n"
"      --logtime_utc             timestamps in UTC\n"
"  -s, --syslog                  log to syslog\n"
"  -D, --debug                   debug output\n"
"  -V, --trace                   trace the protocol\n"
"  -VV                           verbose trace\n"
"  -DV, -DVV                     debug and (verbose) trace\n"
"      --max_traced_msg_len N    cut traced messages at N bytes\n"
"\n"
"Authorization:\n"
"      --user USER               user required to connect\n"
"      --pass PASSWORD           password required to connect\n"
"      --auth TOKEN              token required to connect\n"
"\n"
"Accepted for nats-server compatibility, refused until their module is built:\n"
"  -js, --jetstream; -sd, --store_dir DIR; -m, --http_port PORT;\n"
"  -ms, --https_port PORT; --tls, --tlscert, --tlskey, --tlscacert, --tlsverify;\n"
"  --cluster URL, --cluster_name N, --routes URLS, --cluster_advertise,\n"
"  --no_advertise, --connect_retries; -r, --remote_syslog; --profile;\n"
"  --log_size_limit\n"
"\n"
"  -h, --help                    show this text\n"
"  -v, --version                 show the version\n";
}
