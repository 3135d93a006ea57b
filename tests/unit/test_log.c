/*
 * test_log.c - the server log (core/log.c), written to files in a
 * mkdtemp() directory and read back: the line format with and without
 * timestamps (local and UTC), which levels -D and -V let through,
 * switching files, reopening after logrotate renamed the file (SIGUSR1),
 * long lines, and many threads logging at once producing only whole lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

typedef struct fixture {
    char dir[64];
    char path[128];     /* dir/modnats.log */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/mn_test_log.XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/modnats.log", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    mn_log_close();
    mn_log_set_utc(false);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* The whole file (caller frees); "" when it does not exist. */
static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return strdup("");
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void assert_matches(const char *text, const char *re)
{
    regex_t rx;
    assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&rx, text, 0, NULL, 0);
    regfree(&rx);
    if (rc != 0)
        fail_msg("\"%s\" does not match /%s/", text, re);
}

/* The clock the log reads (time(2) may run on a coarser clock, a tick
 * behind). */
static time_t now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

static void test_format_with_time(void **state)
{
    fixture *f = *state;
    assert_int_equal(mn_log_init(f->path, false, false, true), MN_OK);
    time_t before = now();
    mn_log(MN_LOG_INFO, "Server is %s on port %d", "ready", 4222);
    time_t after = now();
    char *text = slurp(f->path);
    char re[160];
    snprintf(re, sizeof re,
             "^\\[%d\\] [0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} "
             "\\[INF\\] Server is ready on port 4222\n$", (int)getpid());
    assert_matches(text, re);

    /* The stamp is local time to the second. */
    char want1[32], want2[32];
    struct tm tm;
    strftime(want1, sizeof want1, "%Y/%m/%d %H:%M:%S", localtime_r(&before, &tm));
    strftime(want2, sizeof want2, "%Y/%m/%d %H:%M:%S", localtime_r(&after, &tm));
    const char *stamp = strchr(text, ' ') + 1;
    assert_true(strncmp(stamp, want1, 19) == 0 || strncmp(stamp, want2, 19) == 0);
    free(text);
}

