/*
 * harness.c - child-process server control and raw protocol sockets for the
 * integration tests (see harness.h).
 *
 * Everything here fails the current cmocka test on an unexpected error, so
 * the tests themselves stay short.  Waits are polling loops with generous
 * upper bounds: a slow machine makes a test slower, never wrong.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#define IT_MAX_SERVERS 8
#define IT_START_TIMEOUT_MS 15000
#define IT_STOP_TIMEOUT_MS  10000

static char        g_binary[1024];
static it_flavour  g_flavour;
static char        g_tmpdir[256];
static it_server  *g_servers[IT_MAX_SERVERS];
static int         g_nservers;
static bool        g_ok;

long long it_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void it_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

bool it_contains_ci(const char *hay, const char *needle)
{
    return hay && needle && strcasestr(hay, needle) != NULL;
}

/* Run "<binary> --version" and look at what it says; the binary's name is
 * the fallback.  MN_TEST_FLAVOUR=modnats|nats-server overrides both. */
static it_flavour detect_flavour(const char *bin)
{
    const char *env = getenv("MN_TEST_FLAVOUR");
    if (env && *env)
        return strstr(env, "nats-server") ? IT_NATS_SERVER : IT_MODNATS;

    char cmd[1200], out[512] = "";
    snprintf(cmd, sizeof cmd, "'%s' --version 2>&1", bin);
    FILE *p = popen(cmd, "r");
    if (p) {
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        pclose(p);
    }
    if (strcasestr(out, "modnats"))
        return IT_MODNATS;
    if (strcasestr(out, "nats-server"))
        return IT_NATS_SERVER;
    const char *base = strrchr(bin, '/');
    base = base ? base + 1 : bin;
    return strstr(base, "nats-server") ? IT_NATS_SERVER : IT_MODNATS;
}

void it_init(int argc, char **argv)
{
    const char *env = getenv("MN_TEST_SERVER");
    const char *bin = (env && *env) ? env : (argc > 1 ? argv[1] : NULL);
    if (!bin) {
        fprintf(stderr, "usage: %s <server-binary> (or set MN_TEST_SERVER)\n", argv[0]);
        exit(2);
    }
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "server binary %s is not executable: %s\n", bin, strerror(errno));
        exit(2);
    }
    snprintf(g_binary, sizeof g_binary, "%s", bin);
    g_flavour = detect_flavour(g_binary);
    fprintf(stderr, "integration: server %s (%s)\n", g_binary,
            g_flavour == IT_NATS_SERVER ? "nats-server" : "modnats");
    signal(SIGPIPE, SIG_IGN);
}

const char *it_server_binary(void) { return g_binary; }
it_flavour  it_get_flavour(void)   { return g_flavour; }
bool        it_is_nats_server(void) { return g_flavour == IT_NATS_SERVER; }
const char *it_tmpdir(void)        { return g_tmpdir; }

