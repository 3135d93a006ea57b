/*
 * test_parser.c - unit tests of the client protocol parser (core/parser.c).
 *
 * Every stream is checked fed whole, split at every byte position, split at
 * every pair of positions (short streams), and byte by byte; each run must
 * give the very same callback trace, return code and error text.  Each
 * chunk is copied into its own exact-size heap block that is freed right
 * after the feed, so AddressSanitizer catches a callback pointer that
 * outlives its feed or a read past the chunk.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* vasprintf */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parser.h"

/* ---- a recorder: every callback appends a line to a text trace ---- */

typedef struct rec {
    char       *buf;
    size_t      len, cap;
    int         calls;
    int         stop_after;    /* return MN_ECLOSED from this call; 0 never */
    bool        pause;         /* return MN_EAGAIN from every call */
    const char *chunk;         /* the chunk being fed */
    size_t      chunk_len;
    int         in_chunk;      /* PUBs whose subject and payload were in it */
} rec;

static void rec_addn(rec *r, const char *s, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        r->cap = (r->len + n + 1) * 2;
        r->buf = realloc(r->buf, r->cap);
        assert_non_null(r->buf);
    }
    memcpy(r->buf + r->len, s, n);
    r->len += n;
    r->buf[r->len] = '\0';
}

static void rec_add(rec *r, const char *fmt, ...)
{
    char   *tmp;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&tmp, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    rec_addn(r, tmp, (size_t)n);
    free(tmp);
}

static int rec_done(rec *r)
{
    r->calls++;
    if (r->stop_after && r->calls == r->stop_after)
        return MN_ECLOSED;
    return r->pause ? MN_EAGAIN : MN_OK;
}

static bool in_chunk(const rec *r, const char *p, size_t n)
{
    return r->chunk && p >= r->chunk && p + n <= r->chunk + r->chunk_len;
}

static int cb_pub(void *ud, const mn_pub_args *a, const char *payload)
{
    rec *r = ud;
    assert_true(a->hdr_len <= a->total_len);
    assert_true(a->subject_len > 0);
    rec_add(r, "PUB %.*s %.*s %zu %zu <", (int)a->subject_len, a->subject,
            a->reply_len ? (int)a->reply_len : 1,
            a->reply_len ? a->reply : "-", a->hdr_len, a->total_len);
    rec_addn(r, payload, a->total_len);
    rec_add(r, ">|");
    if (in_chunk(r, payload, a->total_len) &&
        in_chunk(r, a->subject, a->subject_len))
        r->in_chunk++;
    return rec_done(r);
}

static int cb_sub(void *ud, const mn_sub_args *a)
{
    rec *r = ud;
    rec_add(r, "SUB %.*s %.*s %.*s|", (int)a->subject_len, a->subject,
            a->queue_len ? (int)a->queue_len : 1, a->queue_len ? a->queue : "-",
            (int)a->sid_len, a->sid);
    return rec_done(r);
}

static int cb_unsub(void *ud, const char *sid, size_t sid_len, uint64_t max)
{
    rec *r = ud;
    rec_add(r, "UNSUB %.*s %llu|", (int)sid_len, sid, (unsigned long long)max);
    return rec_done(r);
}

static int cb_ping(void *ud) { rec_add(ud, "PING|"); return rec_done(ud); }
static int cb_pong(void *ud) { rec_add(ud, "PONG|"); return rec_done(ud); }
static int cb_ok(void *ud)   { rec_add(ud, "OK|");   return rec_done(ud); }

static int cb_err(void *ud, const char *msg, size_t len)
{
    rec_add(ud, "ERR <%.*s>|", (int)len, msg);
    return rec_done(ud);
}

static int cb_connect(void *ud, const char *json, size_t len)
{
    rec *r = ud;
    rec_add(r, "CONNECT ");
    rec_addn(r, json, len);
    rec_add(r, "|");
    return rec_done(r);
}

static int cb_info(void *ud, const char *json, size_t len)
{
    rec *r = ud;
    rec_add(r, "INFO ");
    rec_addn(r, json, len);
    rec_add(r, "|");
    return rec_done(r);
}

static const mn_parser_cb CB = {
    .on_connect = cb_connect, .on_pub = cb_pub, .on_sub = cb_sub,
    .on_unsub = cb_unsub, .on_ping = cb_ping, .on_pong = cb_pong,
    .on_ok = cb_ok, .on_err = cb_err, .on_info = cb_info,
};

/* ---- driving the parser ---- */

typedef struct limits { size_t mcl, maxpay; } limits;
static const limits DEFAULTS = { 0, 0 };

/* Feed one chunk from its own exact-size heap copy. */
static int feed_copy(mn_parser *p, rec *r, const char *s, size_t n)
{
    char *c = malloc(n ? n : 1);
    assert_non_null(c);
    memcpy(c, s, n);
    r->chunk = c;
    r->chunk_len = n;
    int rc = mn_parser_feed(p, c, n, &CB, r);
    r->chunk = NULL;
    free(c);
    return rc;
}