static void test_format_utc(void **state)
{
    fixture *f = *state;
    /* A zone far from UTC, so local and UTC stamps differ. */
    const char *old_tz = getenv("TZ");
    char *saved = old_tz ? strdup(old_tz) : NULL;
    setenv("TZ", "XST-13", 1);
    tzset();
    assert_int_equal(mn_log_init(f->path, false, false, true), MN_OK);
    mn_log_set_utc(true);
    time_t before = now();
    mn_notice("utc");
    time_t after = now();
    mn_log_set_utc(false);
    mn_notice("local");
    char *text = slurp(f->path);

    char u1[32], u2[32], l1[32], l2[32];
    struct tm tm;
    strftime(u1, sizeof u1, "%Y/%m/%d %H:%M:%S", gmtime_r(&before, &tm));
    strftime(u2, sizeof u2, "%Y/%m/%d %H:%M:%S", gmtime_r(&after, &tm));
    strftime(l1, sizeof l1, "%Y/%m/%d %H:%M:%S", localtime_r(&before, &tm));
    strftime(l2, sizeof l2, "%Y/%m/%d %H:%M:%S", localtime_r(&after, &tm));
    const char *s1 = strchr(text, ' ') + 1;
    const char *line2 = strchr(text, '\n') + 1;
    const char *s2 = strchr(line2, ' ') + 1;
    assert_true(strncmp(s1, u1, 19) == 0 || strncmp(s1, u2, 19) == 0);
    assert_true(strncmp(s2, l1, 19) == 0 || strncmp(s2, l2, 19) == 0);
    assert_true(strncmp(s1, s2, 13) != 0);      /* 13 hours apart */
    free(text);

    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

static void test_format_without_time(void **state)
{
    fixture *f = *state;
    assert_int_equal(mn_log_init(f->path, true, true, false), MN_OK);
    mn_fatal("f %d", 1);
    mn_error("e");
    mn_warn("w");
    mn_notice("n");
    mn_log(MN_LOG_INFO, "i");
    mn_debug("d");
    mn_trace("t");
    mn_log((mn_log_level)42, "bad level");
    mn_log(MN_LOG_INFO, "%s", "");
    char *text = slurp(f->path);
    char want[512];
    int pid = (int)getpid();
    snprintf(want, sizeof want,
             "[%d] [FTL] f 1\n[%d] [ERR] e\n[%d] [WRN] w\n[%d] [INF] n\n[%d] [INF] i\n"
             "[%d] [DBG] d\n[%d] [TRC] t\n[%d] [ERR] bad level\n[%d] [INF] \n",
             pid, pid, pid, pid, pid, pid, pid, pid, pid);
    assert_string_equal(text, want);
    free(text);
}

static void test_levels_filtered(void **state)
{
    fixture *f = *state;
    int pid = (int)getpid();
    char want[256];

    assert_int_equal(mn_log_init(f->path, false, false, false), MN_OK);
    assert_false(mn_log_debug_enabled());
    assert_false(mn_log_trace_enabled());
    mn_debug("d1");
    mn_trace("t1");
    mn_log(MN_LOG_DEBUG, "d2");      /* filtered without the macro too */
    mn_log(MN_LOG_TRACE, "t2");
    mn_warn("w1");
    char *text = slurp(f->path);
    snprintf(want, sizeof want, "[%d] [WRN] w1\n", pid);
    assert_string_equal(text, want);
    free(text);

    /* -D alone: debug, no trace.  Re-init switches flags in place. */
    assert_int_equal(mn_log_init(f->path, true, false, false), MN_OK);
    assert_true(mn_log_debug_enabled());
    mn_debug("d3");
    mn_trace("t3");
    /* -V alone. */
    assert_int_equal(mn_log_init(f->path, false, true, false), MN_OK);
    assert_true(mn_log_trace_enabled());
    mn_debug("d4");
    mn_trace("t4");
    text = slurp(f->path);
    snprintf(want, sizeof want, "[%d] [WRN] w1\n[%d] [DBG] d3\n[%d] [TRC] t4\n", pid, pid, pid);
    assert_string_equal(text, want);
    free(text);
}

static void test_errno_kept(void **state)
{
    fixture *f = *state;
    assert_int_equal(mn_log_init(f->path, false, false, true), MN_OK);
    errno = EPIPE;
    mn_error("failed: %s", strerror(errno));
    assert_int_equal(errno, EPIPE);
    errno = EAGAIN;
    mn_debug("filtered");
    assert_int_equal(errno, EAGAIN);
}

static void test_switch_files_and_bad_path(void **state)
{
    fixture *f = *state;
    int pid = (int)getpid();
    char other[160], want[256];
    snprintf(other, sizeof other, "%s/other.log", f->dir);

    assert_int_equal(mn_log_init(f->path, false, false, false), MN_OK);
    mn_notice("one");
    assert_int_equal(mn_log_init(other, false, false, false), MN_OK);
    mn_notice("two");
    /* A file that cannot be opened: MN_ERR with errno, old file kept. */
    errno = 0;
    assert_int_equal(mn_log_init("/nonexistent-dir/x/modnats.log", false, false, false), MN_ERR);
    assert_int_equal(errno, ENOENT);
    mn_notice("three");
    /* The file is appended to, never truncated. */
    assert_int_equal(mn_log_init(f->path, false, false, false), MN_OK);
    mn_notice("four");

    char *a = slurp(f->path), *b = slurp(other);
    snprintf(want, sizeof want, "[%d] [INF] one\n[%d] [INF] four\n", pid, pid);
    assert_string_equal(a, want);
    snprintf(want, sizeof want, "[%d] [INF] two\n[%d] [INF] three\n", pid, pid);
    assert_string_equal(b, want);
    free(a);
    free(b);

    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);

    /* Closing goes back to stderr; the file gets nothing more. */
    mn_log_close();
    mn_notice("to stderr (expected in the test output)");
    a = slurp(f->path);
    snprintf(want, sizeof want, "[%d] [INF] one\n[%d] [INF] four\n", pid, pid);
    assert_string_equal(a, want);
    free(a);
}

static void test_reopen_after_rename(void **state)
{
    fixture *f = *state;
    int pid = (int)getpid();
    char rotated[160], want[256];
    snprintf(rotated, sizeof rotated, "%s.1", f->path);

    assert_int_equal(mn_log_init(f->path, false, false, false), MN_OK);
    mn_notice("before rotation");
    assert_int_equal(rename(f->path, rotated), 0);
    mn_notice("after rename");          /* still the old, renamed file */
    assert_int_equal(mn_log_reopen(), MN_OK);
    mn_notice("after reopen");
    assert_int_equal(mn_log_reopen(), MN_OK);   /* twice is harmless */
    mn_notice("again");

    char *old = slurp(rotated), *cur = slurp(f->path);
    snprintf(want, sizeof want, "[%d] [INF] before rotation\n[%d] [INF] after rename\n",
             pid, pid);
    assert_string_equal(old, want);
    snprintf(want, sizeof want, "[%d] [INF] after reopen\n[%d] [INF] again\n", pid, pid);
    assert_string_equal(cur, want);
    free(old);
    free(cur);

    /* Reopen when the directory is gone: MN_ERR, lines still go out. */
    char sub[160], subfile[200], cmd[512];
    snprintf(sub, sizeof sub, "%s/sub", f->dir);
    snprintf(subfile, sizeof subfile, "%s/x.log", sub);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(mn_log_init(subfile, false, false, false), MN_OK);
    snprintf(cmd, sizeof cmd, "mv '%s' '%s.moved'", sub, sub);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mn_log_reopen(), MN_ERR);
    mn_notice("kept");
    snprintf(cmd, sizeof cmd, "%s.moved/x.log", sub);
    char *moved = slurp(cmd);
    snprintf(want, sizeof want, "[%d] [INF] kept\n", pid);
    assert_string_equal(moved, want);
    free(moved);

    /* On stderr there is nothing to reopen. */
    mn_log_close();
    assert_int_equal(mn_log_reopen(), MN_OK);
}