void it_write_file(const char *name, const char *text, char *out, size_t outlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", g_tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    if (out)
        snprintf(out, outlen, "%s", path);
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

static int tcp_connect(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Returns true once a connection receives "INFO ". */
static bool g_probe_connect_only;

void it_set_probe_connect_only(bool on)
{
    g_probe_connect_only = on;
}

static bool probe_ready(int port)
{
    int fd = tcp_connect(port, 0);
    if (fd < 0)
        return false;
    if (g_probe_connect_only) {
        close(fd);
        return true;
    }
    char buf[256];
    size_t len = 0;
    bool ok = false;
    long long end = it_now_ms() + 2000;
    while (!ok && it_now_ms() < end && len < sizeof buf - 1) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        ok = strstr(buf, "INFO ") != NULL;
    }
    close(fd);
    return ok;
}

bool it_port_accepting(int port) { return probe_ready(port); }

static bool reap(it_server *s, int options)
{
    int st;
    pid_t r = waitpid(s->pid, &st, options);
    if (r == s->pid) {
        s->exit_status = st;
        s->exited = true;
        s->pid = 0;
        return true;
    }
    return false;
}

/* Fork and exec the server; true once it answers with INFO.  False if it
 * exited (e.g. the port was taken in between) or never came up. */
static bool spawn(it_server *s)
{
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(s->url, sizeof s->url, "nats://127.0.0.1:%d", s->port);

    const char *argv[32];
    int n = 0;
    argv[n++] = g_binary;
    argv[n++] = "-a";
    argv[n++] = "127.0.0.1";
    argv[n++] = "-p";
    argv[n++] = port;
    if (s->conf[0]) {
        argv[n++] = "-c";
        argv[n++] = s->conf;
    }
    for (int i = 0; i < s->nextra; i++)
        argv[n++] = s->extra[i];
    argv[n] = NULL;

    FILE *lf = fopen(s->log, "a");
    if (lf) {
        fprintf(lf, "=== harness: starting");
        for (int i = 0; i < n; i++)
            fprintf(lf, " %s", argv[i]);
        fprintf(lf, "\n");
        fclose(lf);
    }

    s->exited = false;
    s->sent_term = false;
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive a killed test */
        int lfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (lfd >= 0) {
            dup2(lfd, 1);
            dup2(lfd, 2);
        }
        if (nul >= 0)
            dup2(nul, 0);
        execv(g_binary, (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", g_binary, strerror(errno));
        _exit(127);
    }
    s->pid = pid;

    long long end = it_now_ms() + IT_START_TIMEOUT_MS;
    while (it_now_ms() < end) {
        if (reap(s, WNOHANG))
            return false;
        if (probe_ready(s->port))
            return true;
        it_sleep_ms(10);
    }
    return false;
}

/* Does the server's log mention this (case-insensitive)? */
static bool log_mentions(const it_server *s, const char *what)
{
    FILE *f = fopen(s->log, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strcasestr(line, what) != NULL;
    fclose(f);
    return found;
}

static void start_or_fail(it_server *s, bool may_change_port)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        if (spawn(s))
            return;
        bool died = s->pid == 0;
        if (!died) {
            kill(s->pid, SIGKILL);
            reap(s, 0);
        }
        it_server_print_log(s, 40);
        if (!died || !may_change_port || !log_mentions(s, "in use"))
            fail_msg("server did not come up on port %d (log: %s)", s->port, s->log);
        s->port = free_port();   /* most likely the port got taken: retry */
    }
    fail_msg("server failed to start three times (log: %s)", s->log);
}

it_server *it_server_start(const char *conf_text, const char *const *extra)
{
    if (g_nservers == IT_MAX_SERVERS)
        fail_msg("too many servers in one test");
    it_server *s = calloc(1, sizeof *s);
    int idx = g_nservers;
    g_servers[g_nservers++] = s;
    snprintf(s->log, sizeof s->log, "%s/server%d.log", g_tmpdir, idx);
    if (conf_text) {
        char name[32];
        snprintf(name, sizeof name, "server%d.conf", idx);
        it_write_file(name, conf_text, s->conf, sizeof s->conf);
    }
    for (int i = 0; extra && extra[i] && s->nextra < 16; i++)
        s->extra[s->nextra++] = strdup(extra[i]);
    s->port = free_port();
    start_or_fail(s, true);
    return s;
}

void it_server_restart(it_server *s)
{
    if (s->pid)
        fail_msg("restart of a running server");
    /* The old listener may linger a moment; retry on the same port. */
    long long end = it_now_ms() + IT_START_TIMEOUT_MS;
    for (;;) {
        if (spawn(s))
            return;
        if (s->pid) {
            kill(s->pid, SIGKILL);
            reap(s, 0);
        }
        if (it_now_ms() > end) {
            it_server_print_log(s, 40);
            fail_msg("server did not restart on port %d", s->port);
        }
        it_sleep_ms(100);
    }
}

void it_server_rewrite_conf(it_server *s, const char *conf_text)
{
    if (!s->conf[0])
        fail_msg("server has no config file");
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.new", s->conf);
    FILE *f = fopen(tmp, "w");
    if (!f)
        fail_msg("cannot write %s", tmp);
    fputs(conf_text, f);
    fclose(f);
    rename(tmp, s->conf);
}

void it_server_signal(it_server *s, int sig)
{
    if (sig == SIGTERM)
        s->sent_term = true;
    if (!s->pid || kill(s->pid, sig) != 0)
        fail_msg("cannot signal the server (pid %d): %s", (int)s->pid, strerror(errno));
}

bool it_server_wait_exit(it_server *s, int timeout_ms)
{
    if (!s->pid)
        return true;
    long long end = it_now_ms() + timeout_ms;
    do {
        if (reap(s, WNOHANG))
            return true;
        it_sleep_ms(10);
    } while (it_now_ms() < end);
    return false;
}

/* A sanitizer can report and still exit 0 with some options: look. */
static bool log_has_sanitizer_report(const it_server *s)
{
    FILE *f = fopen(s->log, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, "ERROR: AddressSanitizer") || strstr(line, "ERROR: LeakSanitizer") ||
                strstr(line, "WARNING: ThreadSanitizer") || strstr(line, "runtime error:");
    fclose(f);
    return found;
}

bool it_server_exit_clean(const it_server *s)
{
    if (!s->exited)
        return false;
    if (log_has_sanitizer_report(s))
        return false;
    int st = s->exit_status;
    if (WIFEXITED(st))
        return WEXITSTATUS(st) == 0 ||
               (s->sent_term && WEXITSTATUS(st) == 1 && g_flavour == IT_NATS_SERVER);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM && s->sent_term;
}

static void describe_exit(const it_server *s)
{
    int st = s->exit_status;
    if (WIFEXITED(st))
        fprintf(stderr, "server exited with code %d\n", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        fprintf(stderr, "server killed by signal %d (%s)\n", WTERMSIG(st), strsignal(WTERMSIG(st)));
    if (log_has_sanitizer_report(s))
        fprintf(stderr, "server log holds a sanitizer report\n");
}

/* A hung server is a bug to diagnose: print every thread's stack (gdb, if
 * installed) into the test output before killing it. */
static void dump_stacks(const it_server *s)
{
    if (access("/usr/bin/gdb", X_OK) != 0)
        return;
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "timeout 30 /usr/bin/gdb -p %d -batch -nx -ex 'thread apply all bt' 2>/dev/null 1>&2",
             (int)s->pid);
    fprintf(stderr, "---- stacks of the hung server ----\n");
    if (system(cmd) != 0)
        fprintf(stderr, "(gdb could not attach)\n");
    fprintf(stderr, "---- end of stacks ----\n");
}

bool it_server_stop(it_server *s)
{
    if (s->pid) {
        s->sent_term = true;
        kill(s->pid, SIGTERM);
        if (!it_server_wait_exit(s, IT_STOP_TIMEOUT_MS)) {
            fprintf(stderr, "server pid %d ignored SIGTERM for %d ms: SIGKILL\n",
                    (int)s->pid, IT_STOP_TIMEOUT_MS);
            dump_stacks(s);
            kill(s->pid, SIGKILL);
            reap(s, 0);
            return false;
        }
    }
    bool clean = it_server_exit_clean(s);
    if (!clean)
        describe_exit(s);
    return clean;
}

void it_server_print_log(const it_server *s, int lines)
{
    FILE *f = fopen(s->log, "r");
    if (!f) {
        fprintf(stderr, "(no server log at %s)\n", s->log);
        return;
    }
    /* Keep a ring of the last `lines` lines. */
    char **ring = calloc((size_t)lines, sizeof *ring);
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        free(ring[n % lines]);
        ring[n % lines] = strdup(line);
        n++;
    }
    fclose(f);
    fprintf(stderr, "---- last lines of %s ----\n", s->log);
    for (int i = n > lines ? n - lines : 0; i < n; i++)
        fputs(ring[i % lines], stderr);
    fprintf(stderr, "---- end of log ----\n");
    for (int i = 0; i < lines; i++)
        free(ring[i]);
    free(ring);
}

