/*
 * test_store.c - the jetstream storage layer (js_store.c) on a real
 * RocksDB in a temp dir: sequence scans with filters, last/first by
 * subject, per-subject counts, deletes, uncommitted reads, stream drop,
 * state records, and everything again after closing and reopening.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "js_store.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/js_store_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static js_db *open_db(bool memory)
{
    char err[512] = "";
    js_db *d = js_db_open(dir, memory, err, sizeof err);
    if (!d)
        fail_msg("open: %s", err);
    return d;
}

static void put(js_db *d, uint64_t id, uint64_t seq, const char *subj, const char *data)
{
    js_db_put_msg(d, id, seq, (int64_t)seq * 1000, subj, strlen(subj), NULL, 0, data,
                  strlen(data));
}

static void commit(js_db *d)
{
    char err[512];
    assert_int_equal(js_db_commit(d, true, err, sizeof err), 0);
}

static void check_msg(js_db *d, uint64_t id, uint64_t seq, const char *subj, const char *data)
{
    js_msg *m = js_db_get_msg(d, id, seq);
    assert_non_null(m);
    assert_int_equal(m->seq, seq);
    assert_int_equal(m->ts, (int64_t)seq * 1000);
    assert_int_equal(m->subject_len, strlen(subj));
    assert_memory_equal(m->subject, subj, strlen(subj));
    assert_int_equal(m->data_len, strlen(data));
    assert_memory_equal(m->data, data, strlen(data));
    js_msg_free(m);
}

static uint64_t next_seq(js_db *d, uint64_t id, uint64_t from, const char *filter)
{
    js_msg *m = js_db_next_msg(d, id, from, filter);
    uint64_t s = m ? m->seq : 0;
    js_msg_free(m);
    return s;
}

static void count_cb(void *ud, const char *subj, uint64_t n)
{
    (void)subj;
    *(uint64_t *)ud += n * 1000 + 1;    /* subjects * 1 + messages * 1000 */
}

/* Two streams side by side: 1 holds a.1 a.2 a.1 b.x a.1 (seqs 1..5),
 * 2 holds a.1 (seq 1). */
static void fill(js_db *d)
{
    put(d, 1, 1, "a.1", "one");
    put(d, 1, 2, "a.2", "two");
    put(d, 1, 3, "a.1", "three");
    put(d, 1, 4, "b.x", "four");
    put(d, 1, 5, "a.1", "five");
    put(d, 2, 1, "a.1", "other stream");
}

static void check_filled(js_db *d)
{
    check_msg(d, 1, 3, "a.1", "three");
    check_msg(d, 2, 1, "a.1", "other stream");
    assert_null(js_db_get_msg(d, 1, 6));
    assert_null(js_db_get_msg(d, 3, 1));
    /* scans */
    assert_int_equal(next_seq(d, 1, 1, NULL), 1);
    assert_int_equal(next_seq(d, 1, 2, "a.1"), 3);
    assert_int_equal(next_seq(d, 1, 4, "a.*"), 5);
    assert_int_equal(next_seq(d, 1, 1, "b.>"), 4);
    assert_int_equal(next_seq(d, 1, 6, NULL), 0);
    assert_int_equal(next_seq(d, 1, 1, "c.*"), 0);
    assert_int_equal(next_seq(d, 2, 2, NULL), 0);
    /* by subject */
    assert_int_equal(js_db_last_seq_by_subject(d, 1, "a.1", 3), 5);
    assert_int_equal(js_db_last_seq_by_subject(d, 1, "a.2", 3), 2);
    assert_int_equal(js_db_last_seq_by_subject(d, 1, "a", 1), 0);
    assert_int_equal(js_db_last_seq_by_subject(d, 2, "a.1", 3), 1);
    assert_int_equal(js_db_first_seq_by_subject(d, 1, "a.1", 3, 2), 3);
    assert_int_equal(js_db_first_seq_by_subject(d, 1, "a.1", 3, 6), 0);
    assert_int_equal(js_db_subject_count(d, 1, "a.1", 3), 3);
    assert_int_equal(js_db_subject_count(d, 1, "b.x", 3), 1);
    assert_int_equal(js_db_subject_count(d, 1, "zz", 2), 0);
    uint64_t acc = 0;
    js_db_subjects_foreach(d, 1, count_cb, &acc);
    assert_int_equal(acc, 5 * 1000 + 3);
}

