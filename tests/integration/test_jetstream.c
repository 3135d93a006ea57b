/*
 * test_jetstream.c - libnats' JetStream API against the server under test:
 * a stream from a `jetstream { store_dir }` block, js_Publish with acks and
 * an expected last sequence (and its error code), stream info, GetMsg,
 * state across a restart; -js -sd on the command line and INFO's
 * "jetstream":true; a bad jetstream setting refused with file:line
 * (modnats only).  Runs unchanged against nats-server -js.
 */
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itnats.h"

static void add_stream(jsCtx *js, const char *name, const char *subject)
{
    jsStreamConfig sc;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    const char *subjects[] = {subject};
    IT_NATS_OK(jsStreamConfig_Init(&sc));
    sc.Name = name;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    IT_NATS_OK(js_AddStream(&si, js, &sc, NULL, &jerr));
    assert_string_equal(si->Config->Name, name);
    assert_int_equal(si->State.Msgs, 0);
    jsStreamInfo_Destroy(si);
}

static jsStreamState stream_state(jsCtx *js, const char *name)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    IT_NATS_OK(js_GetStreamInfo(&si, js, name, NULL, &jerr));
    jsStreamState st = si->State;
    jsStreamInfo_Destroy(si);
    return st;
}

static void test_js_config_block(void **state)
{
    (void)state;
    char conf[600];
    snprintf(conf, sizeof conf, "jetstream = { store_dir = \"%s/js\"; };\n", it_tmpdir());
    it_server *s = it_server_start(conf, NULL);
    natsConnection *nc = it_nats_connect(s);
    jsCtx *js = it_js_ctx(nc);
    add_stream(js, "EVENTS", "events.>");

    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    char body[16];
    for (int i = 1; i <= 5; i++) {
        snprintf(body, sizeof body, "e%d", i);
        IT_NATS_OK(js_Publish(&pa, js, "events.a", body, (int)strlen(body), NULL, &jerr));
        assert_string_equal(pa->Stream, "EVENTS");
        assert_int_equal(pa->Sequence, (uint64_t)i);
        assert_false(pa->Duplicate);
        jsPubAck_Destroy(pa);
        pa = NULL;
    }
    jsPubOptions po;
    IT_NATS_OK(jsPubOptions_Init(&po));
    po.ExpectLastSeq = 4;
    assert_int_not_equal(js_Publish(&pa, js, "events.a", "x", 1, &po, &jerr), NATS_OK);
    assert_int_equal(jerr, JSStreamWrongLastSequenceErr);
    assert_null(pa);
    po.ExpectLastSeq = 5;
    IT_NATS_OK(js_Publish(&pa, js, "events.b", "six", 3, &po, &jerr));
    assert_int_equal(pa->Sequence, 6);
    jsPubAck_Destroy(pa);

    jsStreamState st = stream_state(js, "EVENTS");
    assert_int_equal(st.Msgs, 6);
    assert_int_equal(st.FirstSeq, 1);
    assert_int_equal(st.LastSeq, 6);

    natsMsg *m = NULL;
    IT_NATS_OK(js_GetMsg(&m, js, "EVENTS", 3, NULL, &jerr));
    assert_int_equal(natsMsg_GetDataLength(m), 2);
    assert_memory_equal(natsMsg_GetData(m), "e3", 2);
    assert_string_equal(natsMsg_GetSubject(m), "events.a");
    natsMsg_Destroy(m);
    m = NULL;
    assert_int_not_equal(js_GetMsg(&m, js, "EVENTS", 60, NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSNoMessageFoundErr);
    jsStreamInfo *si = NULL;
    assert_int_not_equal(js_GetStreamInfo(&si, js, "NOPE", NULL, &jerr), NATS_OK);
    assert_int_equal(jerr, JSStreamNotFoundErr);
    jsCtx_Destroy(js);
    it_nats_close(nc);

    /* Everything acknowledged is there after a restart. */
    assert_true(it_server_stop(s));
    it_server_restart(s);
    nc = it_nats_connect(s);
    js = it_js_ctx(nc);
    st = stream_state(js, "EVENTS");
    assert_int_equal(st.Msgs, 6);
    assert_int_equal(st.LastSeq, 6);
    IT_NATS_OK(js_Publish(&pa, js, "events.c", "seven", 5, NULL, &jerr));
    assert_int_equal(pa->Sequence, 7);
    jsPubAck_Destroy(pa);
    jsCtx_Destroy(js);
    it_nats_close(nc);
    it_ok();
}

static void test_js_flags_and_info(void **state)
{
    (void)state;
    char dir[500];
    snprintf(dir, sizeof dir, "%s/store", it_tmpdir());
    const char *const args[] = {"-js", "-sd", dir, NULL};
    it_server *s = it_server_start(NULL, args);
    it_raw *r = it_raw_open(s->port, 0);
    if (!strstr(it_raw_info(r), "\"jetstream\":true"))
        fail_msg("INFO without jetstream:true: %s", it_raw_info(r));
    it_raw_close(r);
    natsConnection *nc = it_nats_connect(s);
    jsCtx *js = it_js_ctx(nc);
    add_stream(js, "F", "f");
    jsCtx_Destroy(js);
    it_nats_close(nc);
    it_ok();
}

/* A wrong jetstream setting stops modnats with file:line (nats-server has
 * no sync key of this shape: modnats only). */
static void test_js_bad_setting(void **state)
{
    (void)state;
    if (it_is_nats_server()) {
        it_ok();
        return;
    }
    char conf[600], path[600], out[600], cmd[2000];
    snprintf(conf, sizeof conf, "port = -1;\njetstream = {\n  store_dir = \"%s/js\";\n"
             "  sync = \"sometimes\";\n};\n", it_tmpdir());
    it_write_file("bad.conf", conf, path, sizeof path);
    snprintf(out, sizeof out, "%s/bad.out", it_tmpdir());
    snprintf(cmd, sizeof cmd, "'%s' -c '%s' > '%s' 2>&1", it_server_binary(), path, out);
    int rc = system(cmd);
    assert_int_not_equal(rc, 0);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char text[8192] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    char want[700];
    snprintf(want, sizeof want, "%s:4: jetstream sync must be", path);
    if (!strstr(text, want))
        fail_msg("no \"%s\" in:\n%s", want, text);
    it_ok();
}

/* sync = "interval": acks before fsync, the WAL synced every interval
 * (nats-server's behaviour); a SIGKILL loses nothing acknowledged (the
 * page cache survives it).  modnats only: nats-server 2.9 has no such key. */
static void test_js_sync_interval(void **state)
{
    (void)state;
    if (it_is_nats_server()) {
        it_ok();
        return;
    }
    char conf[600];
    snprintf(conf, sizeof conf, "jetstream = { store_dir = \"%s/js\"; sync = \"interval\"; "
             "sync_interval = \"100ms\"; };\n", it_tmpdir());
    it_server *s = it_server_start(conf, NULL);
    natsConnection *nc = it_nats_connect(s);
    jsCtx *js = it_js_ctx(nc);
    add_stream(js, "SI", "si");
    jsErrCode jerr = 0;
    for (int i = 1; i <= 200; i++) {
        jsPubAck *pa = NULL;
        IT_NATS_OK(js_Publish(&pa, js, "si", "x", 1, NULL, &jerr));
        assert_int_equal(pa->Sequence, (uint64_t)i);
        jsPubAck_Destroy(pa);
    }
    jsCtx_Destroy(js);
    it_nats_close(nc);
    it_server_signal(s, SIGKILL);
    assert_true(it_server_wait_exit(s, 5000));
    it_server_restart(s);
    nc = it_nats_connect(s);
    js = it_js_ctx(nc);
    jsStreamState st = stream_state(js, "SI");
    assert_int_equal(st.Msgs, 200);
    assert_int_equal(st.LastSeq, 200);
    jsCtx_Destroy(js);
    it_nats_close(nc);
    it_ok();
}

/* A power cut, emulated: the server runs with an LD_PRELOAD shim that
 * records each file's size at every fsync; after a SIGKILL every
 * write-ahead log is cut back to its last fsync'd size, which is what a
 * power cut leaves of a file whose later writes were only in the page
 * cache.  With sync = "always" nothing acknowledged may be lost; with
 * sync = "interval" (1 h) the same cut loses acknowledged messages, which
 * shows the emulation bites.  modnats only (nats-server's Go runtime
 * does not go through libc), not in sanitizer builds.  The cut:
 * it_wal_cut (harness.c). */
static void test_js_power_cut(void **state)
{
    (void)state;
#ifndef MN_POWERCUT_SHIM
    it_ok();
    return;
#else
    if (it_is_nats_server()) {
        it_ok();
        return;
    }
    for (int mode = 0; mode < 2; mode++) {
        char dir[600], real[PATH_MAX], side[700], rocks[800], conf[1200];
        snprintf(dir, sizeof dir, "%s/pc%d", it_tmpdir(), mode);
        snprintf(side, sizeof side, "%s/side%d", it_tmpdir(), mode);
        assert_int_equal(mkdir(dir, 0700), 0);
        assert_int_equal(mkdir(side, 0700), 0);
        assert_non_null(realpath(dir, real));
        snprintf(rocks, sizeof rocks, "%s/jetstream/rocks", real);
        snprintf(conf, sizeof conf, "jetstream = { store_dir = \"%s\"; sync = \"%s\"; "
                 "sync_interval = \"1h\"; };\n", real, mode ? "interval" : "always");
        setenv("LD_PRELOAD", MN_POWERCUT_SHIM, 1);
        setenv("MN_POWERCUT_DIR", real, 1);
        setenv("MN_POWERCUT_SIDE", side, 1);
        it_server *s = it_server_start(conf, NULL);
        unsetenv("LD_PRELOAD");
        natsConnection *nc = it_nats_connect(s);
        jsCtx *js = it_js_ctx(nc);
        add_stream(js, "PC", "pc");
        jsErrCode jerr = 0;
        uint64_t acked = 0;
        for (int i = 0; i < 300; i++) {
            jsPubAck *pa = NULL;
            IT_NATS_OK(js_Publish(&pa, js, "pc", "payload", 7, NULL, &jerr));
            acked = pa->Sequence;
            jsPubAck_Destroy(pa);
        }
        jsCtx_Destroy(js);
        it_nats_close(nc);
        it_server_signal(s, SIGKILL);
        assert_true(it_server_wait_exit(s, 5000));
        it_wal_cut(rocks, side);
        it_server_restart(s);
        nc = it_nats_connect(s);
        js = it_js_ctx(nc);
        jsStreamInfo *si = NULL;
        natsStatus st = js_GetStreamInfo(&si, js, "PC", NULL, &jerr);
        uint64_t kept = st == NATS_OK ? si->State.LastSeq : 0;
        if (si)
            jsStreamInfo_Destroy(si);
        if (mode == 0 && kept != acked)
            fail_msg("sync always: %llu acknowledged, %llu after the power cut",
                     (unsigned long long)acked, (unsigned long long)kept);
        if (mode == 1 && kept >= acked)
            fail_msg("sync interval: the emulated power cut lost nothing (%llu acked, %llu "
                     "kept): the test cannot see a loss", (unsigned long long)acked,
                     (unsigned long long)kept);
        jsCtx_Destroy(js);
        it_nats_close(nc);
        assert_true(it_server_stop(s));
    }
    unsetenv("MN_POWERCUT_DIR");
    unsetenv("MN_POWERCUT_SIDE");
    it_ok();
#endif
}

int main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_js_config_block, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_js_flags_and_info, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_js_bad_setting, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_js_sync_interval, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_js_power_cut, it_setup, it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
