/*
 * fuzz_parser.c - libFuzzer target for core/parser.c.
 *
 * The first four input bytes choose the limits and seed the split points;
 * the rest is the protocol stream.  It is fed whole, then in random chunks,
 * then byte by byte, then paused (MN_EAGAIN) from some callbacks and
 * resumed, and every run must produce the same callback trace,
 * return code and error text: where a read() happens to split the stream
 * must never change what the server sees.  A last run stops from a random
 * callback and must yield a prefix of the trace.  Each chunk is an
 * exact-size heap copy freed right after its feed, so AddressSanitizer
 * catches pointers that outlive a callback.  CONNECT and INFO arguments
 * also go through the JSON reader (core/json.c), as they do in the server;
 * an input starting with 0xFF is one JSON text, to reach it directly.
 * Any disagreement aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "parser.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,  \
                    #c);                                                       \
            abort();                                                           \
        }                                                                      \
    } while (0)

typedef struct trace {
    uint8_t *buf;
    size_t   len, cap;
    int      calls, stop_after;
    int      pause_every;      /* MN_EAGAIN from every n-th call; 0 never */
    size_t   max_payload;
} trace;

static void put(trace *t, const void *p, size_t n)
{
    if (t->len + n > t->cap) {
        size_t cap = (t->len + n) * 2 + 64;
        uint8_t *nb = realloc(t->buf, cap);
        CHECK(nb != NULL);
        t->buf = nb;
        t->cap = cap;
    }
    if (n)
        memcpy(t->buf + t->len, p, n);
    t->len += n;
}

/* A tagged, length-prefixed field, so distinct traces never collide. */
static void field(trace *t, char tag, const char *p, size_t n)
{
    put(t, &tag, 1);
    put(t, &n, sizeof(n));
    put(t, p, n);
}

static int done(trace *t)
{
    t->calls++;
    if (t->stop_after && t->calls == t->stop_after)
        return MN_ECLOSED;
    if (t->pause_every && t->calls % t->pause_every == 0)
        return MN_EAGAIN;
    return MN_OK;
}

static int on_pub(void *ud, const mn_pub_args *a, const char *payload)
{
    trace *t = ud;
    CHECK(a->subject_len > 0 && a->subject != NULL);
    CHECK(a->reply_len == 0 || a->reply != NULL);
    CHECK(a->hdr_len <= a->total_len);
    CHECK(a->total_len <= t->max_payload);
    CHECK(a->hdr_len == 0 || memcmp(payload, "NATS/1.0", 8) == 0);
    field(t, 'P', a->subject, a->subject_len);
    field(t, 'r', a->reply, a->reply_len);
    put(t, &a->hdr_len, sizeof(a->hdr_len));
    field(t, 'd', payload, a->total_len);   /* reads every payload byte */
    return done(t);
}

static int on_sub(void *ud, const mn_sub_args *a)
{
    trace *t = ud;
    CHECK(a->subject_len > 0 && a->sid_len > 0);
    field(t, 'S', a->subject, a->subject_len);
    field(t, 'q', a->queue, a->queue_len);
    field(t, 'i', a->sid, a->sid_len);
    return done(t);
}

static int on_unsub(void *ud, const char *sid, size_t sid_len, uint64_t max)
{
    trace *t = ud;
    CHECK(sid_len > 0);
    field(t, 'U', sid, sid_len);
    put(t, &max, sizeof(max));
    return done(t);
}

static int on_text(trace *t, char tag, const char *s, size_t n)
{
    field(t, tag, s, n);
    return done(t);
}

