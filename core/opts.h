/*
 * opts.h - server options: defaults, the command line, and the config files.
 *
 * Precedence, as in nats-server: defaults < config files < command line.
 * mn_opts_parse_args() records which options the command line set, so a
 * later config load (or a SIGHUP reload) does not override them.
 *
 * Ownership: every string in mn_opts is heap-allocated and owned by the
 * struct; mn_opts_free() releases them.
 */
#ifndef MN_OPTS_H
#define MN_OPTS_H

#include "mn.h"
#include "tls.h"

typedef struct mn_user {
    char *user;
    char *password;
} mn_user;

typedef struct mn_opts {
    /* listener */
    char    *host;              /* default "0.0.0.0" */
    int      port;              /* default 4222; -1 = random (-p -1 / RANDOM_PORT) */
    char    *server_name;       /* default: the server id */
    char    *client_advertise;

    /* limits (nats-server defaults) */
    int64_t  max_payload;       /* 1 MiB */
    int64_t  max_control_line;  /* 4096 */
    int64_t  max_pending;       /* 64 MiB */
    int      max_connections;   /* 65536 */
    int      max_subscriptions; /* 0 = unlimited */
    int64_t  ping_interval_ms;  /* 120000 */
    int      ping_max;          /* 2 */
    int64_t  auth_timeout_ms;   /* 2000 (nats-server: 2s; 1s without auth is fine too) */
    int64_t  write_deadline_ms; /* 10000 */
    int64_t  lame_duck_duration_ms;     /* 120000 */
    int64_t  lame_duck_grace_period_ms; /* 10000 */

    /* threading */
    int      io_threads;        /* 0 = number of cores */

    /* simple auth (moves to the auth_basic module later) */
    char    *username;
    char    *password;
    char    *auth_token;
    mn_user *users;  int nusers;
    char    *no_auth_user;

    /* logging */
    bool     debug;             /* -D */
    bool     trace;             /* -V */
    bool     logtime;           /* default true; -T=false disables */
    char    *log_file;          /* -l */
    bool     syslog;
    char    *pid_file;          /* -P */
    char    *ports_file_dir;    /* --ports_file_dir */

    /* monitoring */
    int      http_port;         /* -m; 0 = off */
    char    *http_host;

    /* features provided by modules (not built yet: flags refuse clearly) */
    bool     jetstream;         /* -js */
    char    *store_dir;         /* -sd */
    char    *cluster_url;       /* --cluster */
    char    *cluster_name;      /* --cluster_name */
    char    *routes;            /* --routes */
    bool     tls;               /* --tls, --tlsverify, or a tls { } block */
    mn_tls_settings tls_set;    /* tls { } and --tlscert/--tlskey/--tlscacert/--tlsverify */
    bool     allow_non_tls;     /* TLS port also takes plain-text clients (nats-server 2.10) */

    /* config files */
    char    *config_file;       /* -c */
    char    *confd_dir;         /* --confd; default: conf.d beside the main file */
    bool     check_config;      /* -t */

    /* which fields the command line set (bit per MN_OPT_* below) */
    uint64_t cli_set;

    /* --- added with core/opts.c and core/config.c --- */

    /* nats-server options accepted for compatibility; the ones this build
     * cannot serve are refused by mn_opts_validate(). */
    int      https_port;        /* -ms; 0 = off */
    char    *remote_syslog;     /* -r */
    int      prof_port;         /* --profile */
    bool     logtime_utc;       /* --logtime_utc */
    int64_t  log_size_limit;    /* --log_size_limit; 0 = no limit */
    int      max_traced_msg_len;/* --max_traced_msg_len; 0 = unlimited */
    bool     trace_verbose;     /* -VV / -DVV */
    char    *cluster_advertise; /* --cluster_advertise */
    bool     cluster_no_advertise;    /* --no_advertise */
    int      cluster_connect_retries; /* --connect_retries */

    /* modules = [...] from the config files (union over all files, in order
     * of first appearance), for the module loader. */
    char   **modules;   int nmodules;
    /* Each module's settings group, by module name: a MN_CFG_GROUP whose
     * members are groups (owned; see cfgtree.h).  NULL: none. */
    struct mn_cfg *module_cfg;
    char    *module_path;       /* module_path = "dir" / --module_path */
    bool     list_modules;      /* --list-modules */
    /* The files mn_config_load() read, in the order read (for the log, -t). */
    char   **config_files;  int nconfig_files;
    /* A private copy of the argv given to mn_opts_parse_args(), so that
     * mn_config_reload() can replay the command line. */
    char   **argv;      int argc;

    /* no_header_support = true: INFO announces "headers":false and the
     * server treats every client as header-less (HPUB closes the
     * connection, CONNECT with no_responders is refused), as nats-server. */
    bool     no_header_support;
    /* server_tags = ["az:1", ...] (or one string): trimmed and lowercased as
     * nats-server stores them; for the monitor's /varz "tags". */
    char   **server_tags;   int nserver_tags;
} mn_opts;

