/*
 * test_json.c - unit tests of the CONNECT / INFO JSON reader (core/json.c).
 *
 * Inputs are parsed from exact-size heap copies that are freed before the
 * results are read, so AddressSanitizer catches both reads past the input
 * and results that still point into it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

static int parse_n(mn_json *j, const char *text, size_t n)
{
    char *c = malloc(n ? n : 1);
    assert_non_null(c);
    memcpy(c, text, n);
    int rc = mn_json_parse(j, c, n);
    free(c);
    return rc;
}

static int parse(mn_json *j, const char *text)
{
    return parse_n(j, text, strlen(text));
}

static void expect_invalid(const char *text, size_t pos)
{
    mn_json j;
    if (parse(&j, text) != MN_EINVAL) {
        print_error("accepted: %s\n", text);
        fail();
    }
    assert_non_null(j.err);
    if (j.err_pos != pos) {
        print_error("%s: error '%s' at %zu, want %zu\n", text, j.err,
                    j.err_pos, pos);
        fail();
    }
    assert_null(j.members);
}

static void test_connect_object(void **state)
{
    (void)state;
    mn_json     j;
    const char *s;
    size_t      len;
    bool        b;
    int64_t     i;

    assert_int_equal(parse(&j,
        " {\"verbose\":false,\"pedantic\":true,\"tls_required\":false,"
        "\"name\":\"my app\",\"lang\":\"go\",\"version\":\"1.22.1\","
        "\"protocol\":1,\"echo\":true,\"headers\":true,\"no_responders\":true,"
        "\"user\":null} \r\n"), MN_OK);
    assert_int_equal(j.count, 11);
    assert_int_equal(mn_json_get_bool(&j, "verbose", &b), MN_OK);
    assert_false(b);
    assert_int_equal(mn_json_get_bool(&j, "pedantic", &b), MN_OK);
    assert_true(b);
    assert_int_equal(mn_json_get_str(&j, "name", &s, &len), MN_OK);
    assert_int_equal(len, 6);
    assert_string_equal(s, "my app");
    assert_int_equal(mn_json_get_int(&j, "protocol", &i), MN_OK);
    assert_int_equal(i, 1);
    /* null and absent both leave a setting alone */
    assert_int_equal(mn_json_get_str(&j, "user", &s, &len), MN_ENOTFOUND);
    assert_int_equal(mn_json_get_str(&j, "pass", &s, &len), MN_ENOTFOUND);
    /* wrong types are errors, as they are for Go's decoder */
    assert_int_equal(mn_json_get_int(&j, "name", &i), MN_EINVAL);
    assert_int_equal(mn_json_get_bool(&j, "protocol", &b), MN_EINVAL);
    assert_int_equal(mn_json_get_str(&j, "echo", &s, NULL), MN_EINVAL);
    assert_int_equal(j.members[10].type, MN_JSON_NULL);
    assert_null(j.members[10].str);
    mn_json_free(&j);
    assert_null(j.members);
    assert_int_equal(j.count, 0);
    mn_json_free(&j);   /* twice is harmless */
}

static void test_empty_object(void **state)
{
    (void)state;
    mn_json j;
    assert_int_equal(parse(&j, "{}"), MN_OK);
    assert_int_equal(j.count, 0);
    assert_null(mn_json_find(&j, "x"));
    mn_json_free(&j);
    assert_int_equal(parse(&j, "\t\r\n { \n } \n"), MN_OK);
    assert_int_equal(j.count, 0);
    mn_json_free(&j);
}

