/*
 * test_versions.c - ABI versions that must load (modules from
 * abi_version.c):
 *
 *  versions_same_minor: abi_minor == MODNATS_ABI_MINOR loads; the host
 *    table it gets is at least as big as its header's and has the newest
 *    field (MODNATS_HAS); fini runs at stop.
 *  versions_older_minor: abi_minor one less (equal to the header's while
 *    it is 0) loads.
 *  versions_small_descriptor: a descriptor whose size stops before the
 *    reserved slots (an older, shorter struct) loads.
 *  versions_newer_minor_refused: MODNATS_ABI_MINOR + 1 is refused (the
 *    mirror image: this core is "older" than the module).
 * The load line names the module, its version, its ABI and its file.
 */
#include "abi.h"

#include <modnats/modnats.h>
#include <stdio.h>

static void expect_loaded(const char *name, unsigned minor)
{
    char conf[256], so[1024], file[1100], line[1400];
    snprintf(conf, sizeof conf, "modules = [\"%s\"];\n", name);
    it_server *s = abi_start(conf, NULL, NULL);
    snprintf(file, sizeof file, "%s.so", name);
    abi_module_path(abi_module_dir(), file, so, sizeof so);
    snprintf(line, sizeof line, "Loaded module %s 1.0 (ABI %u.%u) from %s", name,
             MODNATS_ABI_MAJOR, minor, so);
    abi_log_expect(s, line, 2000);
    snprintf(line, sizeof line,
             "[%s] init: host ABI %u.%u api_size_ok=yes has_server_name=yes", name,
             MODNATS_ABI_MAJOR, MODNATS_ABI_MINOR);
    abi_log_expect(s, line, 2000);
    it_raw *r = abi_login(s, "");   /* and it serves */
    it_raw_close(r);
    assert_true(it_server_stop(s));
    snprintf(line, sizeof line, "[%s] fini", name);
    abi_log_expect(s, line, 100);
}

static void versions_same_minor(void **state)
{
    (void)state;
    expect_loaded("abi_same", MODNATS_ABI_MINOR);
    it_ok();
}

static void versions_older_minor(void **state)
{
    (void)state;
    expect_loaded("abi_older", MODNATS_ABI_MINOR > 0 ? MODNATS_ABI_MINOR - 1 : 0);
    it_ok();
}

static void versions_small_descriptor(void **state)
{
    (void)state;
    expect_loaded("abi_small_desc", MODNATS_ABI_MINOR);
    it_ok();
}

static void versions_newer_minor_refused(void **state)
{
    (void)state;
    char so[1024], msg[1500];
    abi_module_path(abi_module_dir(), "abi_newer_minor.so", so, sizeof so);
    snprintf(msg, sizeof msg,
             "module abi_newer_minor: %s: built for plugin ABI %u.%u, this modnats offers ABI "
             "%d.%d (same major, minor not newer needed)",
             so, MODNATS_ABI_MAJOR, MODNATS_ABI_MINOR + 1, MODNATS_ABI_MAJOR, MODNATS_ABI_MINOR);
    abi_expect_refusal("modules = [\"abi_newer_minor\"];\n", NULL, msg, NULL);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = {
        ABI_TEST(versions_same_minor), ABI_TEST(versions_older_minor),
        ABI_TEST(versions_small_descriptor), ABI_TEST(versions_newer_minor_refused),
    };
    return ABI_RUN(tests);
}