static int feed_str(mn_parser *p, rec *r, const char *s)
{
    return feed_copy(p, r, s, strlen(s));
}

/* Feed s[0..n) cut at the ascending positions cuts[0..ncuts); stops at the
 * first non-OK return like a server would.  Returns that code.  A pause
 * (MN_EAGAIN) is resumed at once with the rest, in a fresh copy, as a
 * server does once whatever it waited for is done. */
static int run_cuts(const char *s, size_t n, limits lim, const size_t *cuts,
                    size_t ncuts, rec *r, const char **err)
{
    mn_parser p;
    size_t    start = 0;
    int       rc = MN_OK;

    mn_parser_init(&p, lim.mcl, lim.maxpay);
    for (size_t k = 0; k <= ncuts && rc == MN_OK; k++) {
        size_t end = k < ncuts ? cuts[k] : n;
        for (;;) {
            rc = feed_copy(&p, r, s + start, end - start);
            if (rc == MN_OK)
                assert_int_equal(p.consumed, end - start);
            if (rc != MN_EAGAIN)
                break;
            assert_true(r->pause);
            assert_true(p.consumed > 0 && p.consumed <= end - start);
            start += p.consumed;
            rc = MN_OK;
            if (start == end)
                break;
        }
        start = end;
    }
    *err = p.err;
    if (rc == MN_EINVAL)
        assert_non_null(p.err);
    else
        assert_null(p.err);
    mn_parser_free(&p);
    return rc;
}

static void check_run(const char *what, size_t a, size_t b, const rec *r,
                      int rc, const char *err, const char *exp_trace,
                      int exp_rc, const char *exp_err)
{
    const char *trace = r->buf ? r->buf : "";
    bool ok = rc == exp_rc && strcmp(trace, exp_trace) == 0 &&
              ((err == NULL && exp_err == NULL) ||
               (err && exp_err && strcmp(err, exp_err) == 0));
    if (!ok) {
        print_error("feeding %s (%zu, %zu):\n  trace %s\n  want  %s\n"
                    "  rc %d want %d, err '%s' want '%s'\n",
                    what, a, b, trace, exp_trace, rc, exp_rc,
                    err ? err : "(null)", exp_err ? exp_err : "(null)");
        fail();
    }
}

/* Whole, at every single split point and byte by byte; with pause, every
 * callback also pauses the parser. */
static void expect_paused(const char *s, size_t n, limits lim, bool pause,
                          const char *exp_trace, int exp_rc,
                          const char *exp_err)
{
    const char *err;
    const char *what = pause ? "paused, split at" : "split at";
    size_t      cut;
    int         rc;

    for (size_t i = 0; i <= n; i++) {   /* i == n: whole */
        rec r = { .pause = pause };
        cut = i;
        rc = run_cuts(s, n, lim, &cut, i < n, &r, &err);
        check_run(what, i, 0, &r, rc, err, exp_trace, exp_rc, exp_err);
        free(r.buf);
    }
    size_t *all = malloc((n ? n : 1) * sizeof(size_t));
    assert_non_null(all);
    for (size_t i = 0; i + 1 < n; i++)
        all[i] = i + 1;
    rec r = { .pause = pause };
    rc = run_cuts(s, n, lim, all, n ? n - 1 : 0, &r, &err);
    check_run(pause ? "paused, byte by byte" : "byte by byte", 0, 0, &r, rc,
              err, exp_trace, exp_rc, exp_err);
    free(r.buf);
    free(all);
}

/* The core check: s[0..n) must produce exp_trace and end with exp_rc (and
 * p->err == exp_err) however it is split, paused or not. */
static void expect_lim(const char *s, size_t n, limits lim,
                       const char *exp_trace, int exp_rc, const char *exp_err)
{
    for (int pause = 0; pause <= 1; pause++)
        expect_paused(s, n, lim, pause, exp_trace, exp_rc, exp_err);
    if (n > 80)
        return;
    for (size_t i = 1; i < n; i++)   /* three pieces */
        for (size_t j = i + 1; j < n; j++) {
            const char *err;
            size_t      cuts[2] = { i, j };
            rec         r = { 0 };
            int         rc = run_cuts(s, n, lim, cuts, 2, &r, &err);
            check_run("split at", i, j, &r, rc, err, exp_trace, exp_rc,
                      exp_err);
            free(r.buf);
        }
}

#define EXPECT(s, trace) \
    expect_lim((s), sizeof(s) - 1, DEFAULTS, (trace), MN_OK, NULL)
#define EXPECT_ERR(s, trace, err) \
    expect_lim((s), sizeof(s) - 1, DEFAULTS, (trace), MN_EINVAL, (err))