/* Every byte of s[0..n) forms valid UTF-8 (what the JSON reader emits). */
static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2
                   : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (len == 0 || n - i < len)
            return false;
        uint32_t cp = len == 1 ? c : c & (0x7F >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/* The server hands CONNECT and INFO to the JSON reader: fuzz it on them,
 * and re-read every raw span it keeps, which must parse back alike. */
static void check_json(trace *t, const char *s, size_t n, int depth)
{
    mn_json j;
    int     rc = mn_json_parse(&j, s, n);
    CHECK(rc == MN_OK || rc == MN_EINVAL);
    put(t, &rc, sizeof(rc));
    if (rc != MN_OK) {
        CHECK(j.err != NULL && j.err_pos <= n && j.members == NULL);
        return;
    }
    for (size_t k = 0; k < j.count; k++) {
        const mn_json_member *m = &j.members[k];
        CHECK(m->key[m->key_len] == '\0');
        CHECK(valid_utf8((const unsigned char *)m->key, m->key_len));
        if (memchr(m->key, '\0', m->key_len) == NULL) {
            const mn_json_member *f = mn_json_find(&j, m->key);
            CHECK(f != NULL && f >= m);   /* the last match wins */
        }
        if (m->type == MN_JSON_BOOL || m->type == MN_JSON_NULL) {
            CHECK(m->str == NULL);
            continue;
        }
        CHECK(m->str[m->str_len] == '\0');
        if (m->type == MN_JSON_STRING) {
            CHECK(valid_utf8((const unsigned char *)m->str, m->str_len));
            continue;
        }
        if (depth > 0)
            continue;
        char *w = malloc(m->str_len + 8);
        CHECK(w != NULL);
        memcpy(w, "{\"x\":", 5);
        memcpy(w + 5, m->str, m->str_len);
        w[5 + m->str_len] = '}';
        mn_json j2;
        CHECK(mn_json_parse(&j2, w, m->str_len + 6) == MN_OK);
        CHECK(j2.count == 1 && j2.members[0].type == m->type);
        CHECK(j2.members[0].is_int == m->is_int && j2.members[0].i == m->i);
        if (m->type == MN_JSON_OBJECT)
            check_json(t, m->str, m->str_len, depth + 1);
        mn_json_free(&j2);
        free(w);
    }
    mn_json_free(&j);
}

static int on_connect(void *ud, const char *s, size_t n)
{
    CHECK(n > 0);
    check_json(ud, s, n, 0);
    return on_text(ud, 'C', s, n);
}

static int on_info(void *ud, const char *s, size_t n)
{
    CHECK(n > 0);
    check_json(ud, s, n, 0);
    return on_text(ud, 'I', s, n);
}

static int on_err(void *ud, const char *s, size_t n) { return on_text(ud, 'E', s, n); }
static int on_ping(void *ud) { return on_text(ud, 'p', NULL, 0); }
static int on_pong(void *ud) { return on_text(ud, 'o', NULL, 0); }
static int on_ok(void *ud) { return on_text(ud, 'k', NULL, 0); }

static const mn_parser_cb CB = {
    .on_connect = on_connect, .on_pub = on_pub, .on_sub = on_sub,
    .on_unsub = on_unsub, .on_ping = on_ping, .on_pong = on_pong,
    .on_ok = on_ok, .on_err = on_err, .on_info = on_info,
};

typedef struct result {
    int         rc;
    const char *err;
} result;

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* mode 0: whole; 1: random chunks; 2: byte by byte. */
static result run(const uint8_t *d, size_t n, size_t mcl, size_t maxpay,
                  int mode, uint32_t seed, trace *t)
{
    mn_parser p;
    result    r = { MN_OK, NULL };
    size_t    pos = 0;

    mn_parser_init(&p, mcl, maxpay);
    t->max_payload = p.max_payload;
    do {
        size_t chunk = n - pos;
        if (mode == 1) {
            /* mostly small chunks, sometimes empty, sometimes large */
            uint32_t x = rnd(&seed);
            size_t   lim = (x & 3) == 0 ? 4096 : 16;
            chunk = (x >> 2) % (lim + 1);
            if (chunk > n - pos)
                chunk = n - pos;
        } else if (mode == 2) {
            chunk = n - pos ? 1 : 0;
        }
        /* a pause is resumed with the rest of the chunk, in a new copy */
        size_t left = chunk;
        do {
            uint8_t *c = malloc(left ? left : 1);
            CHECK(c != NULL);
            memcpy(c, d + pos, left);
            r.rc = mn_parser_feed(&p, (const char *)c, left, &CB, t);
            free(c);
            CHECK(p.consumed <= left);
            CHECK(r.rc != MN_OK || p.consumed == left);
            CHECK(r.rc != MN_EAGAIN || (t->pause_every && p.consumed > 0));
            pos += p.consumed;
            left -= p.consumed;
        } while (r.rc == MN_EAGAIN && left > 0);
        if (r.rc == MN_EAGAIN)
            r.rc = MN_OK;
    } while (r.rc == MN_OK && pos < n);

    CHECK(r.rc == MN_OK || r.rc == MN_EINVAL || r.rc == MN_ECLOSED);
    CHECK((r.rc == MN_EINVAL) == (p.err != NULL));
    CHECK(r.rc != MN_ECLOSED || t->stop_after);
    r.err = p.err;
    if (r.rc != MN_OK) {
        /* a stopped parser stays stopped and calls nobody */
        int calls = t->calls;
        CHECK(mn_parser_feed(&p, "PING\r\n", 6, &CB, t) != MN_OK);
        CHECK(t->calls == calls);
    } else {
        /* a buffer is held only while it holds something */
        CHECK((p.argbuf == NULL) == (p.arglen == 0));
        CHECK((p.msgbuf == NULL) == (p.msglen == 0));
    }
    mn_parser_free(&p);
    return r;
}

static void same(const result *a, const trace *ta, const result *b,
                 const trace *tb)
{
    CHECK(a->rc == b->rc);
    CHECK(a->err == b->err);   /* static strings: same text, same pointer */
    CHECK(ta->len == tb->len && ta->calls == tb->calls);
    CHECK(ta->len == 0 || memcmp(ta->buf, tb->buf, ta->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    if (data[0] == 0xFF) {   /* the rest is a JSON text on its own */
        trace t = { 0 };
        check_json(&t, (const char *)data + 1, size - 1, 0);
        free(t.buf);
        return 0;
    }
    /* 0 selects the defaults; small limits make the edges reachable */
    size_t   mcl = data[0] == 0 ? 0 : data[0] % 64 + 1;
    size_t   maxpay = data[1] == 0 ? 0 : (size_t)data[1] * 2;
    uint32_t seed = ((uint32_t)data[2] << 8 | data[3]) + 1;
    data += 4;
    size -= 4;

    trace  t0 = { 0 }, t1 = { 0 }, t2 = { 0 };
    result r0 = run(data, size, mcl, maxpay, 0, seed, &t0);
    result r1 = run(data, size, mcl, maxpay, 1, seed, &t1);
    same(&r0, &t0, &r1, &t1);
    result r2 = run(data, size, mcl, maxpay, 2, seed, &t2);
    same(&r0, &t0, &r2, &t2);
    trace  t4 = { .pause_every = 1 + (int)(seed % 3) };
    result r4 = run(data, size, mcl, maxpay, (int)(seed >> 2) % 3, seed, &t4);
    same(&r0, &t0, &r4, &t4);
    free(t4.buf);

    if (t0.calls > 0) {
        trace  t3 = { .stop_after = 1 + (int)(rnd(&seed) % (uint32_t)t0.calls) };
        result r3 = run(data, size, mcl, maxpay, 1, seed, &t3);
        CHECK(r3.rc == MN_ECLOSED && r3.err == NULL);
        CHECK(t3.calls == t3.stop_after);
        CHECK(t3.len <= t0.len && memcmp(t3.buf, t0.buf, t3.len) == 0);
        free(t3.buf);
    }
    free(t0.buf);
    free(t1.buf);
    free(t2.buf);
    return 0;
}
