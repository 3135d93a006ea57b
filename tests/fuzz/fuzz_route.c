/*
 * fuzz_route.c - libFuzzer target for the cluster module's route protocol
 * parser (modules/cluster/cl_proto.c, compiled alone into this target).
 *
 * cl_proto_feed() calls back into the rest of the module (cl_on_info,
 * cl_on_rmsg, ...); here those callbacks are stand-ins that check what
 * the parser hands them (payload sizes, queue lengths, tokens) and fold it
 * into a trace hash.  The module's host API is a table whose only entry,
 * log, formats its message as the core would.
 *
 * Input: byte 0 picks how many of the next bytes are chunk sizes; the
 * rest is the stream.  It is fed once whole and once cut at those sizes:
 * both must produce the same callbacks, the same verdict, and keep the
 * same unparsed tail.  An error must come back as -1, never a crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"

cl_global g_cl;

typedef struct trace {
    uint64_t hash;
    size_t   events;
} trace;

static trace *g_trace;

static void fold(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        g_trace->hash = (g_trace->hash ^ b[i]) * 0x100000001b3ull;
}

static void event(const char *what, const char *s)
{
    g_trace->events++;
    fold(what, strlen(what) + 1);
    if (s)
        fold(s, strlen(s) + 1);
}

/* A token from the parser's splitter: non-empty, no blanks. */
static void check_token(const char *s)
{
    if (!s || !*s || strpbrk(s, " \t"))
        abort();
}

/* MN_FUZZ_ROUTE_NO_LOG=1 skips the formatting, to look past a known
 * report in a log argument and on into the parser. */
static bool g_no_log;

static void stub_log(modnats_module *m, int level, const char *fmt, ...)
{
    (void)m; (void)level;
    if (g_no_log)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
}

static const modnats_host_api g_api = { .size = sizeof g_api, .log = stub_log };

/* ---- the rest of the module, as the parser sees it */

int cl_on_info(cl_route *r, const char *json) { (void)r; event("INFO", json); return 0; }
int cl_on_connect(cl_route *r, const char *json) { (void)r; event("CONNECT", json); return 0; }
void cl_on_ping(cl_route *r) { (void)r; event("PING", NULL); }
void cl_on_pong(cl_route *r) { (void)r; event("PONG", NULL); }
void cl_interest_recheck_export(cl_route *r) { (void)r; }   /* reloads: not fuzzed here */
void cl_on_err(cl_route *r, const char *text) { (void)r; event("ERR", text); }

int cl_on_rsub(cl_route *r, const char *acc, const char *subject, const char *queue,
               int weight)
{
    (void)r;
    check_token(acc);
    check_token(subject);
    if (queue)
        check_token(queue);
    if (weight < 1)
        abort();
    event("RS+", acc);
    event(subject, queue);
    fold(&weight, sizeof weight);
    return 0;
}

int cl_on_runsub(cl_route *r, const char *acc, const char *subject, const char *queue)
{
    (void)r;
    check_token(acc);
    check_token(subject);
    if (queue)
        check_token(queue);
    event("RS-", acc);
    event(subject, queue);
    return 0;
}

int cl_on_rmsg(cl_route *r, const char *acc, const char *subject, const char *reply,
               const char *const *queues, const size_t *qlens, size_t nq, bool listed,
               const char *payload, size_t hdr_len, size_t total)
{
    (void)r;
    check_token(acc);
    check_token(subject);
    if (reply)
        check_token(reply);
    if (hdr_len > total || !payload || nq > 256 || (nq && (!queues || !qlens)))
        abort();
    for (size_t i = 0; i < nq; i++) {
        check_token(queues[i]);
        if (strlen(queues[i]) != qlens[i])
            abort();
    }
    /* The payload is exactly total bytes, then the CRLF that closed it. */
    if (payload[total] != '\r' || payload[total + 1] != '\n')
        abort();
    event("RMSG", acc);
    event(subject, reply);
    for (size_t i = 0; i < nq; i++)
        event("q", queues[i]);
    fold(&listed, sizeof listed);
    fold(&hdr_len, sizeof hdr_len);
    fold(&total, sizeof total);
    fold(payload, total);
    return 0;
}

/* ---- the target */

typedef struct outcome {
    trace  t;
    int    rc;
    size_t kept;        /* unparsed bytes left in the route's buffer */
} outcome;

/* Each chunk in its own exactly-sized allocation, as a read would leave it,
 * so that a read past the chunk is a sanitizer report. */
static int feed_chunk(cl_route *r, const uint8_t *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    if (!c)
        abort();
    memcpy(c, p, n);
    int rc = cl_proto_feed(r, c, n);
    free(c);
    if (rc != 0 && rc != -1)
        abort();
    return rc;
}

static outcome run(const uint8_t *s, size_t n, const uint8_t *cuts, size_t ncuts)
{
    outcome o = { { 0xcbf29ce484222325ull, 0 }, 0, 0 };
    cl_route r;
    memset(&r, 0, sizeof r);
    g_trace = &o.t;
    size_t off = 0, i = 0;
    while (off < n && o.rc == 0) {
        size_t len = ncuts ? (size_t)cuts[i++ % ncuts] + 1 : n;
        if (len > n - off)
            len = n - off;
        o.rc = feed_chunk(&r, s + off, len);
        off += len;
    }
    if (r.rlen > r.rcap || (r.rlen && !r.rbuf))
        abort();
    o.kept = o.rc == 0 ? r.rlen : 0;
    free(r.rbuf);
    return o;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    g_cl.api = &g_api;
    g_no_log = getenv("MN_FUZZ_ROUTE_NO_LOG") != NULL;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t ncuts = data[0] % 16;
    if (ncuts > size - 1)
        ncuts = size - 1;
    const uint8_t *cuts = data + 1;
    const uint8_t *s = data + 1 + ncuts;
    size_t n = size - 1 - ncuts;

    outcome whole = run(s, n, NULL, 0);
    outcome parts = run(s, n, cuts, ncuts);
    if (whole.rc != parts.rc || whole.kept != parts.kept ||
        whole.t.hash != parts.t.hash || whole.t.events != parts.t.events)
        abort();   /* where the reads fall must not change what is parsed */
    return 0;
}
