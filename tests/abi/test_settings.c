/*
 * test_settings.c - typed module options (module settings): the core checks
 * a module's settings group against the options it declares before init,
 * converts sizes and durations, and refuses unknown keys, wrong types and
 * missing required options with "file:line: ..." (the server exits non-zero
 * without listening).  --list-modules shows the options.
 */
#include "abi.h"

#include <modnats/modnats.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void settings_valid(void **state)
{
    (void)state;
    it_server *s = abi_start(
        "modules = [\"settings\"];\n"
        "settings = {\n"
        "  name = \"abc\";\n"
        "  count = 5;\n"
        "  enabled = true;\n"
        "  limit = \"64KB\";\n"
        "  wait = \"2s\";\n"
        "  tags = [\"a\", \"b\"];\n"
        "  nested = ( { x = \"one\"; }, { x = \"two\"; } );\n"
        "};\n", NULL, NULL);
    abi_log_expect(s, "[settings] name=abc count=5 (rc=0) enabled=true limit=65536 wait=2000 "
                      "tags=[a,b] nested=[one,two] absent=unchanged (rc=-3)", 2000);
    it_ok();
}

/* The other spellings: one string for a list, one group for a group list,
 * seconds as a plain number, sizes as numbers; absent options untouched. */
static void settings_valid_short_forms(void **state)
{
    (void)state;
    it_server *s = abi_start(
        "modules = [\"settings\"];\n"
        "settings = { name = \"x\"; wait = 3; limit = 1024; tags = \"solo\"; nested = { x = \"g\"; }; };\n",
        NULL, NULL);
    abi_log_expect(s, "[settings] name=x count=-1 (rc=-3) enabled=false limit=1024 wait=3000 "
                      "tags=[solo] nested=[g] absent=unchanged (rc=-3)", 2000);
    it_ok();
}

static void refused_with(const char *group_body, const char *fmt_msg)
{
    char conf[1024];
    snprintf(conf, sizeof conf, "modules = [\"settings\"];\nsettings = {\n  name = \"n\";\n%s\n};\n",
             group_body);
    /* The refusal names the config file: it is written as refusedN.conf in
     * the test's temp dir; fmt_msg has one %s for that path. */
    abi_refusal r;
    abi_run_refused(conf, NULL, &r);
    char conf_path[700], msg[1400], tail[1500];
    snprintf(conf_path, sizeof conf_path, "%.*s.conf", (int)(strlen(r.log) - 4), r.log);
    snprintf(msg, sizeof msg, fmt_msg, conf_path);
    snprintf(tail, sizeof tail, "[FTL] %s", msg);
    if (r.exit_code == 0 || !abi_file_has_line(r.log, tail) || r.sent_info) {
        char cmd[800];
        snprintf(cmd, sizeof cmd, "cat '%s' >&2", r.log);
        if (system(cmd) != 0) {}
        fail_msg("expected exit code != 0 and the line: %s (exit %d)", tail, r.exit_code);
    }
}

static void settings_unknown_key(void **state)
{
    (void)state;
    refused_with("  bogus = 1;", "%s:4: module settings has no option \"bogus\"");
    it_ok();
}

static void settings_wrong_type(void **state)
{
    (void)state;
    refused_with("  count = \"five\";", "%s:4: module settings: \"count\" must be an integer");
    refused_with("  enabled = 1;", "%s:4: module settings: \"enabled\" must be a boolean");
    refused_with("  limit = \"huge\";", "%s:4: module settings: \"limit\" must be a size (integer or \"64KB\")");
    refused_with("  wait = \"soon\";", "%s:4: module settings: \"wait\" must be a duration (seconds or \"2s\")");
    refused_with("  tags = [1, 2];", "%s:4: module settings: \"tags\" must be a list of strings");
    refused_with("  nested = \"flat\";", "%s:4: module settings: \"nested\" must be a group");
    it_ok();
}

static void settings_required_missing(void **state)
{
    (void)state;
    abi_refusal r;
    abi_run_refused("modules = [\"settings\"];\nsettings = { count = 1; };\n", NULL, &r);
    char conf_path[700], tail[1500];
    snprintf(conf_path, sizeof conf_path, "%.*s.conf", (int)(strlen(r.log) - 4), r.log);
    snprintf(tail, sizeof tail, "[FTL] %s:2: module settings needs option \"name\"", conf_path);
    if (r.exit_code == 0 || !abi_file_has_line(r.log, tail))
        fail_msg("expected the line: %s (exit %d)", tail, r.exit_code);

    /* No group at all: still refused, naming the option. */
    abi_run_refused("modules = [\"settings\"];\n", NULL, &r);
    assert_int_not_equal(r.exit_code, 0);
    FILE *f = fopen(r.log, "r");
    char buf[4096] = "";
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
    if (!strstr(buf, "module settings needs option \"name\""))
        fail_msg("no group: %s", buf);
    it_ok();
}

static void settings_list_modules(void **state)
{
    (void)state;
    char conf[700], cmd[2400];
    /* --list-modules validates the settings too: give the required ones. */
    it_write_file("list.conf",
                  "modules = [\"settings\", \"ev_auth\"];\n"
                  "settings = { name = \"x\"; };\nev_auth = { user = \"u\"; pass = \"p\"; };\n",
                  conf, sizeof conf);
    snprintf(cmd, sizeof cmd, "'%s' --list-modules -c '%s' --module_path '%s' 2>&1",
             it_server_binary(), conf, abi_module_dir());
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[8192];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int rc = pclose(p);
    char so[1024], row[1200];
    abi_module_path(abi_module_dir(), "settings.so", so, sizeof so);
    snprintf(row, sizeof row, "%-16s %-10s %u.%-3u %s\n", "settings", "1.0", MODNATS_ABI_MAJOR,
             MODNATS_ABI_MINOR, so);
    const char *want[] = {
        row,
        "    ABI test module settings\n",
        "    name (required): a string. a required string\n",
        "    limit: a size (integer or \"64KB\"). a size\n",
        "    nested: a group. a group or a list of groups\n",
        "    user (required): a string. the one user allowed in\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(out, want[i]))
            fail_msg("--list-modules output lacks \"%s\":\n%s", want[i], out);
    assert_int_equal(rc, 0);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = {
        ABI_TEST(settings_valid), ABI_TEST(settings_valid_short_forms),
        ABI_TEST(settings_unknown_key), ABI_TEST(settings_wrong_type),
        ABI_TEST(settings_required_missing), ABI_TEST(settings_list_modules),
    };
    return ABI_RUN(tests);
}
