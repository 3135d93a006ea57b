/*
 * test_submap.c - subject patterns between accounts: coverage of one
 * pattern by another (may an import use an export?), and the token
 * mapping of imports (`to`, `prefix`).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../core/submap.h"

static void test_covers(void **state)
{
    (void)state;
    assert_true(mn_subject_covers("a.>", "a.b"));
    assert_true(mn_subject_covers("a.>", "a.b.c"));
    assert_true(mn_subject_covers("a.>", "a.*"));
    assert_true(mn_subject_covers("a.>", "a.>"));
    assert_true(mn_subject_covers(">", "x.y"));
    assert_true(mn_subject_covers("a.*", "a.b"));
    assert_true(mn_subject_covers("a.*", "a.*"));
    assert_true(mn_subject_covers("svc.x", "svc.x"));
    assert_false(mn_subject_covers("a.>", "a"));
    assert_false(mn_subject_covers("a.*", "a.>"));
    assert_false(mn_subject_covers("a.*", "a.b.c"));
    assert_false(mn_subject_covers("a.b", "a.*"));
    assert_false(mn_subject_covers("a.b", "a.c"));
    assert_false(mn_subject_covers("a.b", "a.b.c"));
    assert_false(mn_subject_covers("a.b.c", "a.b"));
}

static void test_overlap(void **state)
{
    (void)state;
    assert_true(mn_subject_overlap("a.>", "a.b"));
    assert_true(mn_subject_overlap("a.*", "*.b"));
    assert_true(mn_subject_overlap(">", "x"));
    assert_true(mn_subject_overlap("a.b", "a.b"));
    assert_false(mn_subject_overlap("a.b", "a.c"));
    assert_false(mn_subject_overlap("a.*", "a.b.c"));
    assert_false(mn_subject_overlap("x.>", "y.>"));
    assert_false(mn_subject_overlap("a.>", "a"));
}

static void test_map_valid(void **state)
{
    (void)state;
    assert_true(mn_subject_map_valid("a.*", "b.*"));
    assert_true(mn_subject_map_valid("a.*.*", "b.*"));
    assert_true(mn_subject_map_valid("a.>", "b.>"));
    assert_true(mn_subject_map_valid("a.*", "x"));
    assert_false(mn_subject_map_valid("a.*", "b.*.*"));
    assert_false(mn_subject_map_valid("a.*", "b.>"));
}

static void check(const char *src, const char *dst, const char *prefix, const char *subj,
                  const char *want)
{
    char out[128];
    int n = mn_subject_map(src, dst, prefix, subj, strlen(subj), out, sizeof out);
    if (!want) {
        assert_int_equal(n, -1);
        return;
    }
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(out, want);
}

static void test_map(void **state)
{
    (void)state;
    check("a.>", "a.>", NULL, "a.b.c", "a.b.c");
    check("a.>", "a.>", "from_e", "a.b.c", "from_e.a.b.c");
    check("a.*", "b.*", NULL, "a.one", "b.one");
    check("a.*.*", "x.*.y.*", NULL, "a.1.2", "x.1.y.2");
    check("a.*.>", "b.*.>", NULL, "a.1.2.3", "b.1.2.3");
    check("svc.x", "x", NULL, "svc.x", "x");
    check("x", "svc.x", NULL, "x", "svc.x");
    check("a.*", "b", NULL, "a.q", "b");
    /* subj does not match src */
    check("a.*", "b.*", NULL, "a.one.two", NULL);
    check("a.*", "b.*", NULL, "c.one", NULL);
    check("a.>", "b.>", NULL, "a", NULL);
    /* too small a buffer */
    char out[4];
    assert_int_equal(mn_subject_map("a.*", "bbbb.*", NULL, "a.x", 3, out, sizeof out), -1);
    assert_int_equal(mn_subject_map("a", "a", "pre", "a", 1, out, sizeof out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_covers),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_map_valid),
        cmocka_unit_test(test_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
