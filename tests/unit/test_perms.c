/*
 * test_perms.c - compiled publish/subscribe permissions (core/perms.c), as
 * an auth module hands them over in a modnats_permissions: publish allow
 * and deny lists with wildcards, the per-client publish cache (which must
 * give the same answer as the lists, also once entries are evicted),
 * subscribe checks by subset ("foo.*" is inside "foo.>", not inside
 * "foo.bar"), deny beating allow, allow_responses, and the
 * mn_subject_is_subset table the subscribe checks rest on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perms.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Builds a modnats_permissions over static lists (NULL: none). */
static mn_perms *compile(const char *const *pa, size_t npa, const char *const *pd, size_t npd,
                         const char *const *sa, size_t nsa, const char *const *sd, size_t nsd)
{
    modnats_permissions p;
    memset(&p, 0, sizeof p);
    p.size = sizeof p;
    p.pub_allow = pa; p.n_pub_allow = npa;
    p.pub_deny = pd;  p.n_pub_deny = npd;
    p.sub_allow = sa; p.n_sub_allow = nsa;
    p.sub_deny = sd;  p.n_sub_deny = nsd;
    mn_perms *m = mn_perms_compile(&p);
    assert_non_null(m);
    return m;
}

static bool pub(mn_perms *p, const char *s)
{
    return mn_perms_pub_allowed(p, s, strlen(s));
}

static bool sub(const mn_perms *p, const char *s)
{
    return mn_perms_sub_allowed(p, s, strlen(s), NULL, 0);
}

static void test_compile_refuses(void **state)
{
    (void)state;
    assert_null(mn_perms_compile(NULL));
    modnats_permissions p;
    memset(&p, 0, sizeof p);
    p.size = offsetof(modnats_permissions, reserved) - 1;   /* an older, shorter struct */
    assert_null(mn_perms_compile(&p));
    p.size = offsetof(modnats_permissions, reserved);       /* without the reserved tail */
    mn_perms *m = mn_perms_compile(&p);
    assert_non_null(m);
    mn_perms_free(m);
    /* A NULL entry in a list is refused, not crashed on. */
    const char *holes[] = {"a", NULL};
    p.pub_allow = holes;
    p.n_pub_allow = 2;
    assert_null(mn_perms_compile(&p));
    mn_perms_free(NULL);
}

static void test_compile_copies(void **state)
{
    (void)state;
    char a[] = "foo.>";
    const char *allow[] = {a};
    mn_perms *p = compile(allow, 1, NULL, 0, NULL, 0, NULL, 0);
    a[0] = 'x';     /* the caller's strings may go away */
    assert_true(pub(p, "foo.bar"));
    assert_false(pub(p, "xoo.bar"));
    mn_perms_free(p);
}

static void test_no_lists_allow_all(void **state)
{
    (void)state;
    mn_perms *p = compile(NULL, 0, NULL, 0, NULL, 0, NULL, 0);
    assert_true(pub(p, "anything"));
    assert_true(pub(p, "a.b.c"));
    assert_true(sub(p, ">"));
    assert_true(sub(p, "foo.*"));
    uint32_t max = 99;
    uint64_t exp = 99;
    assert_false(mn_perms_allow_responses(p, &max, &exp));
    assert_int_equal(max, 99);     /* untouched when not allowed */
    mn_perms_free(p);
}

static void test_publish(void **state)
{
    (void)state;
    const char *allow[] = {"foo.>", "bar.*", "baz"};
    const char *deny[] = {"foo.secret.>", "bar.x"};
    mn_perms *p = compile(allow, N(allow), deny, N(deny), NULL, 0, NULL, 0);
    static const struct { const char *subj; bool ok; } t[] = {
        {"foo.a", true}, {"foo.a.b.c", true}, {"foo", false},
        {"bar.y", true}, {"bar.x", false}, {"bar.y.z", false}, {"bar", false},
        {"baz", true}, {"baz.q", false}, {"ba", false}, {"bazz", false},
        {"foo.secret", true}, {"foo.secret.k", false}, {"foo.secret.k.l", false},
        {"x", false}, {"fo.a", false}, {"foo.bar.", false},
    };
    /* Twice: the second round is answered by the cache. */
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < N(t); i++)
            if (pub(p, t[i].subj) != t[i].ok)
                fail_msg("round %d: publish to \"%s\" should be %s", round, t[i].subj,
                         t[i].ok ? "allowed" : "denied");
    mn_perms_free(p);

    /* Deny only: everything else goes. */
    const char *deny2[] = {"*.private", "$SYS.>"};
    p = compile(NULL, 0, deny2, N(deny2), NULL, 0, NULL, 0);
    assert_true(pub(p, "a.public"));
    assert_false(pub(p, "a.private"));
    assert_true(pub(p, "a.b.private"));
    assert_false(pub(p, "$SYS.REQ.SERVER.PING"));
    assert_true(pub(p, "SYS.x"));
    mn_perms_free(p);

    /* Deny wins over an equal allow. */
    const char *all[] = {">"};
    p = compile(all, 1, all, 1, NULL, 0, NULL, 0);
    assert_false(pub(p, "a"));
    assert_false(pub(p, "a.b"));
    mn_perms_free(p);
}