static void test_escapes(void **state)
{
    (void)state;
    mn_json     j;
    const char *s;
    size_t      len;

    assert_int_equal(parse(&j,
        "{\"a\":\"q\\\"b\\\\s\\/n\\nr\\rt\\tb\\bf\\f\","
        "\"u\":\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\","
        "\"k\\u0065y\":\"v\",\"nul\":\"x\\u0000y\","
        "\"raw\":\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}"), MN_OK);
    assert_int_equal(mn_json_get_str(&j, "a", &s, &len), MN_OK);
    assert_string_equal(s, "q\"b\\s/n\nr\rt\tb\bf\f");
    assert_int_equal(mn_json_get_str(&j, "u", &s, &len), MN_OK);
    assert_string_equal(s, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_int_equal(len, 1 + 2 + 3 + 4);
    /* keys are unescaped too */
    assert_int_equal(mn_json_get_str(&j, "key", &s, &len), MN_OK);
    assert_string_equal(s, "v");
    assert_int_equal(mn_json_get_str(&j, "nul", &s, &len), MN_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "x\0y", 4);
    assert_int_equal(mn_json_get_str(&j, "raw", &s, &len), MN_OK);
    assert_string_equal(s, "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    mn_json_free(&j);
}

static void test_lenient_utf8(void **state)
{
    (void)state;
    mn_json     j;
    const char *s;
    size_t      len;
#define FFFD "\xef\xbf\xbd"
    /* Go turns invalid UTF-8 and lone surrogates into U+FFFD */
    assert_int_equal(parse(&j,
        "{\"a\":\"\\ud800x\",\"b\":\"\\udc00\",\"c\":\"\\ud800\\u0041\","
        "\"d\":\"\xff\xc3(\",\"e\":\"\xed\xa0\x80\",\"f\":\"\xc0\xaf\","
        "\"g\":\"\xf4\x90\x80\x80\",\"h\":\"\xe2\x82\"}"), MN_OK);
    assert_int_equal(mn_json_get_str(&j, "a", &s, &len), MN_OK);
    assert_string_equal(s, FFFD "x");
    assert_int_equal(mn_json_get_str(&j, "b", &s, &len), MN_OK);
    assert_string_equal(s, FFFD);
    assert_int_equal(mn_json_get_str(&j, "c", &s, &len), MN_OK);
    assert_string_equal(s, FFFD "A");
    assert_int_equal(mn_json_get_str(&j, "d", &s, &len), MN_OK);
    assert_string_equal(s, FFFD FFFD "(");
    assert_int_equal(mn_json_get_str(&j, "e", &s, &len), MN_OK);
    assert_string_equal(s, FFFD FFFD FFFD);
    assert_int_equal(mn_json_get_str(&j, "f", &s, &len), MN_OK);
    assert_string_equal(s, FFFD FFFD);
    assert_int_equal(mn_json_get_str(&j, "g", &s, &len), MN_OK);
    assert_string_equal(s, FFFD FFFD FFFD FFFD);
    assert_int_equal(mn_json_get_str(&j, "h", &s, &len), MN_OK);
    assert_string_equal(s, FFFD FFFD);
    mn_json_free(&j);
#undef FFFD
}

static void test_numbers(void **state)
{
    (void)state;
    mn_json               j;
    int64_t               i;
    const mn_json_member *m;

    assert_int_equal(parse(&j,
        "{\"zero\":0,\"neg\":-42,\"max\":9223372036854775807,"
        "\"min\":-9223372036854775808,\"over\":9223372036854775808,"
        "\"huge\":123456789012345678901234567890,\"frac\":1.5,"
        "\"exp\":1e3,\"both\":-2.5E-2,\"negzero\":-0}"), MN_OK);
    assert_int_equal(mn_json_get_int(&j, "zero", &i), MN_OK);
    assert_int_equal(i, 0);
    assert_int_equal(mn_json_get_int(&j, "neg", &i), MN_OK);
    assert_int_equal(i, -42);
    assert_int_equal(mn_json_get_int(&j, "max", &i), MN_OK);
    assert_true(i == INT64_MAX);
    assert_int_equal(mn_json_get_int(&j, "min", &i), MN_OK);
    assert_true(i == INT64_MIN);
    assert_int_equal(mn_json_get_int(&j, "over", &i), MN_EINVAL);
    assert_int_equal(mn_json_get_int(&j, "huge", &i), MN_EINVAL);
    assert_int_equal(mn_json_get_int(&j, "frac", &i), MN_EINVAL);
    assert_int_equal(mn_json_get_int(&j, "exp", &i), MN_EINVAL);
    assert_int_equal(mn_json_get_int(&j, "negzero", &i), MN_OK);
    assert_int_equal(i, 0);

    m = mn_json_find(&j, "frac");
    assert_non_null(m);
    assert_int_equal(m->type, MN_JSON_NUMBER);
    assert_true(m->d == 1.5);
    assert_string_equal(m->str, "1.5");
    m = mn_json_find(&j, "exp");
    assert_true(m->d == 1000.0);
    m = mn_json_find(&j, "both");
    assert_true(m->d == -0.025);
    assert_string_equal(m->str, "-2.5E-2");
    m = mn_json_find(&j, "huge");
    assert_true(m->d > 1.2e29 && m->d < 1.3e29);
    m = mn_json_find(&j, "neg");
    assert_true(m->is_int && m->d == -42.0);
    mn_json_free(&j);
}

static void test_nested_values(void **state)
{
    (void)state;
    mn_json               j;
    const mn_json_member *m;
    bool                  b;

    assert_int_equal(parse(&j,
        "{\"connect_urls\":[\"a:1\", \"b:2\"],\"obj\":{\"x\":{\"y\":[1,{},[]]},"
        "\"z\":\"}\"},\"e\":[],\"after\":true}"), MN_OK);
    assert_int_equal(j.count, 4);
    m = mn_json_find(&j, "connect_urls");
    assert_int_equal(m->type, MN_JSON_ARRAY);
    assert_string_equal(m->str, "[\"a:1\", \"b:2\"]");
    assert_int_equal(m->str_len, strlen(m->str));
    m = mn_json_find(&j, "obj");
    assert_int_equal(m->type, MN_JSON_OBJECT);
    assert_string_equal(m->str, "{\"x\":{\"y\":[1,{},[]]},\"z\":\"}\"}");
    m = mn_json_find(&j, "e");
    assert_string_equal(m->str, "[]");
    assert_int_equal(mn_json_get_bool(&j, "after", &b), MN_OK);
    assert_true(b);
    const char *s;
    assert_int_equal(mn_json_get_str(&j, "obj", &s, NULL), MN_EINVAL);
    mn_json_free(&j);
}

static void test_depth_limit(void **state)
{
    (void)state;
    char    buf[512];
    mn_json j;
    /* the top-level object is depth 0; nested values may go 64 deep */
    for (int depth = MN_JSON_MAX_DEPTH; depth <= MN_JSON_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        n += (size_t)sprintf(buf, "{\"a\":");
        for (int k = 0; k < depth; k++)
            buf[n++] = '[';
        for (int k = 0; k < depth; k++)
            buf[n++] = ']';
        buf[n++] = '}';
        int rc = parse_n(&j, buf, n);
        if (depth == MN_JSON_MAX_DEPTH) {
            assert_int_equal(rc, MN_OK);
            mn_json_free(&j);
        } else {
            assert_int_equal(rc, MN_EINVAL);
            assert_string_equal(j.err, "nesting too deep");
            assert_int_equal(j.err_pos, 5 + MN_JSON_MAX_DEPTH);
        }
    }
    /* a very deep input does not blow the stack */
    size_t big = 1 << 20;
    char  *deep = malloc(big);
    assert_non_null(deep);
    memcpy(deep, "{\"a\":", 5);
    memset(deep + 5, '[', big - 5);
    assert_int_equal(mn_json_parse(&j, deep, big), MN_EINVAL);
    assert_string_equal(j.err, "nesting too deep");
    free(deep);
}

static void test_lookup_rules(void **state)
{
    (void)state;
    mn_json     j;
    const char *s;
    int64_t     i;
    assert_int_equal(parse(&j,
        "{\"User\":\"a\",\"user\":\"b\",\"PASS\":\"p\",\"n\":1,\"n\":2,"
        "\"\":\"empty\"}"), MN_OK);
    /* last one wins, names fold ASCII case */
    assert_int_equal(mn_json_get_str(&j, "user", &s, NULL), MN_OK);
    assert_string_equal(s, "b");
    assert_int_equal(mn_json_get_str(&j, "USER", &s, NULL), MN_OK);
    assert_string_equal(s, "b");
    assert_int_equal(mn_json_get_str(&j, "pass", &s, NULL), MN_OK);
    assert_string_equal(s, "p");
    assert_int_equal(mn_json_get_int(&j, "n", &i), MN_OK);
    assert_int_equal(i, 2);
    assert_int_equal(mn_json_get_str(&j, "", &s, NULL), MN_OK);
    assert_string_equal(s, "empty");
    assert_null(mn_json_find(&j, "use"));
    assert_null(mn_json_find(&j, "users"));
    assert_int_equal(j.count, 6);
    assert_string_equal(j.members[0].key, "User");
    mn_json_free(&j);
}

static void test_invalid(void **state)
{
    (void)state;
    expect_invalid("", 0);
    expect_invalid("   ", 3);
    expect_invalid("[]", 0);
    expect_invalid("\"x\"", 0);
    expect_invalid("{", 1);
    expect_invalid("{\"a\"", 4);
    expect_invalid("{\"a\":", 5);
    expect_invalid("{\"a\":1", 6);
    expect_invalid("{\"a\":1,}", 7);
    expect_invalid("{,}", 1);
    expect_invalid("{a:1}", 1);
    expect_invalid("{'a':1}", 1);
    expect_invalid("{\"a\" 1}", 5);
    expect_invalid("{\"a\":1 \"b\":2}", 7);
    expect_invalid("{\"a\":1}x", 7);
    expect_invalid("{\"a\":1}{}", 7);
    expect_invalid("{\"a\":tru}", 5);
    expect_invalid("{\"a\":True}", 5);
    expect_invalid("{\"a\":nul}", 5);
    expect_invalid("{\"a\":undefined}", 5);
    /* numbers */
    expect_invalid("{\"a\":01}", 6);
    expect_invalid("{\"a\":-}", 6);
    expect_invalid("{\"a\":+1}", 5);
    expect_invalid("{\"a\":1.}", 7);
    expect_invalid("{\"a\":.5}", 5);
    expect_invalid("{\"a\":1e}", 7);
    expect_invalid("{\"a\":1e+}", 8);
    expect_invalid("{\"a\":0x10}", 6);
    expect_invalid("{\"a\":NaN}", 5);
    /* strings */
    expect_invalid("{\"a\":\"x}", 8);
    expect_invalid("{\"a\":\"\\x\"}", 7);
    expect_invalid("{\"a\":\"\\u12\"}", 8);
    expect_invalid("{\"a\":\"\\u12g4\"}", 8);
    expect_invalid("{\"a\":\"\\ud800\\u12\"}", 14);
    expect_invalid("{\"a\":\"tab\there\"}", 9);
    expect_invalid("{\"a\":\"nl\n\"}", 8);
    expect_invalid("{\"a\":\"x\\", 7);
    expect_invalid("{\"a\\q\":1}", 4);
    /* nested */
    expect_invalid("{\"a\":[1,]}", 8);
    expect_invalid("{\"a\":[1 2]}", 8);
    expect_invalid("{\"a\":{\"b\"}}", 9);
    expect_invalid("{\"a\":{1:2}}", 6);
    expect_invalid("{\"a\":{\"b\":1,}}", 12);
    expect_invalid("{\"a\":[\"\\z\"]}", 8);
    expect_invalid("{\"a\":[}", 6);
    expect_invalid("{\"a\":[", 6);

    /* an embedded NUL is not whitespace */
    mn_json j;
    assert_int_equal(parse_n(&j, "{}\0", 3), MN_EINVAL);
    assert_int_equal(j.err_pos, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_object),
        cmocka_unit_test(test_empty_object),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_lenient_utf8),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_nested_values),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_lookup_rules),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
