/*
 * test_cfg_where.c - cfg_key and cfg_where (module cfg_walk): the module
 * walks a nested settings group, written in nats-server's format with
 * a nested group, a list of groups and an included file, and logs
 * "key <path>@<file>:<line>" for every member.
 *
 *  cfg_walk_tree: every member, in written order (keys as spelled), with
 *    the file and line it was written on (the included member with the
 *    included file); groups found by cfg_where(key NULL); cfg_key ends
 *    with NULL after the last member; an absent key's place is "?".
 */
#include "abi.h"

#include <stdio.h>
#include <string.h>

static void expect_line(it_server *s, const char *fmt, const char *file)
{
    char want[1200];
    snprintf(want, sizeof want, fmt, file);
    abi_log_expect(s, want, 2000);
}

static void cfg_walk_tree(void **state)
{
    (void)state;
    char inc[600];
    it_write_file("inc.conf", "# included\ngamma: 3\n", inc, sizeof inc);
    it_server *s = abi_start(
        "modules: [\"cfg_walk\"]\n"        /* 1 */
        "cfg_walk {\n"                     /* 2 */
        "  tree {\n"                       /* 3 */
        "    alpha: 1\n"                   /* 4 */
        "    Beta: \"two\"\n"              /* 5 */
        "    inner {\n"                    /* 6 */
        "      deep: true\n"               /* 7 */
        "    }\n"                          /* 8 */
        "    many: [\n"                    /* 9 */
        "      { x: 1 },\n"                /* 10 */
        "      { y: 2 }\n"                 /* 11 */
        "    ]\n"                          /* 12 */
        "    include \"inc.conf\"\n"       /* 13 */
        "  }\n"
        "}\n", NULL, NULL);
    const char *c = s->conf;
    expect_line(s, "[cfg_walk] group tree@%s:3\n", c);
    expect_line(s, "[cfg_walk] key tree.alpha@%s:4\n", c);
    expect_line(s, "[cfg_walk] key tree.Beta@%s:5\n", c);
    expect_line(s, "[cfg_walk] key tree.inner@%s:6\n", c);
    expect_line(s, "[cfg_walk] group tree.inner@%s:6\n", c);
    expect_line(s, "[cfg_walk] key tree.inner.deep@%s:7\n", c);
    expect_line(s, "[cfg_walk] end tree.inner n=1\n", c);
    expect_line(s, "[cfg_walk] key tree.many@%s:9\n", c);
    expect_line(s, "[cfg_walk] group tree.many[0]@%s:10\n", c);
    expect_line(s, "[cfg_walk] key tree.many[0].x@%s:10\n", c);
    expect_line(s, "[cfg_walk] group tree.many[1]@%s:11\n", c);
    expect_line(s, "[cfg_walk] key tree.many[1].y@%s:11\n", c);
    expect_line(s, "[cfg_walk] key tree.gamma@%s:2\n", inc);
    expect_line(s, "[cfg_walk] end tree n=5\n", c);
    expect_line(s, "[cfg_walk] absent@?\n", c);
    /* Written order. */
    long a = abi_log_find(s, "key tree.alpha@"), b = abi_log_find(s, "key tree.Beta@"),
         i = abi_log_find(s, "key tree.inner@"), m = abi_log_find(s, "key tree.many@"),
         g = abi_log_find(s, "key tree.gamma@");
    assert_true(a < b && b < i && i < m && m < g);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(cfg_walk_tree) };
    return ABI_RUN(tests);
}