static void test_long_lines(void **state)
{
    fixture *f = *state;
    assert_int_equal(mn_log_init(f->path, false, false, false), MN_OK);
    /* Around the 1 KiB stack buffer and far beyond it. */
    static const size_t lens[] = {990, 1000, 1005, 1006, 1007, 1008, 1009, 1010,
                                  1011, 1012, 1013, 1020, 1024, 1100, 70000};
    char *msg = malloc(70001);
    assert_non_null(msg);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        memset(msg, 'a' + (int)(i % 26), lens[i]);
        msg[lens[i]] = '\0';
        mn_notice("%s|", msg);
    }
    char *text = slurp(f->path);
    char prefix[32];
    int plen = snprintf(prefix, sizeof prefix, "[%d] [INF] ", (int)getpid());
    const char *p = text;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_int_equal((size_t)(nl - p), (size_t)plen + lens[i] + 1);
        assert_memory_equal(p, prefix, (size_t)plen);
        for (size_t k = 0; k < lens[i]; k++)
            if (p[plen + (int)k] != 'a' + (int)(i % 26))
                fail_msg("line %zu: byte %zu is wrong", i, k);
        assert_int_equal(p[plen + (int)lens[i]], '|');
        p = nl + 1;
    }
    assert_int_equal(*p, '\0');
    free(text);
    free(msg);
}

/* ---- many threads -------------------------------------------------------- */

#define THREADS 8
#define LINES   2000

static void *writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char pad[3001];
    for (int n = 0; n < LINES; n++) {
        /* Short and long lines, some beyond the stack buffer. */
        size_t len = (size_t)((n * 37 + id * 101) % (n % 50 == 0 ? 3000 : 200));
        memset(pad, 'A' + id, len);
        pad[len] = '\0';
        mn_log(MN_LOG_INFO, "t%d n%d l%zu %s.", id, n, len, pad);
    }
    return NULL;
}

static void test_threads_whole_lines(void **state)
{
    fixture *f = *state;
    assert_int_equal(mn_log_init(f->path, false, false, true), MN_OK);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i), 0);
    /* A rotation in the middle must not lose or split lines either. */
    usleep(1000);
    assert_int_equal(mn_log_reopen(), MN_OK);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);

    char *text = slurp(f->path);
    int next[THREADS] = {0};
    int lines = 0;
    char head[64];
    int hlen = snprintf(head, sizeof head, "[%d] ", (int)getpid());
    for (char *p = text, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        lines++;
        if (strncmp(p, head, (size_t)hlen) != 0)
            fail_msg("line %d does not start with the pid: %.80s", lines, p);
        const char *msg = strstr(p, " [INF] ");
        assert_non_null(msg);
        msg += 7;
        int id, n, used = 0;
        size_t len;
        if (sscanf(msg, "t%d n%d l%zu %n", &id, &n, &len, &used) != 3 || used == 0 ||
            id < 0 || id >= THREADS)
            fail_msg("line %d is not whole: %.80s", lines, p);
        /* each thread's lines in order, none missing */
        if (n != next[id])
            fail_msg("thread %d: line %d where %d was expected", id, n, next[id]);
        next[id]++;
        const char *pad = msg + used;
        if (strlen(pad) != len + 1 || pad[len] != '.')
            fail_msg("line %d has %zu bytes of padding, wants %zu", lines, strlen(pad), len + 1);
        for (size_t k = 0; k < len; k++)
            if (pad[k] != 'A' + id)
                fail_msg("line %d mixes threads at byte %zu", lines, k);
    }
    assert_int_equal(lines, THREADS * LINES);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(next[i], LINES);
    free(text);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_format_with_time),
        T(test_format_utc),
        T(test_format_without_time),
        T(test_levels_filtered),
        T(test_errno_kept),
        T(test_switch_files_and_bad_path),
        T(test_reopen_after_rename),
        T(test_long_lines),
        T(test_threads_whole_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