static const char E_UNKNOWN[] = "Unknown Protocol Operation";
static const char E_CONTROL[] = "maximum control line exceeded";
static const char E_PAYLOAD[] = "Maximum Payload Violation";
static const char E_PUB[]     = "Invalid Publish Arguments";
static const char E_HPUB[]    = "Invalid Header Publish Arguments";
static const char E_HEADERS[] = "Invalid Message Headers";
static const char E_SUB[]     = "Invalid Subscription Arguments";
static const char E_UNSUB[]   = "Invalid Unsubscribe Arguments";

/* ---- verbs ---- */

static void test_ping_pong(void **state)
{
    (void)state;
    EXPECT("PING\r\nping\r\nPiNg\r\nPONG\r\npong\r\npOnG\r\n",
           "PING|PING|PING|PONG|PONG|PONG|");
    /* a bare \n ends a line too, and trailing blanks are fine */
    EXPECT("PING\nPONG\nPING \t\r\n", "PING|PONG|PING|");
}

static void test_ok_err(void **state)
{
    (void)state;
    EXPECT("+OK\r\n+ok\r\n", "OK|OK|");
    EXPECT("-ERR 'Unknown Protocol Operation'\r\n",
           "ERR <Unknown Protocol Operation>|");
    EXPECT("-err\t 'Permissions Violation for Publish to \"x\"'  \r\n",
           "ERR <Permissions Violation for Publish to \"x\">|");
    EXPECT("-ERR no quotes\r\n-ERR\r\n-ERR ''\r\n",
           "ERR <no quotes>|ERR <>|ERR <>|");
}

static void test_connect_info(void **state)
{
    (void)state;
    EXPECT("CONNECT {\"verbose\":false,\"name\":\"a b\"}\r\n",
           "CONNECT {\"verbose\":false,\"name\":\"a b\"}|");
    EXPECT("connect \t {}  \r\nCoNnEcT {\"x\":1}\n",
           "CONNECT {}|CONNECT {\"x\":1}|");
    EXPECT("INFO {\"server_id\":\"x\",\"max_payload\":1048576}\r\n",
           "INFO {\"server_id\":\"x\",\"max_payload\":1048576}|");
    EXPECT("info {}\r\n", "INFO {}|");
    /* the parser does not judge the JSON, the server does */
    EXPECT("CONNECT not json\r\n", "CONNECT not json|");
}

static void test_pub(void **state)
{
    (void)state;
    EXPECT("PUB foo 5\r\nhello\r\n", "PUB foo - 0 5 <hello>|");
    EXPECT("pub foo.bar INBOX.1 5\r\nhello\r\n",
           "PUB foo.bar INBOX.1 0 5 <hello>|");
    EXPECT("PuB\tfoo \t  reply\t\t11  \r\nhello world\r\n",
           "PUB foo reply 0 11 <hello world>|");
    /* zero-length payloads, with and without reply, and a bare \n line */
    EXPECT("PUB foo 0\r\n\r\nPUB foo r 0\r\n\r\nPUB a 0\n\r\n",
           "PUB foo - 0 0 <>|PUB foo r 0 0 <>|PUB a - 0 0 <>|");
    /* payloads may hold CR, LF and things that look like verbs */
    EXPECT("PUB x 10\r\nPING\r\n\r\n\r\n\r\nPING\r\n",
           "PUB x - 0 10 <PING\r\n\r\n\r\n>|PING|");
    /* leading zeros are digits like any other */
    EXPECT("PUB x 003\r\nabc\r\n", "PUB x - 0 3 <abc>|");
}

static void test_hpub(void **state)
{
    (void)state;
    EXPECT("HPUB foo 12 17\r\nNATS/1.0\r\n\r\nhello\r\n",
           "PUB foo - 12 17 <NATS/1.0\r\n\r\nhello>|");
    EXPECT("hpub foo bar 22 22\r\nNATS/1.0\r\nA: B\r\nC:\r\n\r\n\r\n",
           "PUB foo bar 22 22 <NATS/1.0\r\nA: B\r\nC:\r\n\r\n>|");
    EXPECT("HPuB\tfoo  r \t16 16\r\nNATS/1.0 503\r\n\r\n\r\n",
           "PUB foo r 16 16 <NATS/1.0 503\r\n\r\n>|");
    /* no header block at all: a plain message (nats.js, nats-server) */
    EXPECT("HPUB foo r 0 5\r\nhello\r\n", "PUB foo r 0 5 <hello>|");
}

static void test_sub_unsub(void **state)
{
    (void)state;
    EXPECT("SUB foo 1\r\nsub foo.* q 22\r\nSuB\t>\t\tgrp  sid \r\n",
           "SUB foo - 1|SUB foo.* q 22|SUB > grp sid|");
    EXPECT("UNSUB 1\r\nunsub 22 5\r\nUnSuB\t7\t0\r\n",
           "UNSUB 1 0|UNSUB 22 5|UNSUB 7 0|");
    EXPECT("UNSUB 1 18446744073709551615\r\n",
           "UNSUB 1 18446744073709551615|");
}

