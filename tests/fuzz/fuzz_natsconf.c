/*
 * fuzz_natsconf.c - libFuzzer target for the nats-server format reader
 * (core/natsconf.c): each input is parsed from memory, its format guessed,
 * and a tree that parses is printed as libconfig and loaded again through
 * mn_config_load() (the key table over the tree).  Any crash, leak or
 * sanitizer report is a bug; parse errors are expected, but each must come
 * with a "name:line:col: " message.  Includes resolve inside a private
 * directory that holds nothing to include.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "natsconf.h"
#include "opts.h"

/* libconfig 1.5 leaks a token on some syntax errors (see fuzz_config.c). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libconfig.so\n";
}

static char g_dir[64];
static char g_name[128];
static char g_out[128];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    snprintf(g_dir, sizeof g_dir, "/tmp/fuzz_natsconf.XXXXXX");
    if (!mkdtemp(g_dir))
        abort();
    snprintf(g_name, sizeof g_name, "%s/in.conf", g_dir);
    snprintf(g_out, sizeof g_out, "%s/out.conf", g_dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    mn_cfg *tree = NULL;
    (void)mn_natsconf_detect((const char *)data, size);
    int rc = mn_natsconf_parse((const char *)data, size, g_name, &tree, err, sizeof err);
    if (rc != MN_OK) {
        if (tree || (rc == MN_EINVAL && strncmp(err, g_name, strlen(g_name)) != 0 &&
                     strncmp(err, "environment variable", 20) != 0))
            abort();    /* an error must say where */
        return 0;
    }
    FILE *f = fopen(g_out, "w");
    if (!f)
        abort();
    rc = mn_natsconf_print_libconfig(f, tree, err, sizeof err);
    fclose(f);
    mn_cfg_free(tree);
    if (rc == MN_OK) {
        mn_opts o;
        mn_opts_defaults(&o);
        o.config_file = strdup(g_out);
        if (mn_config_load(&o, err, sizeof err) == MN_OK)
            mn_opts_validate(&o, err, sizeof err);
        mn_opts_free(&o);
    }
    return 0;
}
