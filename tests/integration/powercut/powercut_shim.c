/*
 * powercut_shim.c - an LD_PRELOAD library for the power-cut test
 * (tests/integration/test_jetstream.c, test_js_power_cut): after every
 * successful fsync()/fdatasync() of a file under $MN_POWERCUT_DIR it
 * records the file's size in $MN_POWERCUT_SIDE/<basename>.  After a
 * SIGKILL the test cuts every write-ahead log back to its last recorded
 * size (or to nothing), which is what a power cut leaves of an appended
 * file whose later writes were only in the page cache.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void record(int fd)
{
    const char *dir = getenv("MN_POWERCUT_DIR"), *side = getenv("MN_POWERCUT_SIDE");
    if (!dir || !side)
        return;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return;
    path[n] = 0;
    if (strncmp(path, dir, strlen(dir)) != 0)
        return;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    const char *base = strrchr(path, '/');
    char out[PATH_MAX + 64], tmp[PATH_MAX + 80];
    snprintf(out, sizeof out, "%s/%s", side, base ? base + 1 : path);
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", out, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "%lld\n", (long long)st.st_size);
    fclose(f);
    rename(tmp, out);
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int r = real(fd);
    if (r == 0)
        record(fd);
    return r;
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int r = real(fd);
    if (r == 0)
        record(fd);
    return r;
}