/* js_db_next_msgs(from, max) must give what js_db_next_msg gives one
 * call after the other, for every start, filter and max. */
static void check_next_msgs(js_db *d, uint64_t id)
{
    static const char *const filters[] = {NULL, ">", "a.1", "a.*", "b.>", "c.y", "zz"};
    for (size_t f = 0; f < sizeof filters / sizeof *filters; f++) {
        for (uint64_t from = 1; from <= 9; from++) {
            for (size_t max = 1; max <= 8; max++) {
                js_msg *got[8];
                size_t n = js_db_next_msgs(d, id, from, filters[f], got, max);
                assert_true(n <= max);
                uint64_t at = from;
                for (size_t i = 0; i < max; i++) {
                    uint64_t want = next_seq(d, id, at, filters[f]);
                    if (!want) {
                        assert_int_equal(n, i);
                        break;
                    }
                    assert_true(i < n);
                    assert_int_equal(got[i]->seq, want);
                    at = want + 1;
                }
                for (size_t i = 0; i < n; i++)
                    js_msg_free(got[i]);
            }
        }
    }
}

static void test_next_msgs(void **state)
{
    (void)state;
    js_db *d = open_db(false);
    fill(d);
    check_next_msgs(d, 1);    /* all pending */
    commit(d);
    check_next_msgs(d, 1);    /* all in the database */
    /* mixed: a committed message deleted, new ones pending */
    assert_true(js_db_del_msg(d, 1, 3, NULL));
    put(d, 1, 6, "a.1", "six");
    put(d, 1, 7, "c.y", "seven");
    put(d, 1, 8, "a.2", "eight");
    check_next_msgs(d, 1);
    check_next_msgs(d, 2);
    js_msg *m[4];
    size_t n = js_db_next_msgs(d, 1, 1, "a.1", m, 4);
    assert_int_equal(n, 3);    /* 1 5 6: 3 is gone */
    assert_int_equal(m[0]->seq, 1);
    assert_int_equal(m[1]->seq, 5);
    assert_int_equal(m[2]->seq, 6);
    assert_memory_equal(m[2]->data, "six", 3);
    for (size_t i = 0; i < n; i++)
        js_msg_free(m[i]);
    commit(d);
    check_next_msgs(d, 1);
    assert_int_equal(js_db_next_msgs(d, 1, 1, NULL, m, 0), 0);
    js_db_close(d);
}

static void test_put_get_scan(void **state)
{
    (void)state;
    js_db *d = open_db(false);
    fill(d);
    check_filled(d);    /* uncommitted: read from the batch */
    assert_true(js_db_pending(d));
    commit(d);
    assert_false(js_db_pending(d));
    check_filled(d);    /* committed */
    js_db_close(d);
    d = open_db(false);
    check_filled(d);    /* reopened */
    js_db_close(d);
}

