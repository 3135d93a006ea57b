/*
 * test_pace.c - js_pace.c with a clock the test moves: replay original
 * holds each message for its stored gap after the previous delivery
 * (not gaps of 1 ms or less, not past the end of the replay), and the
 * rate limit's bucket (bps / 8 bytes a second, full at the start, a
 * message bigger than the bucket waits for a full one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "js_pace.h"

#define MS 1000000LL
#define S  1000000000LL

static void test_replay_original(void **state)
{
    (void)state;
    js_pace p = {0};
    js_pace_config(&p, true, 0, 0);
    js_pace_start(&p, 3);                    /* stream holds 1..3 */
    int64_t t0 = 100 * S, ts1 = 5 * S;
    assert_int_equal(js_pace_hold(&p, ts1, 10, t0), 0);    /* the first: at once */
    js_pace_sent(&p, ts1, 10, t0);
    /* stored 300 ms later: held until 300 ms after the first left */
    assert_int_equal(js_pace_hold(&p, ts1 + 300 * MS, 10, t0 + 10 * MS), t0 + 300 * MS);
    assert_int_equal(js_pace_hold(&p, ts1 + 300 * MS, 10, t0 + 300 * MS), 0);
    js_pace_sent(&p, ts1 + 300 * MS, 10, t0 + 301 * MS);
    /* a gap of a millisecond or less is not waited for */
    assert_int_equal(js_pace_hold(&p, ts1 + 301 * MS, 10, t0 + 301 * MS), 0);
    js_pace_sent(&p, ts1 + 301 * MS, 10, t0 + 301 * MS);
    /* not idle before the end of the replay; idle at it: live from then on */
    js_pace_idle(&p, 2);
    assert_int_equal(p.replay_state, 1);
    js_pace_idle(&p, 3);
    assert_int_equal(p.replay_state, 2);
    assert_int_equal(js_pace_hold(&p, ts1 + 10 * S, 10, t0 + 302 * MS), 0);
    /* starting again does nothing */
    js_pace_start(&p, 10);
    assert_int_equal(p.replay_state, 2);
}

static void test_instant(void **state)
{
    (void)state;
    js_pace p = {0};
    js_pace_config(&p, false, 0, 0);
    js_pace_start(&p, 3);
    js_pace_sent(&p, 1 * S, 10, 1 * S);
    assert_int_equal(js_pace_hold(&p, 100 * S, 1 << 20, 1 * S), 0);
}

static void test_rate_limit(void **state)
{
    (void)state;
    js_pace p = {0};
    js_pace_config(&p, false, 8000, 2048);    /* 1000 bytes a second, 2048 deep */
    int64_t t = 50 * S;
    assert_int_equal(js_pace_hold(&p, 0, 1000, t), 0);
    js_pace_sent(&p, 0, 1000, t);
    assert_int_equal(js_pace_hold(&p, 0, 1000, t), 0);
    js_pace_sent(&p, 0, 1000, t);
    /* 48 bytes left: 952 more take 952 ms */
    int64_t at = js_pace_hold(&p, 0, 1000, t);
    assert_true(at > t + 951 * MS && at <= t + 953 * MS);
    assert_int_equal(js_pace_hold(&p, 0, 1000, at), 0);
    js_pace_sent(&p, 0, 1000, at);
    /* idle for a minute: the bucket fills to its depth, no more */
    t = at + 60 * S;
    assert_int_equal(js_pace_hold(&p, 0, 2048, t), 0);
    js_pace_sent(&p, 0, 2048, t);
    assert_int_not_equal(js_pace_hold(&p, 0, 1, t), 0);
    /* bigger than the bucket: waits for a full one, then leaves (debt) */
    int64_t full = js_pace_hold(&p, 0, 100000, t);
    assert_true(full > t + 2047 * MS && full <= t + 2049 * MS);
    js_pace_sent(&p, 0, 100000, full);
    assert_true(js_pace_hold(&p, 0, 1, full) > full + 97 * S);
    /* a changed rate is a new, full bucket */
    js_pace_config(&p, false, 16000, 2048);
    assert_int_equal(js_pace_hold(&p, 0, 2048, full), 0);
    /* the same rate keeps the bucket */
    js_pace_sent(&p, 0, 2048, full);
    js_pace_config(&p, false, 16000, 2048);
    assert_int_not_equal(js_pace_hold(&p, 0, 2048, full), 0);
    /* no rate: nothing held */
    js_pace_config(&p, false, 0, 2048);
    assert_int_equal(js_pace_hold(&p, 0, 1 << 20, full), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_original),
        cmocka_unit_test(test_instant),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