int it_setup(void **state)
{
    const char *base = getenv("MN_TEST_TMPDIR");
    if (!base || !*base)
        base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(g_tmpdir, sizeof g_tmpdir, "%s/mn-it-XXXXXX", base);
    if (!mkdtemp(g_tmpdir)) {
        fprintf(stderr, "mkdtemp %s: %s\n", g_tmpdir, strerror(errno));
        return -1;
    }
    g_nservers = 0;
    g_ok = false;
    *state = NULL;
    return 0;
}

void it_ok(void) { g_ok = true; }

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

int it_teardown(void **state)
{
    bool clean = true;
    for (int i = 0; i < g_nservers; i++) {
        it_server *s = g_servers[i];
        if (!it_server_stop(s)) {
            fprintf(stderr, "server %d (port %d) did not exit cleanly\n", i, s->port);
            clean = false;
        }
    }
    if (!clean || !g_ok) {
        if (!g_ok)
            fprintf(stderr, "test did not complete; server logs follow\n");
        for (int i = 0; i < g_nservers; i++)
            it_server_print_log(g_servers[i], 30);
        fprintf(stderr, "kept %s\n", g_tmpdir);
    } else {
        nftw(g_tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    for (int i = 0; i < g_nservers; i++) {
        for (int j = 0; j < g_servers[i]->nextra; j++)
            free(g_servers[i]->extra[j]);
        free(g_servers[i]);
    }
    g_nservers = 0;
    return clean ? 0 : -1;
}

/* ---- raw connections ---- */

static void raw_append(it_raw *r, const char *data, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (r->len + n + 1 > cap)
            cap *= 2;
        r->buf = realloc(r->buf, cap);
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    r->buf[r->len] = '\0';
}

/* One read with a timeout.  Returns bytes read, 0 on timeout, -1 closed. */
static ssize_t raw_read_some(it_raw *r, int timeout_ms)
{
    if (r->closed)
        return -1;
    struct pollfd p = { r->fd, POLLIN, 0 };
    int pr = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (pr <= 0)
        return 0;
    char tmp[65536];
    ssize_t n = read(r->fd, tmp, sizeof tmp);
    if (n <= 0) {
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return 0;
        r->closed = true;
        return -1;
    }
    raw_append(r, tmp, (size_t)n);
    return n;
}

it_raw *it_raw_connect(int port, int rcvbuf)
{
    it_raw *r = calloc(1, sizeof *r);
    r->fd = tcp_connect(port, rcvbuf);
    if (r->fd < 0)
        fail_msg("raw connect to port %d: %s", port, strerror(errno));
    raw_append(r, "", 0);
    return r;
}

it_raw *it_raw_open(int port, int rcvbuf)
{
    it_raw *r = it_raw_connect(port, rcvbuf);
    if (!it_raw_expect(r, "\r\n", 5000) || strncmp(r->buf, "INFO ", 5) != 0) {
        it_raw_dump(r, "raw connection");
        fail_msg("no INFO line from the server on port %d", port);
    }
    char *eol = strstr(r->buf, "\r\n");
    r->info = strndup(r->buf + 5, (size_t)(eol - r->buf - 5));
    return r;
}

void it_raw_close(it_raw *r)
{
    if (!r)
        return;
    close(r->fd);
    free(r->buf);
    free(r->info);
    free(r);
}

void it_raw_send_bytes(it_raw *r, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(r->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail_msg("raw write: %s", strerror(errno));
        }
        p += n;
        len -= (size_t)n;
    }
}

void it_raw_send(it_raw *r, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        fail_msg("vasprintf");
    it_raw_send_bytes(r, s, (size_t)n);
    free(s);
}

bool it_raw_expect(it_raw *r, const char *needle, int timeout_ms)
{
    size_t nl = strlen(needle);
    long long end = it_now_ms() + timeout_ms;
    for (;;) {
        char *hit = memmem(r->buf + r->pos, r->len - r->pos, needle, nl);
        if (hit) {
            r->pos = (size_t)(hit - r->buf) + nl;
            return true;
        }
        long long left = end - it_now_ms();
        if (left <= 0 || raw_read_some(r, (int)left) < 0) {
            /* one last look: the data may have arrived with the close */
            hit = memmem(r->buf + r->pos, r->len - r->pos, needle, nl);
            if (hit) {
                r->pos = (size_t)(hit - r->buf) + nl;
                return true;
            }
            return false;
        }
    }
}

bool it_raw_wait_closed(it_raw *r, int timeout_ms)
{
    long long end = it_now_ms() + timeout_ms;
    while (!r->closed) {
        long long left = end - it_now_ms();
        if (left <= 0)
            return false;
        raw_read_some(r, (int)left);
    }
    return true;
}

void it_raw_drain(it_raw *r, int timeout_ms)
{
    long long end = it_now_ms() + timeout_ms;
    while (!r->closed && it_now_ms() < end)
        raw_read_some(r, (int)(end - it_now_ms()));
}

const char *it_raw_info(it_raw *r) { return r->info; }

size_t it_raw_count(const it_raw *r, const char *needle)
{
    size_t n = 0, nl = strlen(needle);
    const char *p = r->buf, *end = r->buf + r->len;
    while ((p = memmem(p, (size_t)(end - p), needle, nl)) != NULL) {
        n++;
        p += nl;
    }
    return n;
}

void it_raw_dump(const it_raw *r, const char *label)
{
    size_t show = r->len > 2000 ? 2000 : r->len;
    fprintf(stderr, "---- %s received %zu bytes%s (first %zu) ----\n%.*s\n---- end ----\n",
            label, r->len, r->closed ? ", then closed" : "", show, (int)show, r->buf ? r->buf : "");
}

void it_expect_refused(const char *conf_text, const char *logged)
{
    char path[512], out[512];
    it_write_file("refused.conf", conf_text, path, sizeof path);
    snprintf(out, sizeof out, "%s/refused.log", it_tmpdir());
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(it_server_binary(), it_server_binary(), "-c", path, "-a", "127.0.0.1", "-p", "-1",
              (char *)NULL);
        _exit(127);
    }
    int st = 0;
    long long end = it_now_ms() + 10000;
    pid_t w = 0;
    while ((w = waitpid(pid, &st, WNOHANG)) == 0 && it_now_ms() < end)
        it_sleep_ms(20);
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        fail_msg("the server started with settings it must refuse:\n%s", conf_text);
    }
    char log[8192] = "";
    FILE *f = fopen(out, "r");
    if (f) {
        size_t n = fread(log, 1, sizeof log - 1, f);
        log[n] = '\0';
        fclose(f);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) == 0)
        fail_msg("server exit status %d for:\n%s\nlog:\n%s", st, conf_text, log);
    if (!it_is_nats_server() && !strstr(log, logged))
        fail_msg("expected \"%s\" in the log:\n%s", logged, log);
}