static void test_delete_and_counts(void **state)
{
    (void)state;
    js_db *d = open_db(false);
    fill(d);
    commit(d);
    js_msg *m = NULL;
    assert_true(js_db_del_msg(d, 1, 5, &m));
    assert_non_null(m);
    assert_int_equal(m->data_len, 4);
    js_msg_free(m);
    assert_false(js_db_del_msg(d, 1, 5, NULL));
    assert_int_equal(js_db_last_seq_by_subject(d, 1, "a.1", 3), 3);
    assert_int_equal(js_db_subject_count(d, 1, "a.1", 3), 2);
    assert_true(js_db_del_msg(d, 1, 4, NULL));
    assert_int_equal(js_db_subject_count(d, 1, "b.x", 3), 0);
    /* committed messages deleted in the pending batch are gone for every read */
    assert_int_equal(next_seq(d, 1, 4, NULL), 0);
    assert_int_equal(next_seq(d, 1, 1, "b.*"), 0);
    assert_int_equal(js_db_first_seq_by_subject(d, 1, "a.1", 3, 4), 0);
    assert_int_equal(js_db_last_seq_by_subject(d, 1, "b.x", 3), 0);
    put(d, 1, 6, "a.1", "six");    /* and a new one after them */
    assert_int_equal(next_seq(d, 1, 4, NULL), 6);
    assert_int_equal(js_db_last_seq_by_subject(d, 1, "a.1", 3), 6);
    assert_int_equal(js_db_first_seq_by_subject(d, 1, "a.1", 3, 4), 6);
    assert_true(js_db_del_msg(d, 1, 6, NULL));
    uint64_t acc = 0;
    js_db_subjects_foreach(d, 1, count_cb, &acc);
    assert_int_equal(acc, 3 * 1000 + 2);    /* b.x is gone from the counts */
    commit(d);
    js_db_close(d);
    d = open_db(false);
    assert_null(js_db_get_msg(d, 1, 5));
    assert_int_equal(js_db_last_seq_by_subject(d, 1, "a.1", 3), 3);
    assert_int_equal(next_seq(d, 1, 4, NULL), 0);
    js_db_close(d);
}

static void meta_cb(void *ud, uint64_t id, const char *account, const char *name,
                    const char *config, int64_t created)
{
    char *out = ud;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%llu:%s:%s:%s:%lld;", (unsigned long long)id, account, name,
             config, (long long)created);
}

static void test_streams_state_drop(void **state)
{
    (void)state;
    js_db *d = open_db(false);
    uint64_t a = js_db_new_id(d), b = js_db_new_id(d);
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    js_db_put_stream(d, a, "$G", "A", "{\"name\":\"A\"}", 7);
    js_db_put_stream(d, b, "ACC", "B", "{}", 8);
    js_state st = {.first_seq = 1, .last_seq = 5, .msgs = 5, .bytes = 99, .first_ts = 10,
                   .last_ts = 50};
    js_db_put_state(d, a, &st);
    fill(d);
    commit(d);
    js_db_close(d);

    d = open_db(false);
    assert_int_equal(js_db_new_id(d), 3);    /* the counter survived */
    char out[512] = "";
    js_db_streams_foreach(d, meta_cb, out);
    assert_string_equal(out, "1:$G:A:{\"name\":\"A\"}:7;2:ACC:B:{}:8;");
    js_state got;
    assert_true(js_db_get_state(d, a, &got));
    assert_memory_equal(&got, &st, sizeof st);
    assert_false(js_db_get_state(d, b, &got));

    assert_int_equal(js_db_drop_stream(d, a, "$G", "A"), 0);
    assert_null(js_db_get_msg(d, 1, 1));
    assert_int_equal(js_db_last_seq_by_subject(d, 1, "a.1", 3), 0);
    assert_int_equal(js_db_subject_count(d, 1, "a.1", 3), 0);
    check_msg(d, 2, 1, "a.1", "other stream");    /* the neighbour is untouched */
    out[0] = 0;
    js_db_streams_foreach(d, meta_cb, out);
    assert_string_equal(out, "2:ACC:B:{}:8;");
    js_db_close(d);
}