/* The cache must be keyed on the whole subject (bytes and length), and
 * evictions must not change answers. */
static void test_publish_cache(void **state)
{
    (void)state;
    const char *allow[] = {"ok.>"};
    const char *deny[] = {"ok.*.no"};
    mn_perms *p = compile(allow, 1, deny, 1, NULL, 0, NULL, 0);

    /* Same buffer, different lengths. */
    const char *buf = "ok.a.no";
    assert_true(mn_perms_pub_allowed(p, buf, 4));       /* "ok.a" */
    assert_false(mn_perms_pub_allowed(p, buf, 7));      /* "ok.a.no" */
    assert_true(mn_perms_pub_allowed(p, buf, 4));
    assert_false(mn_perms_pub_allowed(p, buf, 2));      /* "ok" */
    assert_false(mn_perms_pub_allowed(p, buf, 7));

    /* Not NUL-terminated subjects (as they sit in the read buffer). */
    char raw[16];
    memcpy(raw, "ok.b.noXXXXXXXXX", 16);
    assert_false(mn_perms_pub_allowed(p, raw, 7));
    assert_true(mn_perms_pub_allowed(p, raw, 6));       /* "ok.b.n" */

    /* Many subjects: far more than the cache holds, several rounds in
     * different orders. */
    char s[64];
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 2000; k++) {
            int i = round == 1 ? 1999 - k : (k * 7919) % 2000;
            bool want;
            switch (i % 3) {
            case 0: snprintf(s, sizeof s, "ok.%d", i); want = true; break;
            case 1: snprintf(s, sizeof s, "ok.%d.no", i); want = false; break;
            default: snprintf(s, sizeof s, "other.%d", i); want = false; break;
            }
            if (pub(p, s) != want || pub(p, s) != want)
                fail_msg("round %d: \"%s\" should be %s", round, s, want ? "allowed" : "denied");
        }
    }
    mn_perms_free(p);
}

static void test_subscribe_subset(void **state)
{
    (void)state;
    const char *gt[] = {"foo.>"};
    mn_perms *p = compile(NULL, 0, NULL, 0, gt, 1, NULL, 0);
    assert_true(sub(p, "foo.*"));
    assert_true(sub(p, "foo.bar"));
    assert_true(sub(p, "foo.>"));
    assert_true(sub(p, "foo.*.baz"));
    assert_true(sub(p, "foo.bar.>"));
    assert_false(sub(p, "foo"));
    assert_false(sub(p, ">"));
    assert_false(sub(p, "*.bar"));
    assert_false(sub(p, "*"));
    assert_false(sub(p, "bar.foo"));
    mn_perms_free(p);

    const char *lit[] = {"foo.bar"};
    p = compile(NULL, 0, NULL, 0, lit, 1, NULL, 0);
    assert_true(sub(p, "foo.bar"));
    assert_false(sub(p, "foo.*"));          /* wider than allowed */
    assert_false(sub(p, "foo.>"));
    assert_false(sub(p, "foo.bar.baz"));
    mn_perms_free(p);

    const char *star[] = {"foo.*"};
    p = compile(NULL, 0, NULL, 0, star, 1, NULL, 0);
    assert_true(sub(p, "foo.bar"));
    assert_true(sub(p, "foo.*"));
    assert_false(sub(p, "foo.>"));          /* '>' is wider than '*' */
    assert_false(sub(p, "foo.bar.baz"));
    mn_perms_free(p);

    const char *full[] = {">"};
    p = compile(NULL, 0, NULL, 0, full, 1, NULL, 0);
    assert_true(sub(p, "*"));
    assert_true(sub(p, ">"));
    assert_true(sub(p, "a.b.c"));
    mn_perms_free(p);

    const char *one[] = {"*"};
    p = compile(NULL, 0, NULL, 0, one, 1, NULL, 0);
    assert_true(sub(p, "a"));
    assert_true(sub(p, "*"));
    assert_false(sub(p, ">"));
    assert_false(sub(p, "a.b"));
    mn_perms_free(p);

    /* Several allow entries: any one covering the pattern is enough. */
    const char *two[] = {"a.*", "b.>"};
    p = compile(NULL, 0, NULL, 0, two, 2, NULL, 0);
    assert_true(sub(p, "a.x"));
    assert_true(sub(p, "b.x.y"));
    assert_false(sub(p, "a.x.y"));
    assert_false(sub(p, "c"));
    /* an entry without a queue covers queue subscriptions too */
    assert_true(mn_perms_sub_allowed(p, "a.x", 3, "workers", 7));
    assert_false(mn_perms_sub_allowed(p, "c.x", 3, "workers", 7));
    mn_perms_free(p);
}

