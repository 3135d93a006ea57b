/*
 * test_format.c - the monitor's JSON writer and Go-compatible formats
 * (modules/monitor/json.c) on their own: indentation and escaping as Go's
 * json.MarshalIndent, RFC 3339 nanosecond times, Go duration strings,
 * nats-server's uptime strings and shortest float forms.  The expected
 * strings were taken from nats-server 2.9.10 output and Go's documented
 * formats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "monitor.h"

static char *take(mon_json *j)
{
    assert_false(j->oom);
    return mon_json_take(j, NULL);
}

static void test_indent_like_go(void **state)
{
    mon_json j;
    mon_json_init(&j);
    mon_json_obj_begin(&j, NULL);
    mon_json_str(&j, "server_id", "NABC");
    mon_json_i64(&j, "port", 4222);
    mon_json_obj_begin(&j, "cluster");
    mon_json_obj_end(&j);
    mon_json_arr_begin(&j, "connections");
    mon_json_arr_end(&j);
    mon_json_arr_begin(&j, "subs");
    mon_json_str(&j, NULL, "foo");
    mon_json_str(&j, NULL, "bar");
    mon_json_arr_end(&j);
    mon_json_obj_begin(&j, "http_req_stats");
    mon_json_u64(&j, "/varz", 1);
    mon_json_obj_end(&j);
    mon_json_bool(&j, "ok", true);
    mon_json_obj_end(&j);
    char *s = take(&j);
    assert_string_equal(s,
        "{\n"
        "  \"server_id\": \"NABC\",\n"
        "  \"port\": 4222,\n"
        "  \"cluster\": {},\n"
        "  \"connections\": [],\n"
        "  \"subs\": [\n"
        "    \"foo\",\n"
        "    \"bar\"\n"
        "  ],\n"
        "  \"http_req_stats\": {\n"
        "    \"/varz\": 1\n"
        "  },\n"
        "  \"ok\": true\n"
        "}");
    free(s);
}

static void test_escaping_like_go(void **state)
{
    mon_json j;
    mon_json_init(&j);
    mon_json_str(&j, NULL, "bar.> <&> \"q\" \\ \n\t\x01 caf\xc3\xa9 \xff end \xe2\x80\xa8");
    char *s = take(&j);
    assert_string_equal(s, "\"bar.\\u003e \\u003c\\u0026\\u003e \\\"q\\\" \\\\ \\n\\t\\u0001 "
                           "caf\xc3\xa9 \\ufffd end \\u2028\"");
    free(s);
    mon_json_init(&j);
    mon_json_str(&j, NULL, NULL);
    s = take(&j);
    assert_string_equal(s, "\"\"");
    free(s);
}

static void test_time_rfc3339nano(void **state)
{
    char b[64];
    /* 2026-11-22T00:34:53.62238076Z: trailing zeros cut */
    mon_fmt_time(b, sizeof(b), 1795307693622380760LL);
    assert_string_equal(b, "2026-11-22T00:34:53.62238076Z");
    mon_fmt_time(b, sizeof(b), 1795307693000000000LL);
    assert_string_equal(b, "2026-11-22T00:34:53Z");
    mon_fmt_time(b, sizeof(b), 1795307693500000000LL);
    assert_string_equal(b, "2026-11-22T00:34:53.5Z");
}

static void test_go_duration(void **state)
{
    static const struct { int64_t ns; const char *s; } cases[] = {
        { 0, "0s" }, { 1, "1ns" }, { 999, "999ns" }, { 1000, "1\xc2\xb5s" },
        { 430000, "430\xc2\xb5s" }, { 1500, "1.5\xc2\xb5s" }, { 1500000, "1.5ms" },
        { 1000000000, "1s" }, { 1500000000, "1.5s" }, { 62000000000LL, "1m2s" },
        { 3600000000000LL, "1h0m0s" }, { 3723500000000LL, "1h2m3.5s" }, { -2000000, "-2ms" },
    };
    char b[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mon_fmt_go_duration(b, sizeof(b), cases[i].ns);
        assert_string_equal(b, cases[i].s);
    }
}

