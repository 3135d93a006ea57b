/*
 * fuzz_config.c - libFuzzer target for the options code: each input is
 * loaded as a config file (libconfig parse, the wide-integer scan, every
 * key's type and unit checks, mn_opts_validate), and its lines are also
 * replayed as a command line through mn_opts_parse_args().  Any crash,
 * leak or sanitizer report is a bug; errors are expected and ignored.
 *
 * Build (tests/fuzz/CMakeLists.txt does this with MODNATS_FUZZ=ON):
 *   clang -g -fsanitize=fuzzer,address,undefined -Icore tests/fuzz/fuzz_config.c \
 *         core/opts.c core/config.c -lconfig
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opts.h"

/* libconfig 1.5's parser drops a string token on some syntax errors
 * ("name"x = 1) and leaks it: a bug of the library, a few bytes per failed
 * load.  Leaks allocated through libconfig are therefore not reported; ours
 * (strdup/malloc from core/) still are. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libconfig.so\n";
}

static char g_dir[64];
static char g_path[128];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    /* A private directory: no conf.d/ beside the file, nothing to include. */
    snprintf(g_dir, sizeof g_dir, "/tmp/fuzz_config.XXXXXX");
    if (!mkdtemp(g_dir))
        abort();
    snprintf(g_path, sizeof g_path, "%s/fuzz.conf", g_dir);
    return 0;
}

static void fuzz_file(const uint8_t *data, size_t size)
{
    FILE *f = fopen(g_path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);

    mn_opts o;
    char err[512];
    mn_opts_defaults(&o);
    o.config_file = strdup(g_path);
    if (mn_config_load(&o, err, sizeof err) == MN_OK) {
        mn_opts_validate(&o, err, sizeof err);
        mn_opts fresh;
        if (mn_config_reload(&o, &fresh, err, sizeof err) == MN_OK)
            mn_opts_free(&fresh);
    } else if (!memchr(err, '\0', sizeof err) || err[0] == '\0') {
        abort();    /* an error must come with a message */
    }
    mn_opts_free(&o);
}

static void fuzz_argv(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (!copy)
        return;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *argv[34] = {"modnats"};
    int argc = 1;
    for (char *line = copy, *next; line && argc < 33; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        argv[argc++] = line;
    }
    argv[argc] = NULL;

    mn_opts o;
    mn_cli_action action;
    char *sig = NULL, err[256];
    mn_opts_defaults(&o);
    if (mn_opts_parse_args(&o, argc, argv, &action, &sig, err, sizeof err) == MN_OK)
        mn_opts_validate(&o, err, sizeof err);
    free(sig);
    mn_opts_free(&o);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_file(data, size);
    fuzz_argv(data, size);
    return 0;
}
