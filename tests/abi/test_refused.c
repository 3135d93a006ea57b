/*
 * test_refused.c - modules the core must refuse.  Each case: the server
 * exits non-zero, logs exactly one fatal line naming the module, its file
 * and the reason, never logs "Listening for client connections" or "Server
 * is ready", and no connection gets INFO.
 *
 *  refuse_newer_major, refuse_newer_minor, refuse_no_entry,
 *  refuse_bad_magic, refuse_wrong_name, refuse_init_fail (its own error
 *  line first; modules initialised before it are finalised),
 *  refuse_not_elf (a text file called .so), refuse_missing_file.
 *
 *  not_listening_during_init: while a module's init runs (it sleeps 1.5 s
 *  and then fails), the client port must not accept connections, since
 *  the server may yet refuse to start.
 */
#include "abi.h"

#include <modnats/modnats.h>
#include <stdio.h>
#include <string.h>

static const char *conf_for(const char *mods)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "modules = [%s];\n", mods);
    return buf;
}

static const char *so_path(const char *name)
{
    static char buf[1024];
    char file[256];
    snprintf(file, sizeof file, "%s.so", name);
    abi_module_path(abi_module_dir(), file, buf, sizeof buf);
    return buf;
}

static void refuse_newer_major(void **state)
{
    (void)state;
    char msg[1500];
    snprintf(msg, sizeof msg,
             "module abi_newer_major: %s: built for plugin ABI %u.%u, this modnats offers ABI "
             "%d.%d (same major, minor not newer needed)",
             so_path("abi_newer_major"), MODNATS_ABI_MAJOR + 1, MODNATS_ABI_MINOR,
             MODNATS_ABI_MAJOR, MODNATS_ABI_MINOR);
    abi_expect_refusal(conf_for("\"abi_newer_major\""), NULL, msg, NULL);
    it_ok();
}

static void refuse_newer_minor(void **state)
{
    (void)state;
    char msg[1500];
    snprintf(msg, sizeof msg,
             "module abi_newer_minor: %s: built for plugin ABI %u.%u, this modnats offers ABI "
             "%d.%d (same major, minor not newer needed)",
             so_path("abi_newer_minor"), MODNATS_ABI_MAJOR, MODNATS_ABI_MINOR + 1,
             MODNATS_ABI_MAJOR, MODNATS_ABI_MINOR);
    abi_expect_refusal(conf_for("\"abi_newer_minor\""), NULL, msg, NULL);
    it_ok();
}

static void refuse_no_entry(void **state)
{
    (void)state;
    char msg[1500];
    snprintf(msg, sizeof msg,
             "module no_entry: %s: no entry point modnats_module_entry() (not a modnats module?)",
             so_path("no_entry"));
    abi_expect_refusal(conf_for("\"no_entry\""), NULL, msg, NULL);
    it_ok();
}

static void refuse_bad_magic(void **state)
{
    (void)state;
    char msg[1500];
    snprintf(msg, sizeof msg,
             "module abi_bad_magic: %s: the entry point returned no valid module descriptor",
             so_path("abi_bad_magic"));
    abi_expect_refusal(conf_for("\"abi_bad_magic\""), NULL, msg, NULL);
    it_ok();
}

static void refuse_wrong_name(void **state)
{
    (void)state;
    char msg[1500];
    snprintf(msg, sizeof msg, "module abi_wrong_name: %s: the file holds module \"someone_else\"",
             so_path("abi_wrong_name"));
    abi_expect_refusal(conf_for("\"abi_wrong_name\""), NULL, msg, NULL);
    it_ok();
}

static void refuse_init_fail(void **state)
{
    (void)state;
    char msg[1500];
    snprintf(msg, sizeof msg, "module abi_init_fail: %s: init failed (see the lines above)",
             so_path("abi_init_fail"));
    abi_refusal r;
    abi_expect_refusal(conf_for("\"abi_same\", \"abi_init_fail\""), NULL, msg, &r);
    assert_true(abi_file_has_line(r.log, "[ERR] [abi_init_fail] refusing to start: this module "
                                         "always fails its init"));
    /* abi_same was initialised before: it is finalised, abi_init_fail not. */
    assert_true(abi_file_has_line(r.log, "[INF] [abi_same] fini"));
    assert_false(abi_file_has_line(r.log, "[INF] [abi_init_fail] fini"));
    it_ok();
}

static void refuse_not_elf(void **state)
{
    (void)state;
    const char *so = so_path("not_elf");
    char msg[2000];
    /* dlerror()'s own text follows "cannot load: " (it is the C library's). */
    snprintf(msg, sizeof msg, "module not_elf: %s: cannot load: *", so);
    abi_expect_refusal(conf_for("\"not_elf\""), NULL, msg, NULL);
    it_ok();
}

static void refuse_missing_file(void **state)
{
    (void)state;
    char msg[1500];
    snprintf(msg, sizeof msg, "module does_not_exist: %s/does_not_exist.so: file not found",
             abi_module_dir());
    abi_expect_refusal(conf_for("\"does_not_exist\""), NULL, msg, NULL);
    it_ok();
}

static void not_listening_during_init(void **state)
{
    (void)state;
    char msg[1500];
    snprintf(msg, sizeof msg, "module abi_slow_fail: %s: init failed (see the lines above)",
             so_path("abi_slow_fail"));
    abi_refusal r;
    abi_expect_refusal(conf_for("\"abi_slow_fail\""), NULL, msg, &r);
    if (r.tcp_accepted)
        fail_msg("the client port accepted TCP connections while modules were still being "
                 "initialised (and the server then refused to start)");
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = {
        ABI_TEST(refuse_newer_major), ABI_TEST(refuse_newer_minor), ABI_TEST(refuse_no_entry),
        ABI_TEST(refuse_bad_magic), ABI_TEST(refuse_wrong_name), ABI_TEST(refuse_init_fail),
        ABI_TEST(refuse_not_elf), ABI_TEST(refuse_missing_file),
        ABI_TEST(not_listening_during_init),
    };
    return ABI_RUN(tests);
}