static void test_mixed_stream(void **state)
{
    (void)state;
    EXPECT("CONNECT {\"verbose\":false}\r\nPING\r\nSUB foo 1\r\n"
           "PUB foo r 3\r\nabc\r\nHPUB foo 10 12\r\nNATS/1.0\r\nxy\r\n"
           "UNSUB 1 2\r\nPONG\r\n",
           "CONNECT {\"verbose\":false}|PING|SUB foo - 1|PUB foo r 0 3 <abc>|"
           "PUB foo - 10 12 <NATS/1.0\r\nxy>|UNSUB 1 2|PONG|");
}

/* ---- errors ---- */

static void test_unknown_op(void **state)
{
    (void)state;
    EXPECT_ERR("FOO\r\n", "", E_UNKNOWN);
    EXPECT_ERR("PING\r\nPUBX foo 1\r\nx\r\n", "PING|", E_UNKNOWN);
    EXPECT_ERR("\r\n", "", E_UNKNOWN);
    EXPECT_ERR("\n", "", E_UNKNOWN);
    EXPECT_ERR(" PING\r\n", "", E_UNKNOWN);
    EXPECT_ERR("PIN\r\n", "", E_UNKNOWN);
    EXPECT_ERR("PINGX\r\n", "", E_UNKNOWN);
    EXPECT_ERR("PING x\r\n", "", E_UNKNOWN);
    EXPECT_ERR("+OKAY\r\n", "", E_UNKNOWN);
    EXPECT_ERR("-ERROR\r\n", "", E_UNKNOWN);
    EXPECT_ERR("MSG foo 1 0\r\n\r\n", "", E_UNKNOWN);
    EXPECT_ERR("CONNECT{}\r\n", "", E_UNKNOWN);
    /* '\v' | 0x20 == '+': only letters may fold */
    EXPECT_ERR("\vOK\r\n", "", E_UNKNOWN);
    EXPECT_ERR("P\xc9NG\r\n", "", E_UNKNOWN);
}

static void test_payload_errors(void **state)
{
    (void)state;
    /* payload longer than declared */
    EXPECT_ERR("PUB foo 5\r\nhelloX\r\n", "", E_UNKNOWN);
    EXPECT_ERR("PUB foo 5\r\nhello\rX", "", E_UNKNOWN);
    EXPECT_ERR("PUB foo 5\r\nhello\n\r\n", "", E_UNKNOWN);
    EXPECT_ERR("PUB foo 0\r\nx\r\n", "", E_UNKNOWN);
    /* shorter than declared: the CRLF lands inside, the next op breaks it */
    EXPECT_ERR("PUB foo 5\r\nhell\r\nPING\r\n", "", E_UNKNOWN);
    /* incomplete is not an error */
    EXPECT("PUB foo 5\r\nhello\r", "");
    EXPECT("PUB foo 5\r\nhel", "");
    EXPECT("PUB foo 5", "");
}

static void test_pub_arg_errors(void **state)
{
    (void)state;
    EXPECT_ERR("PUB\r\n", "", E_PUB);
    EXPECT_ERR("PUB \t \r\n", "", E_PUB);
    EXPECT_ERR("PUB foo\r\n", "", E_PUB);
    EXPECT_ERR("PUB foo bar baz 1\r\n", "", E_PUB);
    EXPECT_ERR("PUB foo x\r\n", "", E_PUB);
    EXPECT_ERR("PUB foo -1\r\n", "", E_PUB);
    EXPECT_ERR("PUB foo +1\r\n", "", E_PUB);
    EXPECT_ERR("PUB foo 1x\r\n", "", E_PUB);
    EXPECT_ERR("PUB foo 0x10\r\n", "", E_PUB);
    EXPECT_ERR("PUB foo reply\r\n", "", E_PUB);
}

static void test_hpub_errors(void **state)
{
    (void)state;
    EXPECT_ERR("HPUB\r\n", "", E_HPUB);
    EXPECT_ERR("HPUB foo 12\r\n", "", E_HPUB);
    EXPECT_ERR("HPUB foo a b 12 17 x\r\n", "", E_HPUB);
    EXPECT_ERR("HPUB foo 18 17\r\n", "", E_HPUB);
    EXPECT_ERR("HPUB foo x 17\r\n", "", E_HPUB);
    EXPECT_ERR("HPUB foo 12 y\r\n", "", E_HPUB);
    /* a header block must start with NATS/1.0 */
    EXPECT_ERR("HPUB foo 7 7\r\nNATS/1\r\n", "", E_HEADERS);
    EXPECT_ERR("HPUB foo 12 17\r\nNATS/2.0\r\n\r\nhello\r\n", "", E_HEADERS);
    EXPECT_ERR("HPUB foo 12 17\r\nnats/1.0\r\n\r\nhello\r\n", "", E_HEADERS);
    /* headers fine, payload too long */
    EXPECT_ERR("HPUB foo 12 17\r\nNATS/1.0\r\n\r\nhelloo\r\n", "", E_UNKNOWN);
}