static void test_memory_db(void **state)
{
    (void)state;
    js_db *d = open_db(true);
    fill(d);
    commit(d);
    check_filled(d);
    js_db_close(d);
    /* nothing of a memory database reaches the directory */
    char path[300];
    snprintf(path, sizeof path, "%s/CURRENT", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    d = open_db(true);
    assert_null(js_db_get_msg(d, 1, 1));
    js_db_close(d);
}

static void test_subject_match(void **state)
{
    (void)state;
    struct { const char *f, *s; bool m; } c[] = {
        {"a.b", "a.b", true},   {"a.b", "a.c", false}, {"a.*", "a.b", true},
        {"a.*", "a.b.c", false}, {"a.>", "a.b.c", true}, {"a.>", "a", false},
        {">", "x", true},       {"*", "x.y", false},   {"a.*.c", "a.b.c", true},
        {"a.b", "a.bb", false}, {"a.bb", "a.b", false}, {"*.>", "a.b", true},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        if (js_subject_match(c[i].f, c[i].s, strlen(c[i].s)) != c[i].m)
            fail_msg("%s vs %s", c[i].f, c[i].s);
}

/* Many messages across many subjects: per-subject counts and the last
 * seq of each subject stay exact through deletes. */
static void test_many(void **state)
{
    (void)state;
    js_db *d = open_db(false);
    char subj[32];
    for (uint64_t seq = 1; seq <= 2000; seq++) {
        snprintf(subj, sizeof subj, "s.%llu", (unsigned long long)(seq % 37));
        put(d, 9, seq, subj, "x");
        if (seq % 500 == 0)
            commit(d);
    }
    for (uint64_t seq = 1; seq <= 2000; seq += 2)
        assert_true(js_db_del_msg(d, 9, seq, NULL));
    commit(d);
    for (unsigned k = 0; k < 37; k++) {
        snprintf(subj, sizeof subj, "s.%u", k);
        uint64_t n = 0, last = 0;
        for (uint64_t seq = 2; seq <= 2000; seq += 2)
            if (seq % 37 == k) {
                n++;
                last = seq;
            }
        assert_int_equal(js_db_subject_count(d, 9, subj, strlen(subj)), n);
        assert_int_equal(js_db_last_seq_by_subject(d, 9, subj, strlen(subj)), last);
    }
    assert_int_equal(next_seq(d, 9, 1, NULL), 2);
    js_db_close(d);
}

/* Puts, deletes and puts again of the same keys inside one pending batch:
 * every read sees the latest. */
static void test_pending_overwrites(void **state)
{
    (void)state;
    js_db *d = open_db(false);
    put(d, 1, 1, "a", "x");
    put(d, 1, 2, "a", "y");
    put(d, 1, 3, "b", "z");
    assert_true(js_db_del_msg(d, 1, 2, NULL));
    assert_null(js_db_get_msg(d, 1, 2));
    assert_int_equal(next_seq(d, 1, 2, NULL), 3);
    assert_int_equal(next_seq(d, 1, 2, "a"), 0);
    assert_int_equal(js_db_last_seq_by_subject(d, 1, "a", 1), 1);
    assert_int_equal(js_db_subject_count(d, 1, "a", 1), 1);
    put(d, 1, 2, "a", "again");
    check_msg(d, 1, 2, "a", "again");
    assert_int_equal(js_db_last_seq_by_subject(d, 1, "a", 1), 2);
    js_state st = {.first_seq = 1, .last_seq = 3, .msgs = 3};
    js_db_put_state(d, 1, &st);
    st.msgs = 2;
    js_db_put_state(d, 1, &st);
    js_state got;
    assert_true(js_db_get_state(d, 1, &got));
    assert_int_equal(got.msgs, 2);
    assert_int_equal(js_db_new_id(d), 1);
    assert_int_equal(js_db_new_id(d), 2);    /* the pending counter is read back */
    uint64_t acc = 0;
    js_db_subjects_foreach(d, 1, count_cb, &acc);
    assert_int_equal(acc, 3 * 1000 + 2);
    commit(d);
    check_msg(d, 1, 2, "a", "again");
    assert_int_equal(next_seq(d, 1, 1, NULL), 1);
    assert_int_equal(js_db_new_id(d), 3);
    js_db_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_msgs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_streams_state_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_db, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_overwrites, setup, teardown),
        cmocka_unit_test(test_subject_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
