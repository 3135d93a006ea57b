/*
 * main.c - the modnats executable: command line, config, logging, then the
 * server until a signal stops it.
 *
 * Exit status: 0 after a clean shutdown (or -h/-v/-t success), 1 for bad
 * flags or configuration (one "file:line: problem" line on stderr), 2 when
 * the server could not start (e.g. the port is taken).
 */
#include "log.h"
#include "module.h"
#include "natsconf.h"
#include "timer.h"
#include "opts.h"
#include "server.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --signal cmd[=pid]: nats-server's commands, mapped onto signals. */
static int send_signal_cmd(const char *cmd)
{
    char name[32];
    const char *eq = strchr(cmd, '=');
    size_t n = eq ? (size_t)(eq - cmd) : strlen(cmd);
    if (n >= sizeof(name)) {
        fprintf(stderr, "unknown signal \"%s\"\n", cmd);
        return 1;
    }
    memcpy(name, cmd, n);
    name[n] = 0;
    static const struct { const char *name; int sig; } map[] = {
        { "stop", SIGKILL }, { "quit", SIGINT }, { "term", SIGTERM },
        { "reopen", SIGUSR1 }, { "reload", SIGHUP }, { "ldm", SIGUSR2 },
    };
    int sig = 0;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(name, map[i].name) == 0)
            sig = map[i].sig;
    if (!sig) {
        fprintf(stderr, "unknown signal \"%s\"\n", name);
        return 1;
    }
    pid_t pids[64];
    int npids = 0;
    if (eq) {
        const char *arg = eq + 1;
        char *end;
        long v = strtol(arg, &end, 10);
        if (*arg && !*end && v > 0) {
            pids[npids++] = (pid_t)v;
        } else {
            /* A pid file. */
            FILE *f = fopen(arg, "r");
            if (!f || fscanf(f, "%ld", &v) != 1 || v <= 0) {
                fprintf(stderr, "cannot read pid from \"%s\"\n", arg);
                if (f)
                    fclose(f);
                return 1;
            }
            fclose(f);
            pids[npids++] = (pid_t)v;
        }
    } else {
        DIR *d = opendir("/proc");
        struct dirent *de;
        while (d && (de = readdir(d)) && npids < 64) {
            if (!isdigit((unsigned char)de->d_name[0]))
                continue;
            pid_t pid = (pid_t)atol(de->d_name);
            if (pid == getpid())
                continue;
            char path[64], comm[64] = "";
            snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
            FILE *f = fopen(path, "r");
            if (!f)
                continue;
            if (fgets(comm, sizeof(comm), f))
                comm[strcspn(comm, "\n")] = 0;
            fclose(f);
            if (strcmp(comm, "modnats") == 0)
                pids[npids++] = pid;
        }
        if (d)
            closedir(d);
        if (npids == 0) {
            fprintf(stderr, "no modnats process running\n");
            return 1;
        }
        if (npids > 1) {
            fprintf(stderr, "multiple modnats processes running; name one with %s=PID\n", name);
            return 1;
        }
    }
    for (int i = 0; i < npids; i++) {
        if (kill(pids[i], sig) != 0) {
            fprintf(stderr, "signal %s to %d: %s\n", name, (int)pids[i], strerror(errno));
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    mn_opts o;
    char err[2048] = "";
    mn_cli_action action = MN_CLI_RUN;
    char *signal_cmd = NULL;

    mn_opts_defaults(&o);
    if (mn_opts_parse_args(&o, argc, argv, &action, &signal_cmd, err, sizeof(err)) != MN_OK) {
        fprintf(stderr, "modnats: %s\n", err);
        fprintf(stderr, "Usage: modnats [options]; modnats -h lists them\n");
        mn_opts_free(&o);
        return 1;
    }
    if (action == MN_CLI_HELP) {
        fputs(mn_opts_usage(), stdout);
        mn_opts_free(&o);
        return 0;
    }
    if (action == MN_CLI_VERSION) {
        printf("modnats: v%s (nats-server compatibility level v%s)\n", MN_VERSION,
               MN_NATS_COMPAT_VERSION);
        mn_opts_free(&o);
        return 0;
    }
    if (action == MN_CLI_SIGNAL) {
        int rc = send_signal_cmd(signal_cmd ? signal_cmd : "");
        free(signal_cmd);
        mn_opts_free(&o);
        return rc;
    }
    if (o.cli_set & MN_OPT_CONVERT) {
        int crc = o.confd_dir
                      ? mn_config_convert_confd(o.config_file, o.confd_dir, err, sizeof(err))
                      : mn_config_convert(o.config_file, stdout, err, sizeof(err));
        if (crc != MN_OK)
            fprintf(stderr, "%s\n", err);
        mn_opts_free(&o);
        return crc == MN_OK ? 0 : 1;
    }
    if (mn_config_load(&o, err, sizeof(err)) != MN_OK ||
        mn_opts_imply_modules(&o) != MN_OK ||
        mn_opts_validate(&o, err, sizeof(err)) != MN_OK) {
        fprintf(stderr, "%s\n", err);
        mn_opts_free(&o);
        return 1;
    }
    if (o.check_config && o.tls) {
        /* -t loads the certificates too: a bad one is a bad config. */
        mn_tls_ctx *x = mn_tls_ctx_new(&o.tls_set, true, err, sizeof(err));
        if (!x) {
            fprintf(stderr, "%s\n", err);
            mn_opts_free(&o);
            return 1;
        }
        mn_tls_ctx_unref(x);
    }
    if (o.check_config) {
        printf("%s: configuration file test is successful\n",
               o.config_file ? o.config_file : "(defaults)");
        mn_opts_free(&o);
        return 0;
    }
    mn_log_set_utc(o.logtime_utc);
    int logrc = o.syslog ? mn_log_init_syslog(o.debug, o.trace)
                       : mn_log_init(o.log_file, o.debug, o.trace, o.logtime);
    if (logrc != MN_OK) {
        fprintf(stderr, "cannot open log %s: %s\n", o.syslog ? "(syslog)" : o.log_file ? o.log_file : "",
                strerror(errno));
        mn_opts_free(&o);
        return 1;
    }
    mn_notice("Starting modnats");
    mn_notice("  Version:  %s (nats-server compatibility %s)", MN_VERSION, MN_NATS_COMPAT_VERSION);
    for (int i = 0; i < o.nconfig_files; i++)
        mn_notice("  Using configuration file: %s", o.config_files[i]);

    static mn_server srv;
    if (mn_server_init(&srv, &o, err, sizeof(err)) != MN_OK) {
        mn_fatal("%s", err);
        mn_server_free(&srv);
        mn_log_close();
        return 2;
    }
    if (srv.opts.list_modules) {
        int lrc = mn_modules_list(&srv, err, sizeof(err));
        if (lrc != MN_OK)
            fprintf(stderr, "%s\n", err);
        mn_server_free(&srv);
        mn_log_close();
        return lrc == MN_OK ? 0 : 1;
    }
    mn_server_block_signals(NULL);   /* module threads must not take signals */
    if (mn_modules_load(&srv, err, sizeof(err)) != MN_OK) {
        mn_fatal("%s", err);
        mn_server_free(&srv);
        mn_log_close();
        return 1;
    }
    mn_server_modules_ready(&srv);
    mn_notice("  ID:       %s", srv.server_id);
    mn_notice("  I/O threads: %d", srv.nworkers);
    int rc = mn_server_run(&srv);
    mn_modules_fini();
    mn_timers_drop(NULL);
    mn_server_free(&srv);
    mn_log_close();
    return rc == MN_OK ? 0 : 2;
}