static void test_sub_unsub_errors(void **state)
{
    (void)state;
    EXPECT_ERR("SUB\r\n", "", E_SUB);
    EXPECT_ERR("SUB foo\r\n", "", E_SUB);
    EXPECT_ERR("SUB  \t\r\n", "", E_SUB);
    EXPECT_ERR("SUB foo q 1 x\r\n", "", E_SUB);
    EXPECT_ERR("UNSUB\r\n", "", E_UNSUB);
    EXPECT_ERR("UNSUB \r\n", "", E_UNSUB);
    EXPECT_ERR("UNSUB 1 x\r\n", "", E_UNSUB);
    EXPECT_ERR("UNSUB 1 -1\r\n", "", E_UNSUB);
    EXPECT_ERR("UNSUB 1 2 3\r\n", "", E_UNSUB);
    EXPECT_ERR("UNSUB 1 18446744073709551616\r\n", "", E_UNSUB);
}

static void test_empty_json_args(void **state)
{
    (void)state;
    EXPECT_ERR("CONNECT\r\n", "", "Invalid Connect Arguments");
    EXPECT_ERR("CONNECT  \t \r\n", "", "Invalid Connect Arguments");
    EXPECT_ERR("INFO\r\n", "", "Invalid Info Arguments");
    EXPECT_ERR("INFO \n", "", "Invalid Info Arguments");
}

/* ---- limits ---- */

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void expect_fmt(limits lim, const char *trace, int rc, const char *err,
                       const char *fmt, ...)
{
    char   *s;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    expect_lim(s, (size_t)n, lim, trace, rc, err);
    free(s);
}

static void test_control_line_limit(void **state)
{
    (void)state;
    limits lim = { 32, 0 };
    /* the limit counts the arguments: what follows the verb and blanks */
    char *subj = repeat('s', 30);   /* "<30 s> 1" is 32 bytes */
    char  trace[128];
    snprintf(trace, sizeof(trace), "PUB %s - 0 1 <x>|", subj);
    expect_fmt(lim, trace, MN_OK, NULL, "PUB %s 1\r\nx\r\n", subj);
    expect_fmt(lim, trace, MN_OK, NULL, "PUB   %s 1\nx\r\n", subj);
    expect_fmt(lim, "", MN_EINVAL, E_CONTROL, "PUB %s 10\r\nxxxxxxxxxx\r\n", subj);
    expect_fmt(lim, "", MN_EINVAL, E_CONTROL, "PUB %ss 1\r\nx\r\n", subj);
    free(subj);

    /* trailing blanks count: nats-server measures the raw arguments */
    char *json = repeat(' ', 30);
    json[0] = '{';
    json[29] = '}';
    snprintf(trace, sizeof(trace), "CONNECT %s|PING|", json);
    expect_fmt(lim, trace, MN_OK, NULL, "CONNECT  %s  \r\nPING\r\n", json);
    expect_fmt(lim, "", MN_EINVAL, E_CONTROL, "CONNECT %s   \r\n", json);
    free(json);

    /* blanks between the verb and its arguments are bounded too */
    char *blanks = repeat(' ', 33);
    expect_fmt(lim, "", MN_EINVAL, E_CONTROL, "SUB%sfoo 1\r\n", blanks);
    expect_fmt(lim, "", MN_EINVAL, E_CONTROL, "PING%s\r\n", blanks);
    blanks[32] = '\0';
    expect_fmt(lim, "SUB foo - 1|", MN_OK, NULL, "SUB%sfoo 1\r\n", blanks);
    expect_fmt(lim, "PING|", MN_OK, NULL, "PING%s\r\n", blanks);
    free(blanks);

}

/* Default-limit lines checked separately: the trace would be huge. */
static void test_control_line_default(void **state)
{
    (void)state;
    size_t      alen = 4096;
    char       *s = malloc(alen + 32);
    mn_parser   p;
    rec         r = { 0 };
    assert_non_null(s);
    for (int extra = 0; extra <= 1; extra++) {
        size_t n = 0;
        n += (size_t)sprintf(s, "SUB ");
        memset(s + n, 'a', alen + (size_t)extra - 2);
        n += alen + (size_t)extra - 2;
        n += (size_t)sprintf(s + n, " 1\r\n");
        mn_parser_init(&p, 0, 0);
        int rc = mn_parser_feed(&p, s, n, &CB, &r);
        if (extra == 0) {
            assert_int_equal(rc, MN_OK);
            assert_int_equal(r.calls, 1);
        } else {
            assert_int_equal(rc, MN_EINVAL);
            assert_string_equal(p.err, E_CONTROL);
        }
        mn_parser_free(&p);
    }
    free(s);
    free(r.buf);
}

