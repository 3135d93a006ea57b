/*
 * abi.c - helpers of the ABI tests (see abi.h), on top of the integration
 * harness.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "abi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *g_filter;

void abi_init(int argc, char **argv)
{
    it_init(argc, argv);
    if (argc > 2 && argv[2][0])
        g_filter = argv[2];
    if (!getenv("ABI_MODULE_DIR")) {
        fprintf(stderr, "ABI_MODULE_DIR is not set (run through ctest)\n");
        exit(2);
    }
}

int abi_run(const char *group, const struct CMUnitTest *tests, size_t n)
{
    if (g_filter)
        cmocka_set_test_filter(g_filter);
    const char *base = strrchr(group, '/');
    return _cmocka_run_group_tests(base ? base + 1 : group, tests, n, NULL, NULL);
}

const char *abi_env_dir(const char *var)
{
    const char *d = getenv(var);
    if (!d || !*d)
        fail_msg("%s is not set", var);
    return d;
}

const char *abi_module_dir(void) { return abi_env_dir("ABI_MODULE_DIR"); }

it_server *abi_start(const char *conf, const char *dir, const char *const *extra)
{
    const char *args[20];
    int n = 0;
    args[n++] = "--module_path";
    args[n++] = dir ? dir : abi_module_dir();
    for (int i = 0; extra && extra[i] && n < 19; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    return it_server_start(conf, args);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    size_t k;
    while ((k = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += k;
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = 0;
    fclose(f);
    return buf;
}

char *abi_log_text(const it_server *s) { return read_file(s->log); }

long abi_log_find(const it_server *s, const char *needle)
{
    char *t = abi_log_text(s);
    char *p = strstr(t, needle);
    long off = p ? (long)(p - t) : -1;
    free(t);
    return off;
}

size_t abi_log_count(const it_server *s, const char *needle)
{
    char *t = abi_log_text(s);
    size_t n = 0, nl = strlen(needle);
    for (char *p = t; (p = strstr(p, needle)) != NULL; p += nl)
        n++;
    free(t);
    return n;
}

void abi_log_expect(const it_server *s, const char *needle, int timeout_ms)
{
    long long end = it_now_ms() + timeout_ms;
    while (abi_log_find(s, needle) < 0) {
        if (it_now_ms() > end) {
            it_server_print_log(s, 40);
            fail_msg("the server log never said: %s", needle);
        }
        it_sleep_ms(10);
    }
}

void abi_log_refute(const it_server *s, const char *needle)
{
    if (abi_log_find(s, needle) >= 0) {
        it_server_print_log(s, 40);
        fail_msg("the server log must not say: %s", needle);
    }
}

void abi_expect(it_raw *r, const char *needle, int timeout_ms)
{
    if (!it_raw_expect(r, needle, timeout_ms)) {
        it_raw_dump(r, "raw connection");
        fail_msg("expected \"%s\" from the server", needle);
    }
}

it_raw *abi_login(const it_server *s, const char *fields)
{
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1%s%s}\r\nPING\r\n",
                fields[0] ? "," : "", fields);
    abi_expect(r, "PONG\r\n", 5000);
    return r;
}

int abi_local_port(const it_raw *r)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(r->fd, (struct sockaddr *)&a, &len) != 0)
        fail_msg("getsockname: %s", strerror(errno));
    return ntohs(a.sin_port);
}

void abi_module_path(const char *dir, const char *name, char *out, size_t outlen)
{
    char p[PATH_MAX], real[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    snprintf(out, outlen, "%s", realpath(p, real) ? real : p);
}

/* Where "[LVL] " starts in a log line ("[pid] date time [LVL] msg" or
 * "[pid] [LVL] msg"), or NULL. */
static const char *level_tag(const char *line, size_t len)
{
    static const char *const tags[] = { "[FTL] ", "[ERR] ", "[WRN] ", "[INF] ", "[DBG] ", "[TRC] " };
    for (const char *p = line; p + 6 <= line + len; p++)
        for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
            if (memcmp(p, tags[i], 6) == 0)
                return p;
    return NULL;
}

bool abi_file_has_line(const char *path, const char *tail)
{
    char *t = read_file(path);
    bool found = false;
    size_t tl = strlen(tail);
    bool prefix = tl > 0 && tail[tl - 1] == '*';
    if (prefix)
        tl--;
    for (char *line = t; line && *line && !found;) {
        char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        const char *lvl = level_tag(line, len);
        if (lvl) {
            size_t rest = len - (size_t)(lvl - line);
            found = (prefix ? rest >= tl : rest == tl) && memcmp(lvl, tail, tl) == 0;
        }
        line = eol ? eol + 1 : NULL;
    }
    free(t);
    return found;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        fail_msg("cannot find a free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

/* One probe: does a TCP connect succeed, and does INFO come within 50 ms? */
static void probe(int port, abi_refusal *out)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        out->tcp_accepted = true;
        struct pollfd p = { fd, POLLIN, 0 };
        char buf[8];
        if (poll(&p, 1, 50) > 0 && read(fd, buf, sizeof buf) >= 5 && memcmp(buf, "INFO ", 5) == 0)
            out->sent_info = true;
    }
    close(fd);
}

void abi_run_refused(const char *conf, const char *dir, abi_refusal *out)
{
    memset(out, 0, sizeof *out);
    out->exit_code = -1;
    static int seq;
    char conf_path[600];
    char name[64];
    snprintf(name, sizeof name, "refused%d.conf", seq);
    it_write_file(name, conf, conf_path, sizeof conf_path);
    snprintf(out->log, sizeof out->log, "%s/refused%d.log", it_tmpdir(), seq++);
    int port = free_port();
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    const char *argv[] = { it_server_binary(), "-a", "127.0.0.1", "-p", portstr, "-c", conf_path,
                           "--module_path", dir ? dir : abi_module_dir(), NULL };
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int lfd = open(out->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (lfd >= 0) {
            dup2(lfd, 1);
            dup2(lfd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    long long end = it_now_ms() + 15000;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (it_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            fail_msg("the server did not exit within 15 s (log: %s)", out->log);
        }
        probe(port, out);
        it_sleep_ms(20);
    }
    if (WIFEXITED(st))
        out->exit_code = WEXITSTATUS(st);
}

static void print_file(const char *path)
{
    char *t = read_file(path);
    fprintf(stderr, "---- %s ----\n%s---- end ----\n", path, t);
    free(t);
}

void abi_expect_refusal(const char *conf, const char *dir, const char *fatal_msg,
                        abi_refusal *out)
{
    abi_refusal local;
    if (!out)
        out = &local;
    abi_run_refused(conf, dir, out);
    char tail[2048];
    snprintf(tail, sizeof tail, "[FTL] %s", fatal_msg);
    bool line = abi_file_has_line(out->log, tail);
    char *t = read_file(out->log);
    bool listening = strstr(t, "Listening for client connections") != NULL;
    bool ready = strstr(t, "Server is ready") != NULL;
    free(t);
    if (out->exit_code == 0 || out->exit_code == -1 || !line || listening || ready ||
        out->sent_info) {
        print_file(out->log);
        fail_msg("expected a refusal (exit code not 0, not listening) with the line\n  %s\n"
                 "got exit code %d, line %s, listening %d, ready %d, INFO sent %d",
                 tail, out->exit_code, line ? "found" : "missing", listening, ready,
                 out->sent_info);
    }
}