static void test_uptime(void **state)
{
    static const struct { int64_t s; const char *str; } cases[] = {
        { 0, "0s" }, { 9, "9s" }, { 62, "1m2s" }, { 3601, "1h0m1s" },
        { 86400 + 3600 + 60 + 1, "1d1h1m1s" }, { 366 * 86400LL, "1y1d0h0m0s" },
    };
    char b[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mon_fmt_uptime(b, sizeof(b), cases[i].s * 1000000000LL + 999999999);
        assert_string_equal(b, cases[i].str);
    }
    mon_fmt_uptime(b, sizeof(b), -5);
    assert_string_equal(b, "0s");
}

static void test_double(void **state)
{
    static const struct { double v; const char *s; } cases[] = {
        { 0, "0" }, { 2, "2" }, { 0.8, "0.8" }, { 0.875, "0.875" }, { 1.0 / 3, "0.3333333333333333" },
        { 12.5, "12.5" }, { 1e-7, "1e-7" }, { 1e21, "1e+21" }, { -3.25, "-3.25" },
    };
    char b[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mon_fmt_double(b, sizeof(b), cases[i].v);
        assert_string_equal(b, cases[i].s);
    }
}

static void test_large_output_grows(void **state)
{
    mon_json j;
    mon_json_init(&j);
    mon_json_arr_begin(&j, NULL);
    for (int i = 0; i < 20000; i++)
        mon_json_u64(&j, NULL, (uint64_t)i);
    mon_json_arr_end(&j);
    size_t len;
    assert_false(j.oom);
    char *s = mon_json_take(&j, &len);
    assert_int_equal(len, strlen(s));
    assert_true(len > 20000 * 5);
    assert_memory_equal(s + len - 9, "  19999\n]", 9);
    free(s);
}

/* Compact JSON from another module spliced in: indented as the rest,
 * Go's escaping, nothing written when it does not parse. */
static void test_raw_splice(void **state)
{
    (void)state;
    mon_json j;
    mon_json_init(&j);
    mon_json_obj_begin(&j, NULL);
    mon_json_str(&j, "server_id", "N");
    assert_true(mon_json_raw_members(&j, "{\"a\":1,\"b\":{\"c\":[\"x>y\",2],\"e\":{}},\"f\":[]}"));
    assert_true(mon_json_raw(&j, "g", " { \"h\" : \"q\\\"&\" , \"i\": -1.5e3 } "));
    assert_false(mon_json_raw(&j, "bad", "{\"x\":"));
    assert_false(mon_json_raw(&j, "bad", "{\"x\":1} trailing"));
    assert_false(mon_json_raw_members(&j, "[1]"));
    assert_false(mon_json_raw(&j, "bad", NULL));
    mon_json_obj_end(&j);
    char *s = take(&j);
    assert_string_equal(s,
        "{\n"
        "  \"server_id\": \"N\",\n"
        "  \"a\": 1,\n"
        "  \"b\": {\n"
        "    \"c\": [\n"
        "      \"x\\u003ey\",\n"
        "      2\n"
        "    ],\n"
        "    \"e\": {}\n"
        "  },\n"
        "  \"f\": [],\n"
        "  \"g\": {\n"
        "    \"h\": \"q\\\"\\u0026\",\n"
        "    \"i\": -1.5e3\n"
        "  }\n"
        "}");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indent_like_go),
        cmocka_unit_test(test_escaping_like_go),
        cmocka_unit_test(test_time_rfc3339nano),
        cmocka_unit_test(test_go_duration),
        cmocka_unit_test(test_uptime),
        cmocka_unit_test(test_double),
        cmocka_unit_test(test_large_output_grows),
        cmocka_unit_test(test_raw_splice),
    };
    return cmocka_run_group_tests_name("monitor.format", tests, NULL, NULL);
}