static void test_long_line_fails_early(void **state)
{
    (void)state;
    limits     lim = { 64, 0 };
    mn_parser  p;
    rec        r = { 0 };
    char       *junk = repeat('a', 100);
    int         rc = MN_OK;

    /* no newline ever comes: the error must not wait for one */
    mn_parser_init(&p, lim.mcl, lim.maxpay);
    assert_int_equal(mn_parser_feed(&p, "PUB ", 4, &CB, &r), MN_OK);
    for (int k = 0; k < 10 && rc == MN_OK; k++)
        rc = mn_parser_feed(&p, junk, 100, &CB, &r);
    assert_int_equal(rc, MN_EINVAL);
    assert_string_equal(p.err, E_CONTROL);
    mn_parser_free(&p);

    /* one huge buffer */
    char *big = repeat('a', 1 << 20);
    memcpy(big, "SUB ", 4);
    mn_parser_init(&p, lim.mcl, lim.maxpay);
    assert_int_equal(mn_parser_feed(&p, big, 1 << 20, &CB, &r), MN_EINVAL);
    assert_string_equal(p.err, E_CONTROL);
    mn_parser_free(&p);
    free(big);

    /* an unknown verb fails on its first bytes */
    mn_parser_init(&p, 0, 0);
    assert_int_equal(mn_parser_feed(&p, "X", 1, &CB, &r), MN_EINVAL);
    assert_string_equal(p.err, E_UNKNOWN);
    mn_parser_free(&p);
    mn_parser_init(&p, 0, 0);
    assert_int_equal(mn_parser_feed(&p, "PU", 2, &CB, &r), MN_OK);
    assert_int_equal(mn_parser_feed(&p, "BX", 2, &CB, &r), MN_EINVAL);
    assert_string_equal(p.err, E_UNKNOWN);
    mn_parser_free(&p);
    /* a payload overrunning its size fails on the first extra byte */
    mn_parser_init(&p, 0, 0);
    assert_int_equal(mn_parser_feed(&p, "PUB a 1\r\nx", 10, &CB, &r), MN_OK);
    assert_int_equal(mn_parser_feed(&p, "y", 1, &CB, &r), MN_EINVAL);
    assert_string_equal(p.err, E_UNKNOWN);
    mn_parser_free(&p);
    assert_int_equal(r.calls, 0);
    free(junk);
}

static void test_payload_limit(void **state)
{
    (void)state;
    limits lim = { 0, 8 };
    expect_fmt(lim, "PUB a - 0 8 <12345678>|", MN_OK, NULL,
               "PUB a 8\r\n12345678\r\n");
    expect_fmt(lim, "", MN_EINVAL, E_PAYLOAD, "PUB a 9\r\n123456789\r\n");
    expect_fmt(lim, "PING|", MN_EINVAL, E_PAYLOAD, "PING\r\nPUB a 9\r\n");
    /* HPUB: the limit applies to headers and body together */
    lim.maxpay = 12;
    expect_fmt(lim, "PUB a - 10 12 <NATS/1.0\r\nxy>|", MN_OK, NULL,
               "HPUB a 10 12\r\nNATS/1.0\r\nxy\r\n");
    expect_fmt(lim, "", MN_EINVAL, E_PAYLOAD,
               "HPUB a 10 13\r\nNATS/1.0\r\nxyz\r\n");
    /* absurd sizes fail cleanly, without overflow */
    expect_fmt(DEFAULTS, "", MN_EINVAL, E_PAYLOAD,
               "PUB a 99999999999999999999999999999999\r\n");
    expect_fmt(DEFAULTS, "", MN_EINVAL, E_PAYLOAD,
               "PUB a 18446744073709551615\r\n");
    expect_fmt(DEFAULTS, "", MN_EINVAL, E_PAYLOAD, "PUB a 1048577\r\n");
    expect_fmt(DEFAULTS, "", MN_EINVAL, E_HPUB,
               "HPUB a 99999999999999999999999 1\r\n");
}

static void test_default_max_payload(void **state)
{
    (void)state;
    size_t    n = 1024 * 1024;
    char     *s = malloc(n + 64);
    mn_parser p;
    rec       r = { 0 };
    assert_non_null(s);
    int hl = sprintf(s, "PUB big %zu\r\n", n);
    memset(s + hl, 'z', n);
    memcpy(s + hl + n, "\r\n", 2);
    mn_parser_init(&p, 0, 0);
    assert_int_equal(mn_parser_feed(&p, s, (size_t)hl + n + 2, &CB, &r), MN_OK);
    assert_int_equal(r.calls, 1);
    mn_parser_free(&p);
    free(s);
    free(r.buf);
}

/* ---- big payloads, zero copy, buffers ---- */