/* Bits of cli_set. */
enum {
    MN_OPT_HOST = 1u << 0, MN_OPT_PORT = 1u << 1, MN_OPT_NAME = 1u << 2,
    MN_OPT_DEBUG = 1u << 3, MN_OPT_TRACE = 1u << 4, MN_OPT_LOGTIME = 1u << 5,
    MN_OPT_LOGFILE = 1u << 6, MN_OPT_PIDFILE = 1u << 7, MN_OPT_HTTP = 1u << 8,
    MN_OPT_USER = 1u << 9, MN_OPT_PASS = 1u << 10, MN_OPT_AUTH = 1u << 11,
    MN_OPT_MAXPAYLOAD = 1u << 12, MN_OPT_THREADS = 1u << 13,
    MN_OPT_PORTSDIR = 1u << 14, MN_OPT_JS = 1u << 15, MN_OPT_SD = 1u << 16,
    MN_OPT_CLUSTER = 1u << 17, MN_OPT_ROUTES = 1u << 18, MN_OPT_TLS = 1u << 19,
    /* added with core/opts.c; MN_OPT_CLUSTER also covers --cluster_advertise,
     * --no_advertise and --connect_retries, MN_OPT_TLS every --tls* flag. */
    MN_OPT_SYSLOG = 1u << 20, MN_OPT_ADVERTISE = 1u << 21,
    MN_OPT_CLUSTERNAME = 1u << 22, MN_OPT_HTTPS = 1u << 23,
    MN_OPT_RSYSLOG = 1u << 24, MN_OPT_PROFILE = 1u << 25,
    MN_OPT_LOGTIMEUTC = 1u << 26, MN_OPT_LOGSIZE = 1u << 27,
    MN_OPT_TRACELEN = 1u << 28,
    MN_OPT_MODPATH = 1u << 29,
};

/* What the command line asked for besides running the server. */
typedef enum mn_cli_action {
    MN_CLI_RUN = 0,
    MN_CLI_HELP,        /* -h: usage printed, exit 0 */
    MN_CLI_VERSION,     /* -v / --version: version printed, exit 0 */
    MN_CLI_SIGNAL,      /* --signal/-sl: send a signal to a running server */
} mn_cli_action;

void mn_opts_defaults(mn_opts *o);
void mn_opts_free(mn_opts *o);

/* Parse argv the way nats-server (Go's flag package) does: "-p 4222",
 * "--port=4222", "-DV", boolean flags with "=false".  Fills o and o->cli_set.
 * Returns MN_OK, or MN_EINVAL after writing a one-line message to errbuf.
 * For MN_CLI_SIGNAL, *signal_cmd receives the command (owned by the caller,
 * free()). */
int mn_opts_parse_args(mn_opts *o, int argc, char **argv, mn_cli_action *action,
                       char **signal_cmd, char *errbuf, size_t errlen);

/* Load the main config file o->config_file (if set) and then every *.conf in
 * the conf.d directory in sorted order, without overriding options the
 * command line set.  Returns MN_OK, or MN_EINVAL with "file:line: problem"
 * in errbuf. */
int mn_config_load(mn_opts *o, char *errbuf, size_t errlen);

/* Sanity checks across options (e.g. module-provided features not built
 * yet).  MN_EINVAL with a message in errbuf. */
int mn_opts_validate(const mn_opts *o, char *errbuf, size_t errlen);

/* Features served by modules, asked for by flags or nats-server keys:
 * add the module to o->modules with its settings group (--user/--pass/
 * --auth and authorization: auth_basic; -m/http_port: monitor).  Call
 * after mn_config_load (and on a reloaded copy).  MN_OK or MN_ENOMEM. */
int mn_opts_imply_modules(mn_opts *o);

/* Is module name available: linked in, or NAME.so where the loader looks
 * (module_path, then the default module directories)? */
bool mn_module_available(const mn_opts *o, const char *name);

/* Sizes ("1MB", "64KB", or digits) and durations ("2s", "500ms", "1m") as
 * config files write them: MN_OK, or MN_EINVAL when malformed. */
int mn_parse_size(const char *s, int64_t *out);
int mn_parse_duration_ms(const char *s, int64_t *out);

/* The text for -h/--help (static storage; the caller prints it). */
const char *mn_opts_usage(void);

/* For SIGHUP: build *fresh from defaults + the config files (read again) +
 * the command line of `current` (replayed from current->argv), so the caller
 * can diff current and *fresh and apply what may change at run time.
 * *fresh needs no initialisation.  On MN_OK the caller owns *fresh
 * (mn_opts_free); on MN_EINVAL errbuf holds "file:line: problem" and *fresh
 * holds nothing that needs freeing.  Does not call mn_opts_validate(). */
int mn_config_reload(const mn_opts *current, mn_opts *fresh,
                     char *errbuf, size_t errlen);

#endif