static void test_subscribe_deny_wins(void **state)
{
    (void)state;
    const char *allow[] = {"foo.>"};
    const char *deny[] = {"foo.secret", "foo.private.>"};
    mn_perms *p = compile(NULL, 0, NULL, 0, allow, 1, deny, N(deny));
    assert_true(sub(p, "foo.public"));
    assert_false(sub(p, "foo.secret"));
    assert_false(sub(p, "foo.private.x"));
    assert_false(sub(p, "foo.private.*"));
    assert_false(sub(p, "foo.private.>"));
    assert_true(sub(p, "foo.secret.x"));    /* not inside "foo.secret" */
    mn_perms_free(p);

    /* Deny without allow. */
    const char *d2[] = {"$SYS.>"};
    p = compile(NULL, 0, NULL, 0, NULL, 0, d2, 1);
    assert_true(sub(p, "foo"));
    assert_false(sub(p, "$SYS.x"));
    assert_false(sub(p, "$SYS.*"));
    mn_perms_free(p);

    /* Allow and deny the same: deny. */
    const char *same[] = {"x.*"};
    p = compile(NULL, 0, NULL, 0, same, 1, same, 1);
    assert_false(sub(p, "x.*"));
    assert_false(sub(p, "x.y"));
    mn_perms_free(p);
}

static void test_allow_responses(void **state)
{
    (void)state;
    modnats_permissions src;
    memset(&src, 0, sizeof src);
    src.size = sizeof src;
    src.allow_responses = true;
    mn_perms *p = mn_perms_compile(&src);
    uint32_t max = 0;
    uint64_t exp = 7;
    assert_true(mn_perms_allow_responses(p, &max, &exp));
    assert_int_equal(max, 1);      /* 0 means one response */
    assert_int_equal(exp, 0);
    mn_perms_free(p);

    src.responses_max_msgs = 5;
    src.responses_expires_ms = 60000;
    p = mn_perms_compile(&src);
    assert_true(mn_perms_allow_responses(p, &max, &exp));
    assert_int_equal(max, 5);
    assert_int_equal(exp, 60000);
    mn_perms_free(p);
}

static void test_subject_is_subset(void **state)
{
    (void)state;
    static const struct { const char *pat, *of; bool want; } t[] = {
        {"foo.bar", "foo.bar", true},
        {"foo.bar", "foo.*", true},
        {"foo.bar", "*.bar", true},
        {"foo.bar", "*.*", true},
        {"foo.bar", ">", true},
        {"foo.bar", "foo.>", true},
        {"foo.*", "foo.>", true},
        {"foo.*", "foo.*", true},
        {"foo.>", "foo.>", true},
        {"foo.*.baz", "foo.>", true},
        {"foo.bar.>", "foo.>", true},
        {"*", ">", true},
        {">", ">", true},
        {"*", "*", true},
        {"*.*", ">", true},
        {"foo.*", "foo.bar", false},
        {"foo.>", "foo.*", false},
        {"foo.>", "foo.bar.>", false},
        {">", "*", false},
        {"*.*", "*", false},
        {"*", "foo", false},
        {"foo", "foo.>", false},
        {"foo", "foo.*", false},
        {"foo.bar", "foo", false},
        {"foo.bar.baz", "foo.*", false},
        {"foobar", "foo", false},
        {"foo", "foobar", false},
        {"foo.bar", "foo.baz", false},
        {"foo.bar", "bar.foo", false},
        {">", "foo.>", false},
    };
    for (size_t i = 0; i < N(t); i++)
        if (mn_subject_is_subset(t[i].pat, strlen(t[i].pat), t[i].of, strlen(t[i].of)) !=
            t[i].want)
            fail_msg("is \"%s\" inside \"%s\"? expected %s", t[i].pat, t[i].of,
                     t[i].want ? "yes" : "no");
    /* Lengths, not NULs, end the subjects. */
    assert_true(mn_subject_is_subset("foo.barX", 7, "foo.*Y", 5));
    assert_false(mn_subject_is_subset("foo.bar", 7, "foo.bar.baz", 11));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_refuses),
        cmocka_unit_test(test_compile_copies),
        cmocka_unit_test(test_no_lists_allow_all),
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_publish_cache),
        cmocka_unit_test(test_subscribe_subset),
        cmocka_unit_test(test_subscribe_deny_wins),
        cmocka_unit_test(test_allow_responses),
        cmocka_unit_test(test_subject_is_subset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