/* ---- the emulated power cut's write-ahead logs ---- */

/* The size side/<name> recorded at the last fsync, -1 if none. */
static long long wal_synced_size(const char *side, const char *name)
{
    char rec[1200];
    snprintf(rec, sizeof rec, "%s/%s", side, name);
    long long n = -1;
    FILE *f = fopen(rec, "r");
    if (f) {
        if (fscanf(f, "%lld", &n) != 1)
            n = -1;
        fclose(f);
    }
    return n;
}

static bool is_wal(const char *name)
{
    size_t n = strlen(name);
    return n >= 4 && strcmp(name + n - 4, ".log") == 0;
}

void it_wal_cut(const char *dir, const char *side)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_wal(e->d_name))
            continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        long long keep = wal_synced_size(side, e->d_name);
        assert_int_equal(truncate(path, keep > 0 ? keep : 0), 0);
    }
    closedir(d);
}

bool it_wal_synced(const char *dir, const char *side)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    bool all = true;
    for (struct dirent *e; all && (e = readdir(d));) {
        if (!is_wal(e->d_name))
            continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        all = stat(path, &st) == 0 &&
              (st.st_size == 0 || wal_synced_size(side, e->d_name) == (long long)st.st_size);
    }
    closedir(d);
    return all;
}

void it_gen_jwt_scenario(const char *gen_sh, const char *bin_dir, const char *dir)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("MN_GEN_BIN_DIR", bin_dir, 1);
        execl("/bin/sh", "sh", gen_sh, "scenario", dir, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("%s scenario %s failed (status %d)", gen_sh, dir, st);
}
