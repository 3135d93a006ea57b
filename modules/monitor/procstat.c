/*
 * procstat.c - the process's memory and CPU use for /varz and /metrics.
 *
 * mem is the resident set size (/proc/self/statm pages times the page
 * size) and cpu the percentage of one core used (user + system time from
 * /proc/self/stat) over the time since the previous sample, as nats-server
 * reports them; cores counts the CPUs this process may run on.
 */
#include "monitor.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double   last_cpu_s;     /* process CPU seconds at the last sample */
static double   last_wall_s;    /* monotonic seconds at the last sample */
static double   last_pct;
static bool     have_last;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime in seconds, and the process's start in seconds since
 * boot, from /proc/self/stat; false when unreadable. */
static bool read_stat(double *cpu_s, double *start_s)
{
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return false;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the command name may hold spaces and parentheses: skip to the last ')' */
    char *p = strrchr(buf, ')');
    if (!p)
        return false;
    unsigned long utime = 0, stime = 0;
    unsigned long long start = 0;
    /* fields after ')': state(3) ... utime(14) stime(15) ... starttime(22) */
    int got = sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
                            "%*d %*d %*d %*d %*d %*d %llu", &utime, &stime, &start);
    if (got != 3)
        return false;
    double hz = (double)sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        hz = 100;
    *cpu_s = (double)(utime + stime) / hz;
    *start_s = (double)start / hz;
    return true;
}

static double uptime_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mon_proc_sample(mon_proc *out)
{
    memset(out, 0, sizeof(*out));

    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        unsigned long size = 0, resident = 0;
        if (fscanf(f, "%lu %lu", &size, &resident) == 2)
            out->rss_bytes = (int64_t)resident * (int64_t)sysconf(_SC_PAGESIZE);
        fclose(f);
    }

    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        out->cores = CPU_COUNT(&set);
    if (out->cores <= 0)
        out->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);

    double cpu_s, start_s, now = mono_s();
    if (!read_stat(&cpu_s, &start_s)) {
        out->cpu_pct = last_pct;
        return;
    }
    if (!have_last) {
        double life = uptime_s() - start_s;
        last_pct = life > 0 ? 100.0 * cpu_s / life : 0;
    } else if (now - last_wall_s >= 1.0) {
        last_pct = 100.0 * (cpu_s - last_cpu_s) / (now - last_wall_s);
    } else {
        /* too short an interval to say anything: keep the last figure */
        out->cpu_pct = last_pct;
        return;
    }
    if (last_pct < 0)
        last_pct = 0;
    /* one decimal place: more is noise at this sampling rate */
    last_pct = (double)(long long)(last_pct * 10 + 0.5) / 10;
    have_last = true;
    last_cpu_s = cpu_s;
    last_wall_s = now;
    out->cpu_pct = last_pct;
}
