/*
 * log.c - the server log, in nats-server's look:
 *
 *     [1234] 2026/11/22 10:00:00.123456 [INF] Server is ready
 *     [1234] [INF] Server is ready                  (logtime off)
 *
 * to stderr, a file opened for append, or syslog.  Each line is formatted
 * into one buffer and written with a single write(2), so lines from
 * different threads never interleave and no lock sits on the hot path.
 * The destination is a file descriptor that never changes number:
 * mn_log_reopen() (SIGUSR1, after logrotate moved the file) opens the file
 * again and dup2()s it over the old descriptor, which swaps atomically
 * under concurrent writers.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static atomic_bool g_debug, g_trace;
static atomic_bool g_logtime = true, g_utc, g_syslog;
static atomic_int  g_fd = 2;
static atomic_int  g_pid;

/* Serialises init/reopen/close against each other, never against mn_log. */
static pthread_mutex_t g_cfg_mu = PTHREAD_MUTEX_INITIALIZER;
static char           *g_path;          /* NULL: stderr or syslog */

static const char *const g_label[] = {
    [MN_LOG_FATAL] = "[FTL]", [MN_LOG_ERROR] = "[ERR]", [MN_LOG_WARN] = "[WRN]",
    [MN_LOG_INFO] = "[INF]", [MN_LOG_DEBUG] = "[DBG]", [MN_LOG_TRACE] = "[TRC]",
};

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/* Points g_fd at newfd (or stderr when newfd < 0); call with g_cfg_mu. */
static void switch_fd(int newfd)
{
    int cur = atomic_load(&g_fd);
    if (newfd < 0) {
        if (cur != 2) {
            atomic_store(&g_fd, 2);
            close(cur);
        }
        return;
    }
    if (cur == 2) {
        atomic_store(&g_fd, newfd);
        return;
    }
    dup2(newfd, cur);
    close(newfd);
}

int mn_log_init(const char *file, bool debug, bool trace, bool logtime)
{
    pthread_mutex_lock(&g_cfg_mu);
    atomic_store(&g_pid, (int)getpid());
    if (file && *file) {
        int fd = open_log(file);
        if (fd < 0) {
            int e = errno;
            pthread_mutex_unlock(&g_cfg_mu);
            errno = e;
            return MN_ERR;
        }
        char *copy = strdup(file);
        free(g_path);
        g_path = copy;
        switch_fd(fd);
    } else {
        free(g_path);
        g_path = NULL;
        switch_fd(-1);
    }
    if (atomic_exchange(&g_syslog, false))
        closelog();
    atomic_store(&g_debug, debug);
    atomic_store(&g_trace, trace);
    atomic_store(&g_logtime, logtime);
    pthread_mutex_unlock(&g_cfg_mu);
    return MN_OK;
}

int mn_log_init_syslog(bool debug, bool trace)
{
    pthread_mutex_lock(&g_cfg_mu);
    atomic_store(&g_pid, (int)getpid());
    free(g_path);
    g_path = NULL;
    switch_fd(-1);
    openlog("modnats", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    atomic_store(&g_syslog, true);
    atomic_store(&g_debug, debug);
    atomic_store(&g_trace, trace);
    pthread_mutex_unlock(&g_cfg_mu);
    return MN_OK;
}

void mn_log_set_utc(bool utc)
{
    atomic_store(&g_utc, utc);
}

int mn_log_reopen(void)
{
    int rc = MN_OK;
    pthread_mutex_lock(&g_cfg_mu);
    if (g_path) {
        int fd = open_log(g_path);
        if (fd < 0)
            rc = MN_ERR;    /* keep writing to the old file rather than lose lines */
        else
            switch_fd(fd);
    }
    pthread_mutex_unlock(&g_cfg_mu);
    return rc;
}

void mn_log_close(void)
{
    pthread_mutex_lock(&g_cfg_mu);
    free(g_path);
    g_path = NULL;
    switch_fd(-1);
    if (atomic_exchange(&g_syslog, false))
        closelog();
    pthread_mutex_unlock(&g_cfg_mu);
}

bool mn_log_debug_enabled(void)
{
    return atomic_load_explicit(&g_debug, memory_order_relaxed);
}

bool mn_log_trace_enabled(void)
{
    return atomic_load_explicit(&g_trace, memory_order_relaxed);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;     /* nowhere left to report a failing log */
        p += w;
        n -= (size_t)w;
    }
}

void mn_log(mn_log_level lvl, const char *fmt, ...)
{
    if ((unsigned)lvl > MN_LOG_TRACE)
        lvl = MN_LOG_ERROR;
    if ((lvl == MN_LOG_DEBUG && !mn_log_debug_enabled()) ||
        (lvl == MN_LOG_TRACE && !mn_log_trace_enabled()))
        return;
    int saved_errno = errno;    /* callers log then look at errno */

    char stackbuf[1024];
    char *buf = stackbuf;
    size_t cap = sizeof stackbuf;
    va_list ap;

    if (atomic_load(&g_syslog)) {
        static const int prio[] = {
            [MN_LOG_FATAL] = LOG_CRIT, [MN_LOG_ERROR] = LOG_ERR,
            [MN_LOG_WARN] = LOG_WARNING, [MN_LOG_INFO] = LOG_INFO,
            [MN_LOG_DEBUG] = LOG_DEBUG, [MN_LOG_TRACE] = LOG_DEBUG,
        };
        char msg[2048];
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        syslog(prio[lvl], "%s %s", g_label[lvl], msg);
        errno = saved_errno;
        return;
    }

    char prefix[64];
    int plen;
    if (atomic_load(&g_logtime)) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (atomic_load(&g_utc))
            gmtime_r(&ts.tv_sec, &tm);
        else
            localtime_r(&ts.tv_sec, &tm);
        plen = snprintf(prefix, sizeof prefix,
                        "[%d] %04d/%02d/%02d %02d:%02d:%02d.%06ld %s ",
                        atomic_load(&g_pid), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000,
                        g_label[lvl]);
    } else {
        plen = snprintf(prefix, sizeof prefix, "[%d] %s ", atomic_load(&g_pid), g_label[lvl]);
    }
    if (plen < 0 || (size_t)plen >= sizeof prefix)
        plen = (int)sizeof prefix - 1;

    va_start(ap, fmt);
    int mlen = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (mlen < 0)
        mlen = 0;
    size_t need = (size_t)plen + (size_t)mlen + 2;
    if (need > cap) {
        char *big = malloc(need);
        if (big) {
            buf = big;
            cap = need;
        }
    }
    memcpy(buf, prefix, (size_t)plen);
    va_start(ap, fmt);
    vsnprintf(buf + plen, cap - (size_t)plen - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(buf);
    buf[len++] = '\n';
    write_all(atomic_load(&g_fd), buf, len);
    if (buf != stackbuf)
        free(buf);
    errno = saved_errno;
}