typedef struct bigrec {
    int    calls;
    size_t total;
    bool   match;
    const char *want;
} bigrec;

static int big_pub(void *ud, const mn_pub_args *a, const char *payload)
{
    bigrec *b = ud;
    b->calls++;
    b->total = a->total_len;
    b->match = a->subject_len == 3 && memcmp(a->subject, "big", 3) == 0 &&
               a->reply_len == 5 && memcmp(a->reply, "reply", 5) == 0 &&
               memcmp(payload, b->want, a->total_len) == 0;
    return MN_OK;
}

static void test_large_payload_many_feeds(void **state)
{
    (void)state;
    const size_t   n = 3 * 1000 * 1000 + 7;
    char          *s = malloc(n + 64);
    mn_parser      p;
    mn_parser_cb   cb = { .on_pub = big_pub };
    bigrec         b = { 0 };
    unsigned       seed = 12345;

    assert_non_null(s);
    int hl = sprintf(s, "PUB big reply %zu\r\n", n);
    for (size_t i = 0; i < n; i++)
        s[hl + i] = (char)(i * 7 + (i >> 9));
    memcpy(s + hl + n, "\r\nPING\r\n", 8);
    b.want = s + hl;
    size_t total = (size_t)hl + n + 8;

    mn_parser_init(&p, 0, 4 * 1000 * 1000);
    for (size_t pos = 0; pos < total;) {
        seed = seed * 1103515245u + 12345u;
        size_t chunk = 1 + (seed >> 8) % 70000;
        if (chunk > total - pos)
            chunk = total - pos;
        char *c = malloc(chunk);
        assert_non_null(c);
        memcpy(c, s + pos, chunk);
        assert_int_equal(mn_parser_feed(&p, c, chunk, &cb, &b), MN_OK);
        free(c);
        pos += chunk;
    }
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.total, n);
    assert_true(b.match);
    /* nothing pending: the gathering buffers are gone */
    assert_null(p.argbuf);
    assert_null(p.msgbuf);
    mn_parser_free(&p);
    free(s);
}

static void test_zero_copy(void **state)
{
    (void)state;
    static const char s[] = "PUB a 1\r\nx\r\nPUB b r 2\r\nyz\r\n"
                            "HPUB c 10 10\r\nNATS/1.0\r\n\r\n";
    mn_parser p;
    rec       r = { 0 };
    mn_parser_init(&p, 0, 0);
    assert_int_equal(feed_copy(&p, &r, s, sizeof(s) - 1), MN_OK);
    assert_int_equal(r.calls, 3);
    assert_int_equal(r.in_chunk, 3);
    /* nothing was allocated */
    assert_null(p.argbuf);
    assert_null(p.msgbuf);
    assert_int_equal(p.argcap + p.msgcap, 0);

    /* a control line ending its buffer: the payload arriving whole in the
     * next one is still passed in place */
    r.in_chunk = 0;
    assert_int_equal(feed_str(&p, &r, "PUB d 3\r\n"), MN_OK);
    assert_non_null(p.argbuf);
    assert_null(p.msgbuf);
    assert_int_equal(feed_str(&p, &r, "abc\r\n"), MN_OK);
    assert_int_equal(r.calls, 4);
    assert_null(p.argbuf);
    assert_null(p.msgbuf);
    assert_string_equal(r.buf, "PUB a - 0 1 <x>|PUB b r 0 2 <yz>|"
                        "PUB c - 10 10 <NATS/1.0\r\n>|PUB d - 0 3 <abc>|");
    mn_parser_free(&p);
    free(r.buf);
}

static void test_idle_holds_nothing(void **state)
{
    (void)state;
    mn_parser p;
    rec       r = { 0 };
    mn_parser_init(&p, 0, 0);
    assert_int_equal(feed_str(&p, &r, "SUB foo"), MN_OK);
    assert_non_null(p.argbuf);
    assert_int_equal(feed_str(&p, &r, " 1\r\nPUB x 4\r\nab"), MN_OK);
    assert_non_null(p.msgbuf);
    assert_int_equal(feed_str(&p, &r, "cd\r\n"), MN_OK);
    assert_null(p.argbuf);
    assert_null(p.msgbuf);
    assert_string_equal(r.buf, "SUB foo - 1|PUB x - 0 4 <abcd>|");
    mn_parser_free(&p);
    free(r.buf);
}

/* ---- callbacks stopping the parser ---- */

static void test_callback_stops(void **state)
{
    (void)state;
    static const char s[] = "PING\r\nPUB a 1\r\nx\r\nSUB b 1\r\nPONG\r\n";
    for (int stop = 1; stop <= 4; stop++) {
        for (size_t cut = 0; cut <= sizeof(s) - 1; cut++) {
            mn_parser p;
            rec       r = { .stop_after = stop };
            int       rc;
            mn_parser_init(&p, 0, 0);
            rc = feed_copy(&p, &r, s, cut);
            if (rc == MN_OK)
                rc = feed_copy(&p, &r, s + cut, sizeof(s) - 1 - cut);
            assert_int_equal(rc, MN_ECLOSED);
            assert_int_equal(r.calls, stop);
            assert_null(p.err);
            /* a stopped parser stays stopped */
            assert_int_not_equal(mn_parser_feed(&p, "PING\r\n", 6, &CB, &r),
                                 MN_OK);
            assert_int_equal(r.calls, stop);
            mn_parser_free(&p);
            free(r.buf);
        }
    }
}

/* A callback returning MN_EAGAIN pauses right after its operation. */
static void test_pause_points(void **state)
{
    (void)state;
    static const char s[] = "PING\r\nPUB a 1\r\nx\r\nSUB b 1\r\nPONG\r\n";
    static const size_t after[] = { 6, 18, 27, 33 };
    mn_parser p;
    rec       r = { .pause = true };
    size_t    off = 0;
    mn_parser_init(&p, 0, 0);
    for (int k = 0; k < 4; k++) {
        int rc = feed_copy(&p, &r, s + off, sizeof(s) - 1 - off);
        assert_int_equal(rc, MN_EAGAIN);
        assert_null(p.err);
        off += p.consumed;
        assert_int_equal(off, after[k]);
        assert_int_equal(r.calls, k + 1);
    }
    assert_int_equal(off, sizeof(s) - 1);
    assert_string_equal(r.buf, "PING|PUB a - 0 1 <x>|SUB b - 1|PONG|");
    /* a paused parser is not dead */
    r.pause = false;
    assert_int_equal(feed_str(&p, &r, "PING\r\n"), MN_OK);
    assert_int_equal(p.consumed, 6);
    mn_parser_free(&p);
    free(r.buf);
}

static void test_dead_after_error(void **state)
{
    (void)state;
    mn_parser p;
    rec       r = { 0 };
    mn_parser_init(&p, 0, 0);
    assert_int_equal(mn_parser_feed(&p, "BAD\r\n", 5, &CB, &r), MN_EINVAL);
    assert_int_equal(mn_parser_feed(&p, "PING\r\n", 6, &CB, &r), MN_EINVAL);
    assert_string_equal(p.err, E_UNKNOWN);
    assert_int_equal(r.calls, 0);
    mn_parser_free(&p);
}

static void test_null_callbacks(void **state)
{
    (void)state;
    static const char s[] = "CONNECT {}\r\nINFO {}\r\nPING\r\nPONG\r\n+OK\r\n"
                            "-ERR 'x'\r\nSUB a 1\r\nUNSUB 1\r\nPUB a 1\r\nx\r\n";
    mn_parser_cb none = { 0 };
    mn_parser    p;
    mn_parser_init(&p, 0, 0);
    assert_int_equal(mn_parser_feed(&p, s, sizeof(s) - 1, &none, NULL), MN_OK);
    assert_int_equal(mn_parser_feed(&p, "PUB a 2\r\nx", 10, &none, NULL), MN_OK);
    assert_int_equal(mn_parser_feed(&p, "y\r\n", 3, &none, NULL), MN_OK);
    mn_parser_free(&p);
}

static void test_init_defaults(void **state)
{
    (void)state;
    mn_parser p;
    mn_parser_init(&p, 0, 0);
    assert_int_equal(p.max_control_line, 4096);
    assert_int_equal(p.max_payload, 1024 * 1024);
    assert_null(p.err);
    mn_parser_free(&p);
    mn_parser_init(&p, 100, 200);
    assert_int_equal(p.max_control_line, 100);
    assert_int_equal(p.max_payload, 200);
    mn_parser_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_pong),
        cmocka_unit_test(test_ok_err),
        cmocka_unit_test(test_connect_info),
        cmocka_unit_test(test_pub),
        cmocka_unit_test(test_hpub),
        cmocka_unit_test(test_sub_unsub),
        cmocka_unit_test(test_mixed_stream),
        cmocka_unit_test(test_unknown_op),
        cmocka_unit_test(test_payload_errors),
        cmocka_unit_test(test_pub_arg_errors),
        cmocka_unit_test(test_hpub_errors),
        cmocka_unit_test(test_sub_unsub_errors),
        cmocka_unit_test(test_empty_json_args),
        cmocka_unit_test(test_control_line_limit),
        cmocka_unit_test(test_control_line_default),
        cmocka_unit_test(test_long_line_fails_early),
        cmocka_unit_test(test_payload_limit),
        cmocka_unit_test(test_default_max_payload),
        cmocka_unit_test(test_large_payload_many_feeds),
        cmocka_unit_test(test_zero_copy),
        cmocka_unit_test(test_idle_holds_nothing),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_pause_points),
        cmocka_unit_test(test_dead_after_error),
        cmocka_unit_test(test_null_callbacks),
        cmocka_unit_test(test_init_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
